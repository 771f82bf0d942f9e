// simulate fail: a small cluster — four nodes, a VMSet of three with required
// anti-affinity — against the fake client. Nothing may be written.
#include "api/json.h"
#include "cli/simulate.h"

#include <gtest/gtest.h>

#include "cli/failure_simulation.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace simulate_test {

using testing::CliHarness;

Json node(const std::string& name, double availability) {
  Json n = Json::parse(R"({"apiVersion":"corral/v1","kind":"Node","metadata":{"name":""},
    "status":{"phase":"Ready","conditions":[{"type":"Ready","status":"True"}],
              "allocatable":{"cpu":"4","memory":"8Gi"},"capacity":{"cpu":"4","memory":"8Gi"}}})");
  n["metadata"]["name"] = name;
  n["status"]["availability"] = availability;
  return n;
}

Json vm(const std::string& name, const std::string& node_name) {
  Json v = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM",
    "metadata":{"name":"","labels":{"corral.io/vmset":"frontend"},
                "ownerReferences":[{"apiVersion":"corral/v1","kind":"VMSet","name":"frontend",
                                    "uid":"uid-frontend","controller":true}]},
    "spec":{"resources":{"cpu":"1","memory":"1Gi"},"epoch":1},
    "status":{"phase":"Running","epoch":1}})");
  v["metadata"]["name"] = name;
  v["spec"]["nodeName"] = node_name;
  v["status"]["nodeName"] = node_name;
  return v;
}

// host-1..3 hold one replica each; host-4 is empty and less available.
void small_cluster(CliHarness& h) {
  h.client.put(node("host-1", 0.99));
  h.client.put(node("host-2", 0.99));
  h.client.put(node("host-3", 0.99));
  h.client.put(node("host-4", 0.9));
  h.client.put(Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
    "spec":{"placement":"spread","failover":{"tolerateNodeFailures":1}}})"));
  h.client.put(Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet",
    "metadata":{"name":"frontend","uid":"uid-frontend"},
    "spec":{"pool":"web","replicas":3,"antiAffinity":{"mode":"required"},
            "template":{"spec":{"resources":{"cpu":"1","memory":"1Gi"}}}}})"));
  h.client.put(vm("frontend-a", "host-1"));
  h.client.put(vm("frontend-b", "host-2"));
  h.client.put(vm("frontend-c", "host-3"));
}

TEST(SimulateFail, OneNodeTheVmMovesToTheOnlyNodeWithoutAReplica) {
  CliHarness h;
  small_cluster(h);
  EXPECT_EQ(run_simulate_fail(h.ctx, {{"host-1"}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "If node/host-1 fails now (simulated; nothing is written):\n"
            "\n"
            "VMs re-placed:\n"
            "  VM           FROM     TO\n"
            "  frontend-a   host-1   host-4\n"
            "\n"
            "VMSets (re-placed VMs counted as Running):\n"
            "  VMSET      RUNNING   AVAILABILITY\n"
            "  frontend   3 -> 3    0.999999 -> 0.99999\n"
            "\n"
            "Pools:\n"
            "  POOL   READY        TOLERATES\n"
            "  web    4/4 -> 3/4   3 -> 2\n");
  EXPECT_EQ(h.client.writes(), 0u);
}

TEST(SimulateFail, TwoNodesWithRequiredAntiAffinityLeaveOnePendingWithTheReason) {
  CliHarness h;
  small_cluster(h);
  EXPECT_EQ(run_simulate_fail(h.ctx, {{"host-1", "host-2"}}), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_EQ(out.rfind("If node/host-1 and node/host-2 fail now", 0), 0u) << out;
  EXPECT_NE(out.find("VMs re-placed:\n  VM           FROM     TO\n  frontend-a   host-1   host-4\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("VMs left Pending:\n  VM           FROM     REASON\n"
                     "  frontend-b   host-2   0/4 nodes are available: "),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("2 NotReady"), std::string::npos) << out;
  EXPECT_NE(out.find("anti-affinity"), std::string::npos) << out;
  EXPECT_NE(out.find("  frontend   3 -> 2    "), std::string::npos) << out;
  EXPECT_NE(out.find("  web    4/4 -> 2/4   3 -> 1\n"), std::string::npos) << out;
  EXPECT_EQ(h.client.writes(), 0u);
}

TEST(SimulateFail, UnknownNodeIsNotFoundAndNothingIsPrinted) {
  CliHarness h;
  small_cluster(h);
  EXPECT_EQ(run_simulate_fail(h.ctx, {{"host-1", "ghost"}}), 1);
  EXPECT_EQ(h.err.str(), "error: nodes \"ghost\" not found\n");
  EXPECT_EQ(h.out.str(), "");
}

TEST(SimulateFail, NodeWithoutVmsMovesNothing) {
  CliHarness h;
  small_cluster(h);
  EXPECT_EQ(run_simulate_fail(h.ctx, {{"host-4"}}), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_NE(out.find("\nNo VM needs a new node.\n"), std::string::npos) << out;
  EXPECT_EQ(out.find("VMSets"), std::string::npos) << out;
  EXPECT_NE(out.find("  web    4/4 -> 3/4   3 -> 2\n"), std::string::npos) << out;
}

TEST(SimulateFail, CoreLeavesTheInputsAsTheyWere) {
  std::vector<Node> nodes(2);
  nodes[0].metadata.name = "a";
  nodes[0].status.phase = "Ready";
  nodes[1].metadata.name = "b";
  nodes[1].status.phase = "Ready";
  std::vector<VM> vms(1);
  vms[0].metadata.name = "solo";
  vms[0].spec.nodeName = "a";
  vms[0].status.phase = "Running";
  auto sim = simulate_node_failure(nodes, {}, {}, vms, {"a"});
  // No VMSet, so no pool: the scheduler says why it cannot place it.
  ASSERT_EQ(sim.pending.size(), 1u);
  EXPECT_EQ(sim.pending[0].vm, "solo");
  EXPECT_EQ(nodes[0].status.phase, "Ready");
  EXPECT_EQ(vms[0].status.phase, "Running");
}

}  // namespace simulate_test
}  // namespace corral::cli
