// JsonObjectMap (api/json_object_map.h): Json objects keep the order their
// fields were written in, and growing one moves its values instead of
// copying them.
#include <gtest/gtest.h>

#include <string>

#include "api/json.h"

namespace corral {
namespace {

TEST(JsonObjectMap, FieldsKeepTheOrderWrittenThroughManyGrowths) {
  Json j = Json::object();
  for (int i = 40; i > 0; --i) j["k" + std::to_string(i)] = {{"nested", {{"n", i}}}, {"list", {i, i}}};
  ASSERT_EQ(j.size(), 40u);
  int expected = 40;
  for (const auto& [key, value] : j.items()) {
    EXPECT_EQ(key, "k" + std::to_string(expected));
    EXPECT_EQ(value["nested"]["n"], expected);
    --expected;
  }
}

TEST(JsonObjectMap, ParsedObjectsPrintInTheirOrderAndRefuseNoDuplicates) {
  const std::string text = R"({"z":1,"a":{"y":[1,{"b":2}],"x":"s"},"m":null,"a2":true})";
  Json j = Json::parse(text);
  EXPECT_EQ(j.dump(), text);
  // A repeated key keeps its first place, with the later value (as ordered_json).
  EXPECT_EQ(Json::parse(R"({"a":1,"b":2,"a":3})").dump(), R"({"a":3,"b":2})");
}

TEST(JsonObjectMap, EmplaceAndInsertOfAnExistingKeyChangeNothing) {
  Json j = {{"a", 1}, {"b", 2}};
  auto& object = j.get_ref<Json::object_t&>();
  EXPECT_FALSE(object.emplace("a", Json(5)).second);
  EXPECT_FALSE(object.insert({"b", Json(6)}).second);
  EXPECT_TRUE(object.insert({"c", Json(7)}).second);
  EXPECT_EQ(j.dump(), R"({"a":1,"b":2,"c":7})");
}

TEST(JsonObjectMap, CopiesAreDeepAndErasesKeepTheRest) {
  Json a = Json::parse(R"({"one":{"x":1},"two":[1,2],"three":"3"})");
  Json b = a;
  b["one"]["x"] = 2;
  b.erase("two");
  EXPECT_EQ(a.dump(), R"({"one":{"x":1},"two":[1,2],"three":"3"})");
  EXPECT_EQ(b.dump(), R"({"one":{"x":2},"three":"3"})");
  const Json& c = a;
  EXPECT_EQ(c["three"], "3");  // const operator[] reads
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace corral
