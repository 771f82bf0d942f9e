// describe, delete, api-resources and version against the fake client.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/json.h"
#include "cli/delete.h"
#include "cli/describe.h"
#include "cli/discovery.h"
#include "cli/get.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace commands_test {

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

TEST(Describe, TakesKindSlashName) {
  CliHarness h;
  h.client.put(vmset());
  EXPECT_EQ(run_describe(h.ctx, {{"vmset/frontend"}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str().rfind("Name:         frontend\n", 0), 0u) << h.out.str();
  EXPECT_EQ(run_describe(h.ctx, {{"vmset/"}}), 1);
  EXPECT_NE(h.err.str().find("KIND/NAME"), std::string::npos) << h.err.str();
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

TEST(Describe, PoolSaysItsCapacityWithUnitsAndWhatOvercommitMakesOfIt) {
  Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool",
    "metadata":{"name":"web","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"overcommit":{"cpu":4,"memory":1},"placement":"spread"},
    "status":{"readyNodes":3,"totalNodes":3,"capacity":{"cpu":"6","memory":"75806302208"},
              "schedulable":{"cpu":"24","memory":"75806302208"},
              "allocated":{"cpu":"1500m","memory":"4Gi"},"used":{"cpu":"1","memory":"3Gi"}}})");
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:35:00Z", &now));
  const std::string out = describe_object(*find_kind("pool"), pool, {}, now);
  EXPECT_NE(out.find("\nCapacity:     6 cores / 70.6Gi   (V = Σ allocatable of 3 Ready nodes)\n"
                     "Schedulable:  24 cores (cpu overcommit 4×) / 70.6Gi\n"
                     "Allocated:    1.5 cores / 4Gi   (requested by the VMs on its nodes)\n"
                     "Used:         1 core / 3Gi   (measured on its hosts: the VMs and everything else)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("75806302208"), std::string::npos) << "no raw byte counts\n" << out;
}

TEST(Describe, NodeMemoryIsInBinaryUnitsNotRawKibibytes) {
  Json node = Json::parse(R"({"apiVersion":"corral/v1","kind":"Node",
    "metadata":{"name":"host-1","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{},
    "status":{"capacity":{"cpu":"6","memory":"24683584Ki"},
              "allocatable":{"cpu":"6","memory":"24683584Ki"},"usage":{"cpu":"1200m","memory":"1Gi"}}})");
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:35:00Z", &now));
  const std::string out = describe_object(*find_kind("node"), node, {}, now);
  EXPECT_EQ(out.find("24683584Ki"), std::string::npos) << out;
  EXPECT_NE(out.find("memory: 23.5Gi"), std::string::npos) << out;
  EXPECT_NE(out.find("memory: 1Gi"), std::string::npos) << out;
}

// Issue 18 §5: every figure in describe is for people (api/units.h, the same
// formats as `get -o wide` and `top`); -o yaml and -o json keep the API's values.
TEST(Describe, PoolRatiosArePercentagesAndOvercommitIsAFactor) {
  Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool",
    "metadata":{"name":"web","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"overcommit":{"cpu":1.5,"memory":1},
            "rebalance":{"maxImbalance":0.2,"highWatermark":0.85,"minGain":0.05}},
    "status":{"capacity":{"cpu":"6000m","memory":"24683584Ki"},
              "meanLoad":0.024333333333333335,"loadSpread":0.0123,
              "nodeLoads":[{"name":"host-1","load":0.03,"deviation":-0.0057}]}})");
  const std::string out = describe_object(*find_kind("pool"), pool, {}, std::chrono::system_clock::now());
  for (const char* want :
       {"cpu: 1.5×", "memory: 1×", "maxImbalance: 20%", "highWatermark: 85%", "minGain: 5%",
        "cpu: 6\n", "memory: 23.5Gi", "meanLoad: 2.4%", "loadSpread: 1.2%", "load: 3%",
        "deviation: -0.6%"})
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
  for (const char* raw : {"0.0243", "0.0123", "24683584Ki", "6000m", "0.85"})
    EXPECT_EQ(out.find(raw), std::string::npos) << raw << "\n" << out;
}

TEST(Describe, NodeVmAndVMSetFiguresAreHumanAndYamlStaysRaw) {
  CliHarness h;
  Json node = Json::parse(R"({"apiVersion":"corral/v1","kind":"Node","metadata":{"name":"host-1"},
    "spec":{},"status":{"phase":"Ready","availability":0.99912,
    "capacity":{"cpu":"8","memory":"16777216Ki"},"usage":{"cpu":"1.5","memory":"1610612736"}}})");
  h.client.put(node);
  Json set = vmset();
  set["spec"]["template"] = Json::parse(
      R"({"spec":{"resources":{"cpu":"0.25","memory":"1048576Ki"},"env":[{"name":"N","value":"1"}]}})");
  set["status"]["availability"] = 0.99990000000000001;
  h.client.put(set);
  ASSERT_EQ(run_describe(h.ctx, {{"node", "host-1"}}), 0) << h.err.str();
  ASSERT_EQ(run_describe(h.ctx, {{"vmset", "frontend"}}), 0) << h.err.str();
  const std::string out = h.out.str();
  for (const char* want : {"availability: 0.99912", "memory: 16Gi", "cpu: 1500m", "memory: 1.5Gi",
                           "availability: 0.9999\n", "cpu: 250m", "memory: 1Gi"})
    EXPECT_NE(out.find(want), std::string::npos) << want << "\n" << out;
  EXPECT_EQ(out.find("Ki\n"), std::string::npos) << out;
  EXPECT_NE(out.find("value: \"1\""), std::string::npos) << "a string that is no figure keeps its quotes\n" << out;

  CliHarness yaml;
  yaml.client.put(node);
  ASSERT_EQ(run_get(yaml.ctx, {{"node", "host-1"}, "yaml"}), 0) << yaml.err.str();
  EXPECT_NE(yaml.out.str().find("16777216Ki"), std::string::npos) << yaml.out.str();
  EXPECT_NE(yaml.out.str().find("0.99912"), std::string::npos) << yaml.out.str();
}

TEST(Describe, NodeListsItsVMsAndWhatTheyAskFor) {
  CliHarness h;
  h.client.put(Json::parse(R"({"apiVersion":"corral/v1","kind":"Node","metadata":{"name":"host-1"},
    "spec":{},"status":{"phase":"Ready"}})"));
  for (const char* name : {"web-1", "web-2"}) {
    Json vm = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":""},
      "spec":{"nodeName":"host-1","resources":{"cpu":"500m","memory":"512Mi"}},"status":{"phase":"Running"}})");
    vm["metadata"]["name"] = name;
    h.client.put(vm);
  }
  EXPECT_EQ(run_describe(h.ctx, {{"node", "host-1"}}), 0) << h.err.str();
  const std::string out = h.out.str();
  EXPECT_NE(out.find("VMs:\n  NAME    PHASE     CPU    MEMORY   AGE\n  web-1   Running   500m   512Mi"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("Allocated:    1 CPU / 1Gi (2 VMs)"), std::string::npos) << out;
  EXPECT_NE(std::find(h.client.calls.begin(), h.client.calls.end(), "list vms f=spec.nodeName=host-1"),
            h.client.calls.end());
  // A node without VMs says so.
  EXPECT_NE(describe_object(*find_kind("node"), Json::parse(R"({"metadata":{"name":"n"}})"), {},
                            std::chrono::system_clock::now())
                .find("VMs:          <none>"),
            std::string::npos);
}

