// corralctl patch, label, annotate and scale against the fake client.
#include "cli/patch_commands.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace patch_commands_test {

using testing::CliHarness;

Json vmset(const std::string& name, int replicas) {
  Json v = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"","labels":{"tier":"web"}},
    "spec":{"pool":"web","replicas":1}})");
  v["metadata"]["name"] = name;
  v["spec"]["replicas"] = replicas;
  return v;
}

class PatchCommands : public ::testing::Test {
 protected:
  void SetUp() override { h_.client.put(vmset("web", 2)); }
  const Json& stored() { return h_.client.objects["vmsets"]["web"]; }
  CliHarness h_;
};

TEST_F(PatchCommands, PatchSendsTheTypeAskedForAndSaysWhatHappened) {
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset", "web"}, R"({"spec":{"replicas":4}})", "", "merge"}), kExitOk)
      << h_.err.str();
  EXPECT_EQ(stored()["spec"]["replicas"], 4);
  EXPECT_EQ(h_.out.str(), "vmset/web patched\n");
  // KIND/NAME, YAML, and kubectl's default type.
  EXPECT_EQ(run_patch(h_.ctx, {{"vmsets/web"}, "spec: {replicas: 5}", "", "strategic"}), kExitOk)
      << h_.err.str();
  EXPECT_EQ(stored()["spec"]["replicas"], 5);
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset", "web"}, R"([{"op":"replace","path":"/spec/pool","value":"db"}])",
                               "", "json"}),
            kExitOk);
  EXPECT_EQ(stored()["spec"]["pool"], "db");
}

TEST_F(PatchCommands, PatchRefusesWhatItCannotSendAndWritesNothing) {
  const size_t writes = h_.client.writes();
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset", "web"}, R"({"spec":{}})", "", "sideways"}), kExitError);
  EXPECT_NE(h_.err.str().find("--type \"sideways\""), std::string::npos) << h_.err.str();
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset", "web"}, "", "", "merge"}), kExitError);
  EXPECT_NE(h_.err.str().find("give the patch"), std::string::npos);
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset"}, "{}", "", "merge"}), kExitError);
  EXPECT_NE(h_.err.str().find("name"), std::string::npos);
  EXPECT_EQ(run_patch(h_.ctx, {{"widgets", "web"}, "{}", "", "merge"}), kExitError);
  EXPECT_EQ(run_patch(h_.ctx, {{"vmset", "missing"}, "{}", "", "merge"}), kExitError);
  EXPECT_EQ(h_.client.writes(), writes);
}

TEST_F(PatchCommands, LabelSetsAndRemovesAndWillNotOverwriteUnlessAsked) {
  EXPECT_EQ(run_label(h_.ctx, {{"vmset", "web", "team=blue", "tier-"}}), kExitOk) << h_.err.str();
  EXPECT_EQ(stored()["metadata"]["labels"], Json({{"team", "blue"}}));
  EXPECT_EQ(h_.out.str(), "vmset/web labeled\n");

  EXPECT_EQ(run_label(h_.ctx, {{"vmset/web", "team=red"}}), kExitError);
  EXPECT_NE(h_.err.str().find("'team' already has a value (blue), and --overwrite is false"),
            std::string::npos)
      << h_.err.str();
  EXPECT_EQ(stored()["metadata"]["labels"]["team"], "blue");
  EXPECT_EQ(run_label(h_.ctx, {{"vmset/web", "team=red"}, true}), kExitOk);
  EXPECT_EQ(stored()["metadata"]["labels"]["team"], "red");

  EXPECT_EQ(run_label(h_.ctx, {{"vmset", "web", "oops"}}), kExitError);
  EXPECT_NE(h_.err.str().find("want key=value"), std::string::npos);
  EXPECT_EQ(run_label(h_.ctx, {{"vmset", "web"}}), kExitError);
}

TEST_F(PatchCommands, LabelPinsTheVersionItChecked) {
  // Another writer changes the set between the check and the write.
  h_.client.fail["patch vmsets/web"] = {make_error(ErrorCode::kConflict, "the object has been modified")};
  EXPECT_EQ(run_label(h_.ctx, {{"vmset", "web", "team=blue"}}), kExitError);
  EXPECT_NE(h_.err.str().find("modified"), std::string::npos);
  EXPECT_FALSE(stored()["metadata"]["labels"].contains("team"));
}

TEST_F(PatchCommands, AnnotateWritesAnnotations) {
  EXPECT_EQ(run_label(h_.ctx, {{"vmset", "web", "note=hello world"}, false, true}), kExitOk);
  EXPECT_EQ(stored()["metadata"]["annotations"]["note"], "hello world");
  EXPECT_EQ(h_.out.str(), "vmset/web annotated\n");
}

TEST_F(PatchCommands, ScalePatchesTheScaleSubresource) {
  EXPECT_EQ(run_scale(h_.ctx, {{"vmset", "web"}, 7, -1}), kExitOk) << h_.err.str();
  EXPECT_EQ(stored()["spec"]["replicas"], 7);
  EXPECT_EQ(h_.out.str(), "vmset/web scaled\n");
  EXPECT_EQ(h_.client.calls.back(), "patch vmsets/web/scale");

  // --current-replicas: only from that count.
  EXPECT_EQ(run_scale(h_.ctx, {{"vmset/web"}, 1, 3}), kExitError);
  EXPECT_NE(h_.err.str().find("has 7 replicas, not --current-replicas 3"), std::string::npos)
      << h_.err.str();
  EXPECT_EQ(stored()["spec"]["replicas"], 7);
  EXPECT_EQ(run_scale(h_.ctx, {{"vmset/web"}, 1, 7}), kExitOk);
  EXPECT_EQ(stored()["spec"]["replicas"], 1);

  EXPECT_EQ(run_scale(h_.ctx, {{"pool", "web"}, 1, -1}), kExitError);
  EXPECT_NE(h_.err.str().find("only vmsets scale"), std::string::npos);
  EXPECT_EQ(run_scale(h_.ctx, {{"vmset", "web"}, -1, -1}), kExitError);
}

}  // namespace patch_commands_test
}  // namespace corral::cli
