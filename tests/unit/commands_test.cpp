// describe, delete, api-resources and version against the fake client.
#include <gtest/gtest.h>

#include "cli/delete.h"
#include "cli/describe.h"
#include "cli/discovery.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace {

using testing::CliHarness;

Json vmset() {
  return Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet",
    "metadata":{"name":"frontend","labels":{"app":"web","tier":"a"},"creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"pool":"web","replicas":3},
    "status":{"replicas":3,"conditions":[{"type":"Available","status":"True","reason":"AllRunning",
              "message":"3/3 running","lastTransitionTime":"2026-09-21T07:33:20.000Z"}]}})");
}

TEST(Describe, ShowsSectionsConditionsAndNoEvents) {
  CliHarness h;
  h.client.put(vmset());
  EXPECT_EQ(run_describe(h.ctx, {{"vmset", "frontend"}}), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_EQ(out.rfind("Name:         frontend\nKind:         VMSet\n"
                      "Labels:       app=web\n              tier=a\nAnnotations:  <none>\n",
                      0),
            0u)
      << out;
  EXPECT_NE(out.find("\nSpec:\n  pool: web\n  replicas: 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nStatus:\n  replicas: 3\n"), std::string::npos) << out;
  EXPECT_NE(out.find("\nConditions:\n  TYPE        STATUS   REASON       MESSAGE       AGE\n"
                     "  Available   True     AllRunning   3/3 running   "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("\nEvents:       <none>\n"), std::string::npos) << out;
  EXPECT_EQ(h.client.calls.back(), "list events f=involvedObject.kind=VMSet,involvedObject.name=frontend");
}

TEST(Describe, ListsEventsOldestFirst) {
  Json ev1 = {{"kind", "Event"},
              {"type", "Normal"},
              {"reason", "Scaled"},
              {"message", "to 3"},
              {"lastTimestamp", "2026-09-21T07:34:00.000Z"},
              {"count", 2}};
  Json ev0 = {{"kind", "Event"},
              {"type", "Warning"},
              {"reason", "NoFit"},
              {"message", "0/2 nodes"},
              {"lastTimestamp", "2026-09-21T07:33:30.000Z"}};
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:35:00Z", &now));
  std::string out = describe_object(*find_kind("vmset"), vmset(), {ev0, ev1}, now);
  EXPECT_NE(out.find("Events:\n  LAST-SEEN   TYPE      REASON   FROM   MESSAGE\n"
                     "  90s         Warning   NoFit           0/2 nodes\n"
                     "  60s (x2)    Normal    Scaled          to 3\n"),
            std::string::npos)
      << out;
}

TEST(Describe, MissingObjectIsAnError) {
  CliHarness h;
  EXPECT_EQ(run_describe(h.ctx, {{"pool", "nope"}}), 1);
  EXPECT_EQ(h.err.str(), "error: pools \"nope\" not found\n");
}

TEST(Delete, DeletesEachNameAndReportsMissingOnes) {
  CliHarness h;
  h.client.put(vmset());
  EXPECT_EQ(run_delete(h.ctx, {{}, {"vmsets", "frontend", "ghost"}}), 1);
  EXPECT_EQ(h.out.str(), "vmset \"frontend\" deleted\n");
  EXPECT_EQ(h.err.str(), "error: vmsets \"ghost\" not found\n");
  EXPECT_TRUE(h.client.objects["vmsets"].empty());
}

TEST(Delete, FromAManifestNeedsOnlyKindAndName) {
  CliHarness h;
  h.client.put(vmset());
  testing::TempDir dir;
  testing::write_file(
      dir.file("v.yaml"),
      "apiVersion: corral/v1\nkind: VMSet\nmetadata: {name: frontend}\nspec: {replicas: -1}\n");
  EXPECT_EQ(run_delete(h.ctx, {{dir.file("v.yaml")}, {}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "vmset \"frontend\" deleted\n");
}

TEST(Delete, UnknownKindInAManifestDeletesNothing) {
  CliHarness h;
  h.client.put(vmset());
  testing::TempDir dir;
  testing::write_file(dir.file("v.yaml"),
                      "apiVersion: corral/v1\nkind: VMSet\nmetadata: {name: frontend}\n---\n"
                      "apiVersion: corral/v1\nkind: Gizmo\nmetadata: {name: g}\n");
  EXPECT_EQ(run_delete(h.ctx, {{dir.file("v.yaml")}, {}}), 1);
  EXPECT_EQ(h.client.writes(), 0u);
  EXPECT_NE(h.err.str().find("unknown kind \"Gizmo\""), std::string::npos) << h.err.str();
}

TEST(ApiResources, TableFromDiscovery) {
  CliHarness h;
  EXPECT_EQ(run_api_resources(h.ctx), 0);
  std::string out = h.out.str();
  EXPECT_EQ(out.rfind("NAME        SHORTNAMES   APIVERSION   NAMESPACED   KIND\n"
                      "nodes       no           corral/v1    false        Node\n",
                      0),
            0u)
      << out;
}

TEST(Version, ClientOnlyDoesNotAskTheServer) {
  CliHarness h;
  EXPECT_EQ(run_version(h.ctx, {true}), 0);
  EXPECT_EQ(h.out.str(), std::string("Client Version: ") + CORRAL_VERSION + "\n");
  EXPECT_TRUE(h.client.calls.empty());
}

}  // namespace
}  // namespace corral::cli
