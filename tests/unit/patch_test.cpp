// api/patch.h: the three PATCH body types Kubernetes clients send.
#include "api/patch.h"

#include <gtest/gtest.h>

#include "api/json.h"

namespace corral {
namespace {

Json parse(std::string_view text) { return *parse_json(text); }

Json patched(PatchType type, std::string_view target, std::string_view patch) {
  auto p = parse_patch(type, patch);
  EXPECT_TRUE(p) << p.error().message;
  auto out = apply_patch(type, parse(target), *p);
  EXPECT_TRUE(out) << out.error().message;
  return out ? *out : Json();
}

TEST(PatchTest, ContentTypesNameTheirPatchTypes) {
  EXPECT_EQ(*patch_type_from_content_type("application/merge-patch+json"), PatchType::kMerge);
  EXPECT_EQ(*patch_type_from_content_type("application/json-patch+json; charset=utf-8"),
            PatchType::kJson);
  EXPECT_EQ(*patch_type_from_content_type("Application/Strategic-Merge-Patch+JSON"),
            PatchType::kStrategic);
  auto json = patch_type_from_content_type("application/json");
  ASSERT_FALSE(json);
  EXPECT_EQ(json.error().code, ErrorCode::kUnsupportedMedia);
  EXPECT_NE(json.error().message.find("application/merge-patch+json"), std::string::npos);
  auto apply = patch_type_from_content_type("application/apply-patch+yaml");
  ASSERT_FALSE(apply);
  EXPECT_NE(apply.error().message.find("server-side apply"), std::string::npos);
}

// RFC 7386's own example (appendix A).
TEST(PatchTest, MergePatchFollowsRfc7386) {
  Json out = patched(PatchType::kMerge,
                     R"({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                         "tags":["example","sample"],"content":"This will be unchanged"})",
                     R"({"title":"Hello!","phoneNumber":"+01-123-456-7890",
                         "author":{"familyName":null},"tags":["example"]})");
  EXPECT_EQ(out, parse(R"({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                           "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"})"));
}

TEST(PatchTest, JsonPatchAppliesEveryOperation) {
  Json out = patched(PatchType::kJson,
                     R"({"metadata":{"labels":{"a":"1"}},"spec":{"replicas":1,"ports":[80]}})",
                     R"([{"op":"test","path":"/spec/replicas","value":1},
                         {"op":"replace","path":"/spec/replicas","value":3},
                         {"op":"add","path":"/metadata/labels/tier~1name","value":"web"},
                         {"op":"remove","path":"/metadata/labels/a"},
                         {"op":"add","path":"/spec/ports/-","value":443},
                         {"op":"copy","from":"/spec/replicas","path":"/spec/min"},
                         {"op":"move","from":"/spec/min","path":"/spec/floor"}])");
  EXPECT_EQ(out, parse(R"({"metadata":{"labels":{"tier/name":"web"}},
                           "spec":{"replicas":3,"ports":[80,443],"floor":3}})"));
}

TEST(PatchTest, AJsonPatchThatCannotApplyNamesItsOperation) {
  auto p = parse_patch(PatchType::kJson,
                       R"([{"op":"replace","path":"/spec/replicas","value":2},
                           {"op":"replace","path":"/spec/nothing","value":1}])");
  ASSERT_TRUE(p);
  auto out = apply_patch(PatchType::kJson, parse(R"({"spec":{"replicas":1}})"), *p);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(out.error().message.rfind("patch[1] (replace /spec/nothing): ", 0), 0u)
      << out.error().message;

  auto failed_test = parse_patch(PatchType::kJson, R"([{"op":"test","path":"/a","value":2}])");
  ASSERT_TRUE(failed_test);
  EXPECT_FALSE(apply_patch(PatchType::kJson, parse(R"({"a":1})"), *failed_test));
}

TEST(PatchTest, MalformedPatchesAreBadRequests) {
  EXPECT_EQ(parse_patch(PatchType::kJson, R"({"op":"add"})").error().code, ErrorCode::kBadRequest);
  auto no_path = parse_patch(PatchType::kJson, R"([{"op":"add","value":1}])");
  ASSERT_FALSE(no_path);
  EXPECT_NE(no_path.error().message.find("patch[0]"), std::string::npos);
  EXPECT_EQ(parse_patch(PatchType::kMerge, "[1]").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(parse_patch(PatchType::kStrategic, "{").error().code, ErrorCode::kBadRequest);
  EXPECT_EQ(parse_patch(PatchType::kMerge, "").error().code, ErrorCode::kBadRequest);
}

TEST(PatchTest, StrategicPatchMergesObjectsAndReplacesLists) {
  Json out = patched(PatchType::kStrategic,
                     R"({"metadata":{"labels":{"a":"1","b":"2"}},"spec":{"ports":[80,81],"x":1}})",
                     R"({"metadata":{"labels":{"b":null,"c":"3"}},"spec":{"ports":[443]}})");
  EXPECT_EQ(out, parse(R"({"metadata":{"labels":{"a":"1","c":"3"}},"spec":{"ports":[443],"x":1}})"));
}

TEST(PatchTest, StrategicDirectivesKubectlWrites) {
  // $patch: replace swaps the whole object; $patch: delete removes it.
  EXPECT_EQ(patched(PatchType::kStrategic, R"({"spec":{"a":1,"b":2},"keep":true})",
                    R"({"spec":{"$patch":"replace","c":3}})"),
            parse(R"({"spec":{"c":3},"keep":true})"));
  EXPECT_EQ(patched(PatchType::kStrategic, R"({"spec":{"a":1},"keep":true})",
                    R"({"spec":{"$patch":"delete"}})"),
            parse(R"({"keep":true})"));
  // $retainKeys keeps only the listed keys before merging.
  EXPECT_EQ(patched(PatchType::kStrategic, R"({"s":{"a":1,"b":2,"c":3}})",
                    R"({"s":{"$retainKeys":["a","d"],"d":4}})"),
            parse(R"({"s":{"a":1,"d":4}})"));
  // $deleteFromPrimitiveList removes values; $setElementOrder is only a hint.
  EXPECT_EQ(patched(PatchType::kStrategic, R"({"s":{"tags":["x","y","z"]}})",
                    R"({"s":{"$deleteFromPrimitiveList/tags":["y"],"$setElementOrder/tags":["z","x"]}})"),
            parse(R"({"s":{"tags":["x","z"]}})"));
}

TEST(PatchTest, StrategicDirectivesThatNeedMergeKeysAreRefused) {
  auto p = parse_patch(PatchType::kStrategic, R"({"spec":{"ports":[{"$patch":"delete","port":80}]}})");
  ASSERT_TRUE(p);
  auto out = apply_patch(PatchType::kStrategic, parse(R"({"spec":{"ports":[]}})"), *p);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::kBadRequest);
  EXPECT_NE(out.error().message.find("spec.ports"), std::string::npos) << out.error().message;

  auto unknown = parse_patch(PatchType::kStrategic, R"({"spec":{"$patch":"sideways"}})");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(apply_patch(PatchType::kStrategic, parse(R"({"spec":{}})"), *unknown));
  auto whole = parse_patch(PatchType::kStrategic, R"({"$patch":"delete"})");
  ASSERT_TRUE(whole);
  EXPECT_FALSE(apply_patch(PatchType::kStrategic, parse(R"({"a":1})"), *whole));
}

}  // namespace
}  // namespace corral
