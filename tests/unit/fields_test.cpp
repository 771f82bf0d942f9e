#include "api/fields.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "api/types.h"

namespace corral {
namespace fields_test {

Json parse(const char* text) { return *parse_json(text); }

std::vector<Cause> decode_errors(const Json& j) {
  auto r = decode_strict<VMSet>(j, "VMSet");
  if (r.ok()) return {};
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  return r.error().causes;
}

TEST(Fields, DecodesAWholeObject) {
  auto r = decode_strict<VMSet>(parse(R"({
    "metadata": {"name": "frontend", "labels": {"app": "web"}},
    "spec": {"pool": "web", "replicas": 6,
             "spread": {"topologyKey": "zone"},
             "disruption": {"maxUnavailable": "25%"},
             "template": {"spec": {"resources": {"cpu": "2", "memory": "4Gi"},
                                   "runtime": {"driver": "sim"}}}}
  })"),
                                "VMSet");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->metadata.name, "frontend");
  EXPECT_EQ(r->metadata.labels.at("app"), "web");
  EXPECT_EQ(r->spec.replicas, 6);
  ASSERT_TRUE(r->spec.spread.has_value());
  EXPECT_EQ(r->spec.spread->topologyKey, "zone");
  EXPECT_EQ(r->spec.spread->maxSkew, 1);  // the member initialiser survives
  EXPECT_FALSE(r->spec.antiAffinity.has_value());
  EXPECT_EQ(r->spec.disruption.maxUnavailable, (IntOrString{true, 0, "25%"}));
  EXPECT_EQ(r->spec.templ.spec.resources.memory.milli, (int64_t{4} << 30) * 1000);
  EXPECT_EQ(r->spec.templ.spec.runtime.driver, "sim");
  EXPECT_EQ(r->spec.templ.spec.restartPolicy, "Always");
}

TEST(Fields, ReportsUnknownFieldWithFullPath) {
  auto errs = decode_errors(parse(R"({"spec": {"template": {"spec": {"resourcez": {}}}}})"));
  std::vector<Cause> want = {{"spec.template.spec.resourcez", "unknown field \"resourcez\"", ""}};
  EXPECT_EQ(errs, want);
}

TEST(Fields, ReportsWrongType) {
  auto errs = decode_errors(parse(R"({"spec": {"replicas": "six"}})"));
  std::vector<Cause> want = {{"spec.replicas", "expected an integer, got string", ""}};
  EXPECT_EQ(errs, want);
  auto r = decode_strict<VMSet>(parse(R"({"spec": {"replicas": "six"}})"), "VMSet \"x\"");
  EXPECT_EQ(r.error().message,
            "VMSet \"x\" is invalid: spec.replicas: expected an integer, got string");
}

TEST(Fields, ReportsEveryErrorAtOnce) {
  auto errs = decode_errors(parse(R"({
    "metadata": {"name": 7, "labels": {"app": true}},
    "spec": {"replicas": 1.5, "pool": ["web"], "fencing": null, "extra": 1,
             "template": {"spec": {"resources": {"cpu": "two"}, "tolerations": [{}, {"op": "x"}]}}},
    "bogus": {}
  })"));
  std::vector<Cause> want = {
      {"metadata.name", "expected a string, got integer", ""},
      {"metadata.labels.app", "expected a string, got boolean", ""},
      {"spec.pool", "expected a string, got array", ""},
      {"spec.replicas", "expected an integer, got number", ""},
      {"spec.template.spec.resources.cpu",
       "invalid quantity \"two\": must start with a number, like 500m, 2, 1.5 or 4Gi", ""},
      {"spec.template.spec.tolerations[1].op", "unknown field \"op\"", ""},
      {"spec.extra", "unknown field \"extra\"", ""},
      {"bogus", "unknown field \"bogus\"", ""},
  };
  EXPECT_EQ(errs, want);
}

TEST(Fields, NullMeansAbsent) {
  auto r = decode_strict<VMSet>(parse(R"({"spec": {"pool": null, "spread": null}})"), "VMSet");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.pool, "");
  EXPECT_FALSE(r->spec.spread.has_value());
}

TEST(Fields, ChecksStructListAndMapShapes) {
  auto errs = decode_errors(
      parse(R"({"metadata": [], "spec": {"template": {"spec": {"tolerations": {}}}}})"));
  std::vector<Cause> want = {
      {"metadata", "expected an object, got array", ""},
      {"spec.template.spec.tolerations", "expected a list, got object", ""},
  };
  EXPECT_EQ(errs, want);
  errs = decode_errors(parse(R"({"metadata": {"labels": ["a"]}})"));
  EXPECT_EQ(errs, (std::vector<Cause>{{"metadata.labels", "expected a map, got array", ""}}));
}

