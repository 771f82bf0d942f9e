// Values from outside that the fuzzers (tests/fuzz) found crashing or
// overflowing: each must be refused, never thrown or overflowed.
#include <gtest/gtest.h>

#include <chrono>

#include "api/json.h"
#include "api/yaml.h"
#include "base/clock.h"

namespace corral {
namespace parse_hostile_values_test {

// fuzz_json_object, fuzz_agent_state: nlohmann throws out_of_range (not a
// parse_error) for a number it cannot hold; parse_json let it escape.
TEST(ParseJson, NumbersTooLargeToHoldAreRefusedNotThrown) {
  for (const char* text : {"1e999", R"({"startTime":1e3456})", "-1e400"}) {
    auto parsed = parse_json(text, "body");
    ASSERT_FALSE(parsed.ok()) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(parsed.error().message.rfind("body: malformed JSON: ", 0), 0u)
        << parsed.error().message;
  }
}

// fuzz_heartbeat: year 0026 overflowed system_clock's 64-bit nanoseconds
// (undefined behaviour) when an agent reported it as its time.
TEST(ParseTime, YearsOutsideTheClocksRangeAndBadFieldsAreRefused) {
  std::chrono::system_clock::time_point t;
  for (const char* text : {"0026-12-02T10:00:00Z", "9999-01-01T00:00:00Z", "2026-13-01T00:00:00Z",
                           "2026-12-32T00:00:00Z", "2026-12-02T24:00:00Z", "2026-12-02T10:60:00Z"}) {
    EXPECT_FALSE(parse_time(text, &t)) << text;
  }
  ASSERT_TRUE(parse_time("2026-12-02T10:00:00.250Z", &t));
  EXPECT_EQ(format_time(t), "2026-12-02T10:00:00.250Z");
}

// Manifests must be UTF-8 (YAML is Unicode text); anything else is refused,
// with where, before yaml-cpp sees it.
TEST(ParseYaml, TextThatIsNotUtf8IsRefusedWithItsPlace) {
  for (const char* text : {"kind: VM\nname: a\xff\n", "kind: \xc0\x80\n", "x: \xed\xa0\x80\n",
                           "x: \xf4\x90\x80\x80\n", "x: \xe2\x82"}) {
    auto docs = parse_yaml_documents(text, "m.yaml");
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_NE(docs.error().message.find("not UTF-8"), std::string::npos) << docs.error().message;
  }
  auto docs = parse_yaml_documents("kind: VM\nname: a\xff\n", "m.yaml");
  EXPECT_EQ(docs.error().message.rfind("m.yaml:2:8: ", 0), 0u) << docs.error().message;
  auto ok = parse_yaml_documents("name: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x84\n", "m.yaml");
  EXPECT_TRUE(ok.ok()) << "UTF-8 of 2, 3 and 4 bytes is fine";
}

// fuzz_manifest: yaml-cpp 0.7's LoadAll() looped for ever, allocating an empty
// document per turn, on a ',' at block level (23 GiB in under two minutes).
// Each is now refused at the comma's place; valid neighbours still parse.
TEST(ParseYaml, StrayCommaAtBlockLevelIsRefusedWithItsPlaceNotLoopedOn) {
  struct Case {
    const char* text;
    const char* where;
  };
  // The inputs that looped: each is refused at the comma's own place.
  for (const Case& c : {Case{",a", "m.yaml:1:1: "}, Case{" ,a", "m.yaml:1:2: "},
                        Case{"# c\n,a", "m.yaml:2:1: "}, Case{",,sha,,,", "m.yaml:1:1: "},
                        Case{"kind: VM\n---\n,a\n", "m.yaml:3:1: "}}) {
    auto docs = parse_yaml_documents(c.text, "m.yaml");
    ASSERT_FALSE(docs.ok()) << c.text;
    EXPECT_EQ(docs.error().code, ErrorCode::kBadRequest);
    EXPECT_EQ(docs.error().message.rfind(c.where, 0), 0u) << c.text << " → " << docs.error().message;
    EXPECT_NE(docs.error().message.find("','"), std::string::npos) << docs.error().message;
  }
  // Neighbours yaml-cpp itself refuses (a comma after a flow node, a plain
  // scalar starting with ','): still refused with a place, and they return.
  for (const char* text : {"\"x\",a", "'x',a", "[a],b", "{a: b},c", "k: ,a\n", "- ,a\n"}) {
    auto docs = parse_yaml_documents(text, "m.yaml");
    ASSERT_FALSE(docs.ok()) << text;
    EXPECT_EQ(docs.error().message.rfind("m.yaml:1:", 0), 0u) << text << " → " << docs.error().message;
  }
  for (const char* text : {"k: [a, b]\n", "---\n---\nk: v\n", "k: |\n  ,a\n", "k: \"x,y\"\n",
                           "k: a ,b\n"}) {
    EXPECT_TRUE(parse_yaml_documents(text, "m.yaml").ok()) << text;
  }
}

}  // namespace parse_hostile_values_test
}  // namespace corral