TEST(Describe, BalancerShowsItsSpecSummaryAndAnEndpointTable) {
  Json lb = Json::parse(R"({"apiVersion":"corral/v1","kind":"Balancer",
    "metadata":{"name":"front","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"selector":{"matchLabels":{"app":"web"}},"listen":"0.0.0.0:80","mode":"http",
            "algorithm":"leastConnections","sessionAffinity":"sourceIP",
            "rules":[{"host":"api.example.com","pathPrefix":"/v1","selector":{"matchLabels":{"tier":"gold"}}}],
            "healthCheck":{"type":"http","path":"/healthz"},"timeouts":{"drainSeconds":20},
            "maxConnections":500},
    "status":{"observedGeneration":1,"meanLoad":0.5,"loadSpread":0.25,
      "lastReportTime":"2026-09-21T07:34:58.000Z","reportedBy":"lb-1",
      "endpoints":[
        {"vm":"web-a","node":"h1","address":"10.0.0.1:8080","epoch":2,"weight":0.75,
         "health":"Healthy","activeConnections":12},
        {"vm":"web-b","node":"h2","address":"10.0.0.2:8080","epoch":1,"weight":0.25,
         "health":"Healthy","draining":true,"drainingSince":"2026-09-21T07:34:48.000Z",
         "drained":true}],
      "conditions":[{"type":"Ready","status":"True","reason":"EndpointsPublished",
                     "message":"2 endpoints","lastTransitionTime":"2026-09-21T07:34:00.000Z"}]}})");
  Json ev = {{"kind", "Event"},          {"type", "Warning"},
             {"reason", "NoEndpoints"},  {"message", "selects no VM"},
             {"lastTimestamp", "2026-09-21T07:33:30.000Z"}};
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:35:00Z", &now));
  std::string out = describe_object(*find_kind("lb"), lb, {ev}, now);
  EXPECT_NE(out.find("Selects:      selector app=web\n"
                     "Listen:       0.0.0.0:80 (http)\n"
                     "Algorithm:    leastConnections\n"
                     "Affinity:     sourceIP\n"
                     "Rules:\n"
                     "  HOST              PATH-PREFIX   SELECTOR\n"
                     "  api.example.com   /v1           tier=gold\n"
                     "Health Check: http GET /healthz every 2s, timeout 1s, rise 2, fall 2\n"
                     "Timeouts:     connect 5s, client 60s, request head 10s, server 60s, drain 20s\n"
                     "Max Conns:    500, per client 1000\n"
                     "Endpoints:\n"
                     "  VM      NODE   ADDRESS         EPOCH   WEIGHT   HEALTH    DRAINING       ACTIVE\n"
                     "  web-a   h1     10.0.0.1:8080   2       0.75     Healthy   -              12\n"
                     "  web-b   h2     10.0.0.2:8080   1       0.25     Healthy   12s, drained   0\n"
                     "Load:         L 50%, spread 25%\n"
                     "Reported:     2026-09-21T07:34:58.000Z (2s ago) by lb-1\n"
                     "Conditions:\n"
                     "  TYPE    STATUS   REASON               MESSAGE       AGE\n"
                     "  Ready   True     EndpointsPublished   2 endpoints   60s\n"
                     "Events:\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("Spec:"), std::string::npos) << "no raw YAML for a Balancer";
  EXPECT_NE(out.find("NoEndpoints"), std::string::npos);
}

TEST(Describe, BalancerWithoutStatusOrEndpoints) {
  Json lb = Json::parse(R"({"apiVersion":"corral/v1","kind":"Balancer",
    "metadata":{"name":"front"},"spec":{"vmSet":"web","listen":"0.0.0.0:80","mode":"tcp"}})");
  std::string out = describe_object(*find_kind("lb"), lb, {}, std::chrono::system_clock::now());
  EXPECT_NE(out.find("Selects:      vmSet web\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Rules:        <none>\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Health Check: tcp every 2s"), std::string::npos) << out;
  EXPECT_NE(out.find("Endpoints:    <none>\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Reported:     <none>\n"), std::string::npos) << out;
  EXPECT_NE(out.find("Conditions:   <none>\n"), std::string::npos) << out;
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
  EXPECT_EQ(h.out.str(), "vmset/frontend deleted\n");
  EXPECT_EQ(h.err.str(), "error: vmsets \"ghost\" not found\n");
  EXPECT_TRUE(h.client.objects["vmsets"].empty());
}