TEST(Fields, IntegersAcceptWholeFloatsAndCheckRange) {
  auto r = decode_strict<VMSet>(parse(R"({"spec": {"replicas": 3.0}})"), "VMSet");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.replicas, 3);
  auto errs = decode_errors(parse(R"({"spec": {"replicas": 4294967296}})"));
  EXPECT_EQ(errs, (std::vector<Cause>{{"spec.replicas", "must fit in 32 bits", ""}}));
}

TEST(Fields, QuantityAcceptsNumbers) {
  auto r = decode_strict<VMSet>(
      parse(R"({"spec": {"template": {"spec": {"resources": {"cpu": 2, "memory": 0.5}}}}})"),
      "VMSet");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->spec.templ.spec.resources.cpu.milli, 2000);
  EXPECT_EQ(r->spec.templ.spec.resources.cpu.text, "2");
  EXPECT_EQ(r->spec.templ.spec.resources.memory.milli, 500);
  auto errs =
      decode_errors(parse(R"({"spec": {"template": {"spec": {"resources": {"cpu": true}}}}})"));
  EXPECT_EQ(errs,
            (std::vector<Cause>{{"spec.template.spec.resources.cpu",
                                 "expected a quantity such as 500m, 2 or 4Gi, got boolean", ""}}));
}

TEST(Fields, IntOrStringTakesEither) {
  auto r =
      decode_strict<VMSet>(parse(R"({"spec": {"disruption": {"maxUnavailable": 2}}})"), "VMSet");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->spec.disruption.maxUnavailable, (IntOrString{false, 2, ""}));
  auto errs = decode_errors(parse(R"({"spec": {"disruption": {"maxUnavailable": [1]}}})"));
  EXPECT_EQ(errs, (std::vector<Cause>{
                      {"spec.disruption.maxUnavailable", "expected an integer, got array", ""}}));
}

TEST(Fields, EncoderOmitsEmptyValues) {
  VMSet v;
  v.metadata.name = "frontend";
  Json j = encode_value(v);
  // Strings, maps, lists and unset optionals are left out ...
  EXPECT_FALSE(j["metadata"].contains("uid"));
  EXPECT_FALSE(j["metadata"].contains("labels"));
  EXPECT_FALSE(j["metadata"].contains("ownerReferences"));
  EXPECT_FALSE(j["spec"].contains("pool"));
  EXPECT_FALSE(j["spec"].contains("spread"));
  EXPECT_FALSE(j["spec"]["template"]["spec"].contains("resources"));
  EXPECT_FALSE(j["spec"]["template"]["spec"]["runtime"].contains("sim"));
  EXPECT_FALSE(j["spec"]["template"].contains("metadata"));
  // ... numbers and booleans are always written.
  EXPECT_EQ(j["metadata"]["generation"], 0);
  EXPECT_EQ(j["spec"]["replicas"], 1);
  EXPECT_EQ(j["spec"]["disruption"]["maxUnavailable"], 1);
  EXPECT_FALSE(j["spec"].contains("templ"));  // the JSON name is "template"
  EXPECT_EQ(j["spec"]["template"]["spec"]["runtime"]["driver"], "process");
}

TEST(Fields, EncoderWritesSetOptionals) {
  VMSet v;
  v.spec.antiAffinity = AntiAffinity{};
  Json j = encode_value(v);
  ASSERT_TRUE(j["spec"].contains("antiAffinity"));
  EXPECT_EQ(j["spec"]["antiAffinity"], parse(R"({"mode": "required"})"));
}

TEST(Fields, EncodeThenDecodeRoundTrips) {
  VMSet v;
  v.metadata.name = "frontend";
  v.metadata.labels = {{"app", "web"}};
  v.spec.pool = "web";
  v.spec.replicas = 3;
  v.spec.spread = SpreadPolicy{"zone", 2};
  v.spec.templ.spec.resources = {*parse_quantity("500m"), *parse_quantity("1Gi")};
  v.spec.templ.spec.tolerations = {{"gpu", "Exists", "", ""}};
  Json j = encode_value(v);
  auto back = decode_strict<VMSet>(j, "VMSet");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(encode_value(*back), j);
  EXPECT_EQ(j["spec"]["template"]["spec"]["resources"],
            parse(R"({"cpu": "500m", "memory": "1Gi"})"));
}

TEST(Fields, PathsJoinAndIndex) {
  EXPECT_EQ(join_path("", "spec"), "spec");
  EXPECT_EQ(join_path("spec", "replicas"), "spec.replicas");
  EXPECT_EQ(index_path("spec.rules", 2), "spec.rules[2]");
}

}  // namespace fields_test
}  // namespace corral
