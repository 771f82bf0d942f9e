#include "cli/apply.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace apply_test {

using testing::CliHarness;
using testing::TempDir;
using testing::write_file;

const char* kPool = R"(apiVersion: corral/v1
kind: Pool
metadata:
  name: web
  labels: {tier: web}
spec:
  placement: binpack
)";

const char* kVMSet = R"(apiVersion: corral/v1
kind: VMSet
metadata: {name: frontend}
spec:
  pool: web
  replicas: 3
  template:
    metadata: {labels: {app: frontend}}
    spec:
      resources: {cpu: "1", memory: 1Gi}
      runtime: {driver: sim}
)";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  s.replace(s.find(from), from.size(), to);
  return s;
}

class ApplyTest : public ::testing::Test {
 protected:
  int apply(const std::vector<std::string>& files) {
    h_.out.str("");
    h_.err.str("");
    return run_apply(h_.ctx, {files});
  }
  CliHarness h_;
  TempDir dir_;
};

TEST_F(ApplyTest, CreatesObjectsThatDoNotExist) {
  write_file(dir_.file("all.yaml"), std::string(kPool) + "---\n" + kVMSet);
  EXPECT_EQ(apply({dir_.file("all.yaml")}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "pool/web created\nvmset/frontend created\n");
  EXPECT_EQ(h_.client.calls, (std::vector<std::string>{"get pools/web", "create pools/web",
                                                       "get vmsets/frontend", "create vmsets/frontend"}));
  // Defaults were applied before sending: the server gets the canonical form.
  EXPECT_EQ(h_.client.objects["vmsets"]["frontend"]["spec"]["template"]["spec"]["restartPolicy"], "Always");
}

TEST_F(ApplyTest, AnOldSpellingIsAppliedInTheNewOneWithAWarning) {
  write_file(dir_.file("p.yaml"), replace(kPool, "binpack", "least-loaded"));
  EXPECT_EQ(apply({dir_.file("p.yaml")}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "pool/web created\n");
  EXPECT_EQ(h_.err.str(), "Warning: " + dir_.file("p.yaml") +
                              ":7:3: spec.placement: \"least-loaded\" is deprecated, use \"leastLoaded\"\n");
  EXPECT_EQ(h_.client.objects["pools"]["web"]["spec"]["placement"], "leastLoaded");
}

TEST_F(ApplyTest, SameManifestAgainIsUnchangedAndWritesNothing) {
  write_file(dir_.file("a.yaml"), std::string(kPool) + "---\n" + kVMSet);
  ASSERT_EQ(apply({dir_.file("a.yaml")}), 0);
  size_t writes = h_.client.writes();
  EXPECT_EQ(apply({dir_.file("a.yaml")}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "pool/web unchanged\nvmset/frontend unchanged\n");
  EXPECT_EQ(h_.client.writes(), writes);
}

TEST_F(ApplyTest, StatusAndServerMetadataDoNotCountAsChanges) {
  write_file(dir_.file("p.yaml"), kPool);
  ASSERT_EQ(apply({dir_.file("p.yaml")}), 0);
  Json& live = h_.client.objects["pools"]["web"];
  live["status"]["readyNodes"] = 4;
  live["metadata"]["generation"] = 7;
  EXPECT_EQ(apply({dir_.file("p.yaml")}), 0);
  EXPECT_EQ(h_.out.str(), "pool/web unchanged\n");
}

TEST_F(ApplyTest, ChangedSpecIsConfiguredWithTheLiveResourceVersion) {
  write_file(dir_.file("v.yaml"), kVMSet);
  ASSERT_EQ(apply({dir_.file("v.yaml")}), 0);
  std::string rv = h_.client.objects["vmsets"]["frontend"]["metadata"]["resourceVersion"];
  write_file(dir_.file("v.yaml"), replace(kVMSet, "replicas: 3", "replicas: 5"));
  EXPECT_EQ(apply({dir_.file("v.yaml")}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "vmset/frontend configured\n");
  EXPECT_EQ(h_.client.calls.back(), "replace vmsets/frontend rv=" + rv);
  EXPECT_EQ(h_.client.objects["vmsets"]["frontend"]["spec"]["replicas"], 5);
}

TEST_F(ApplyTest, ChangedLabelsAreConfigured) {
  write_file(dir_.file("p.yaml"), kPool);
  ASSERT_EQ(apply({dir_.file("p.yaml")}), 0);
  write_file(dir_.file("p.yaml"), replace(kPool, "tier: web", "tier: edge"));
  EXPECT_EQ(apply({dir_.file("p.yaml")}), 0);
  EXPECT_EQ(h_.out.str(), "pool/web configured\n");
}

TEST_F(ApplyTest, ConflictIsRetriedOnceWithTheFreshObject) {
  write_file(dir_.file("v.yaml"), kVMSet);
  ASSERT_EQ(apply({dir_.file("v.yaml")}), 0);
  write_file(dir_.file("v.yaml"), replace(kVMSet, "replicas: 3", "replicas: 4"));
  h_.client.fail["replace vmsets/frontend"] = {
      make_error(ErrorCode::kConflict, "the object has been modified")};
  EXPECT_EQ(apply({dir_.file("v.yaml")}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "vmset/frontend configured\n");
  size_t replaces = 0;
  for (const auto& c : h_.client.calls) replaces += c.rfind("replace ", 0) == 0;
  EXPECT_EQ(replaces, 2u);
}

TEST_F(ApplyTest, SecondConflictIsAnError) {
  write_file(dir_.file("v.yaml"), kVMSet);
  ASSERT_EQ(apply({dir_.file("v.yaml")}), 0);
  write_file(dir_.file("v.yaml"), replace(kVMSet, "replicas: 3", "replicas: 4"));
  h_.client.fail["replace vmsets/frontend"] = {make_error(ErrorCode::kConflict, "modified"),
                                               make_error(ErrorCode::kConflict, "modified")};
  EXPECT_EQ(apply({dir_.file("v.yaml")}), 1);
  EXPECT_NE(h_.err.str().find("error: vmset/frontend: modified"), std::string::npos) << h_.err.str();
}

TEST_F(ApplyTest, OneBadDocumentMeansNoWritesAtAllAndEveryErrorIsReported) {
  write_file(dir_.file("a-good.yaml"), kPool);
  write_file(dir_.file("b-bad.yaml"), replace(kVMSet, "replicas: 3", "replicas: -1"));
  write_file(dir_.file("c-bad.yaml"),
             replace(replace(kPool, "placement: binpack", "placement: binpack\n  colour: blue"), "name: web",
                     "name: edge"));
  EXPECT_EQ(apply({dir_.path().string()}), 1);
  EXPECT_EQ(h_.client.writes(), 0u);
  EXPECT_TRUE(h_.client.calls.empty());
  std::string err = h_.err.str();
  EXPECT_EQ(err.rfind("error: ", 0), 0u) << err;
  EXPECT_NE(err.find("b-bad.yaml:6:3: spec.replicas"), std::string::npos) << err;  // replicas
  // Each problem once, although the message itself may list them.
  EXPECT_EQ(err.find("spec.replicas"), err.rfind("spec.replicas")) << err;
  EXPECT_NE(err.find("c-bad.yaml:8:3: spec.colour"), std::string::npos) << err;
}

TEST_F(ApplyTest, MalformedYamlNamesFileLineAndColumn) {
  write_file(dir_.file("bad.yaml"), "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: [web\n");
  EXPECT_EQ(apply({dir_.file("bad.yaml")}), 1);
  EXPECT_NE(h_.err.str().find("bad.yaml:"), std::string::npos) << h_.err.str();
  EXPECT_EQ(h_.client.writes(), 0u);
}

TEST_F(ApplyTest, ReadsStandardInput) {
  h_.in.str(kPool);
  EXPECT_EQ(apply({"-"}), 0) << h_.err.str();
  EXPECT_EQ(h_.out.str(), "pool/web created\n");
}

TEST_F(ApplyTest, ServerErrorForOneObjectDoesNotStopTheOthers) {
  write_file(dir_.file("a.yaml"), std::string(kPool) + "---\n" + kVMSet);
  h_.client.fail["create pools/web"] = {make_error(ErrorCode::kForbidden, "viewer may not create pools")};
  EXPECT_EQ(apply({dir_.file("a.yaml")}), 1);
  EXPECT_EQ(h_.out.str(), "vmset/frontend created\n");
  EXPECT_NE(h_.err.str().find("viewer may not create pools"), std::string::npos);
}

TEST(DecideApply, BoundVMStaysUnchanged) {
  Json desired = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"a"},
                                 "spec":{"restartPolicy":"Always","epoch":0}})");
  Json live = desired;
  live["spec"]["nodeName"] = "host-1";
  live["spec"]["epoch"] = 2;
  live["metadata"]["resourceVersion"] = "9";
  EXPECT_EQ(decide_apply(desired, &live), ApplyAction::kUnchanged);
  EXPECT_EQ(decide_apply(desired, nullptr), ApplyAction::kCreate);
  desired["spec"]["restartPolicy"] = "Never";
  EXPECT_EQ(decide_apply(desired, &live), ApplyAction::kConfigure);
}

}  // namespace apply_test
}  // namespace corral::cli