TEST(Delete, TakesKindSlashNameAsKubectlDoes) {
  CliHarness h;
  h.client.put(vmset());
  EXPECT_EQ(run_delete(h.ctx, {{}, {"vmset/frontend"}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "vmset/frontend deleted\n");
  EXPECT_TRUE(h.client.objects["vmsets"].empty());
  EXPECT_EQ(run_delete(h.ctx, {{}, {"vmset/a", "b"}}), 1);
  EXPECT_NE(h.err.str().find("\"b\": write it KIND/NAME"), std::string::npos) << h.err.str();
  EXPECT_EQ(run_delete(h.ctx, {{}, {"vmset"}}), 1);
  EXPECT_NE(h.err.str().find("KIND/NAME"), std::string::npos);
}

TEST(Delete, FromAManifestNeedsOnlyKindAndName) {
  CliHarness h;
  h.client.put(vmset());
  testing::TempDir dir;
  testing::write_file(
      dir.file("v.yaml"),
      "apiVersion: corral/v1\nkind: VMSet\nmetadata: {name: frontend}\nspec: {replicas: -1}\n");
  EXPECT_EQ(run_delete(h.ctx, {{dir.file("v.yaml")}, {}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "vmset/frontend deleted\n");
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

}  // namespace commands_test
}  // namespace corral::cli
