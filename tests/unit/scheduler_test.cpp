// The batch: priority order, bindings that later VMs see, epochs, strategies,
// and the unschedulable message.
#include "controller/scheduler/scheduler.h"

#include <gtest/gtest.h>

#include "tests/unit/scheduler_fixtures.h"

namespace corral::scheduler {
namespace scheduler_test {

using namespace corral::scheduler::testing;

TEST(Scheduler, BindsAndLaterVmsOfTheBatchSeeTheBinding) {
  // One node fits exactly two 2-CPU VMs.
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("p")}, {}, {});
  auto d = schedule_batch(s, {request("v1", "", "p", 2, 1), request("v2", "", "p", 2, 1),
                              request("v3", "", "p", 2, 1)});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].node, "n");
  EXPECT_EQ(d[1].node, "n");
  EXPECT_FALSE(d[2].bound());
  EXPECT_EQ(d[2].message, "0/1 nodes are available: 1 insufficient cpu.");
  EXPECT_EQ(s.node("n")->requested_cpu, 4 * kMilli);
  EXPECT_EQ(s.node("n")->vm_count, 2);
  EXPECT_EQ(s.node_of_vm("v1")->name, "n");
  EXPECT_EQ(s.node_of_vm("v3"), nullptr);
}

TEST(Scheduler, EpochIsThePreviousPlusOne) {
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("p")}, {}, {});
  auto d = schedule_batch(
      s, {request("fresh", "", "p", 1, 1, 0, 0), request("replaced", "", "p", 1, 1, 0, 7)});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].vm, "fresh");
  EXPECT_EQ(d[0].epoch, 1);
  EXPECT_EQ(d[1].vm, "replaced");
  EXPECT_EQ(d[1].epoch, 8);
}

TEST(Scheduler, HigherPriorityFirstThenName) {
  // Room for one: the high-priority VM gets it even though it sorts last by name.
  auto s = ClusterSnapshot::build({make_node("n", 2, 8)}, {make_pool("p")}, {}, {});
  auto d = schedule_batch(s, {request("a", "", "p", 2, 1, 0), request("z", "", "p", 2, 1, 10),
                              request("b", "", "p", 2, 1, 0)});
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].vm, "z");
  EXPECT_TRUE(d[0].bound());
  EXPECT_EQ(d[1].vm, "a");
  EXPECT_EQ(d[2].vm, "b");
  EXPECT_FALSE(d[1].bound());
  EXPECT_FALSE(d[2].bound());
}

TEST(Scheduler, UnschedulableMessageCountsReasons) {
  std::vector<Node> nodes;
  for (int i = 0; i < 5; ++i) nodes.push_back(make_node("small-" + std::to_string(i), 8, 1));
  for (int i = 0; i < 7; ++i)
    nodes.push_back(make_node("dead-" + std::to_string(i), 8, 64, {}, false));
  auto s = ClusterSnapshot::build(nodes, {make_pool("p")}, {}, {});
  auto d = schedule_batch(s, {request("big", "", "p", 1, 4)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_FALSE(d[0].bound());
  EXPECT_EQ(d[0].message, "0/12 nodes are available: 5 insufficient memory, 7 NotReady.");
}

TEST(Scheduler, UnschedulableMessageCountsNodesOutsideThePool) {
  Node cordoned = make_node("c", 8, 8, {{"role", "web"}});
  cordoned.spec.unschedulable = true;
  auto s = ClusterSnapshot::build({cordoned, make_node("db-1", 8, 8, {{"role", "db"}}),
                                   make_node("db-2", 8, 8, {{"role", "db"}})},
                                  {make_pool("web", {{"role", "web"}})}, {}, {});
  auto d = schedule_batch(s, {request("v", "", "web")});
  EXPECT_EQ(d[0].message, "0/3 nodes are available: 1 cordoned, 2 not in pool web.");
}

TEST(Scheduler, UnschedulableMessageSortsByCountThenReasonAndFoldsTheTail) {
  std::map<std::string, size_t> r{{"b", 2}, {"a", 2}, {"c", 1}, {"d", 9}};
  EXPECT_EQ(unschedulable_message(14, r, 8), "0/14 nodes are available: 1 c, 2 a, 2 b, 9 d.");
  EXPECT_EQ(unschedulable_message(14, r, 2), "0/14 nodes are available: 2 a, 9 d, 3 other.");
  EXPECT_EQ(unschedulable_message(0, {}, 8), "0/0 nodes are available.");
}

TEST(Scheduler, MissingPoolOrVmSet) {
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("p")}, {}, {});
  auto d = schedule_batch(s, {request("v", "", "x"), request("w", "ghost", "")});
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].message, "pool \"x\" not found");
  EXPECT_EQ(d[1].message, "vmset \"ghost\" not found");
}

TEST(Scheduler, MakeRequestTakesThePoolFromTheVmSet) {
  VM vm = make_vm("fe-1", "fe", 2, 3);
  vm.spec.priority = 4;
  vm.spec.epoch = 2;
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("web")},
                                  {make_vmset("fe", "web")}, {vm});
  VmRequest r = make_request(vm, s);
  EXPECT_EQ(r.vmset, "fe");
  EXPECT_EQ(r.pool, "web");
  EXPECT_EQ(r.cpu, 2 * kMilli);
  EXPECT_EQ(r.memory, 3 * kGi * kMilli);
  EXPECT_EQ(r.priority, 4);
  EXPECT_TRUE(needs_placement(vm));
  auto d = schedule_batch(s, {r});
  EXPECT_EQ(d[0].node, "n");
  EXPECT_EQ(d[0].epoch, 3);
}

TEST(Scheduler, SpreadStrategySpreadsASetOverNodes) {
  auto s =
      ClusterSnapshot::build({make_node("a", 8, 8), make_node("b", 8, 8), make_node("c", 8, 8)},
                             {make_pool("p")}, {make_vmset("fe", "p")}, {});
  auto d = schedule_batch(
      s, {request("fe-1", "fe", "p"), request("fe-2", "fe", "p"), request("fe-3", "fe", "p")});
  EXPECT_EQ(d[0].node, "a") << "ties go to the first name";
  EXPECT_EQ(d[1].node, "b");
  EXPECT_EQ(d[2].node, "c");
}

TEST(Scheduler, BinpackStrategyFillsOneNodeFirst) {
  auto s = ClusterSnapshot::build({make_node("a", 8, 8), make_node("b", 8, 8)},
                                  {make_pool("p", {}, "binpack")}, {make_vmset("fe", "p")}, {});
  auto d = schedule_batch(
      s, {request("fe-1", "fe", "p"), request("fe-2", "fe", "p"), request("fe-3", "fe", "p")});
  for (const auto& x : d) EXPECT_EQ(x.node, "a") << x.vm;
}

TEST(Scheduler, LeastLoadedStrategyAvoidsTheBusyNode) {
  Node busy = make_node("a", 8, 8);
  busy.status.usage.cpu = cores(6);
  auto s = ClusterSnapshot::build({busy, make_node("b", 8, 8)},
                                  {make_pool("p", {}, "leastLoaded")}, {}, {});
  auto d = schedule_batch(s, {request("v1", "", "p", 1, 1), request("v2", "", "p", 1, 1)});
  EXPECT_EQ(d[0].node, "b");
  EXPECT_EQ(d[1].node, "b") << "b at 2/8 is still below a's measured 6/8";
}

TEST(Scheduler, RequiredAntiAffinityLeavesTheExtraReplicaPending) {
  VMSet set = make_vmset("fe", "p");
  set.spec.antiAffinity = AntiAffinity{"", "required"};
  auto s = ClusterSnapshot::build({make_node("a", 8, 8), make_node("b", 8, 8)}, {make_pool("p")},
                                  {set}, {});
  auto d = schedule_batch(
      s, {request("fe-1", "fe", "p"), request("fe-2", "fe", "p"), request("fe-3", "fe", "p")});
  EXPECT_TRUE(d[0].bound());
  EXPECT_TRUE(d[1].bound());
  EXPECT_NE(d[0].node, d[1].node);
  EXPECT_EQ(d[2].message,
            "0/2 nodes are available: 1 anti-affinity with fe-1 on corral.io/hostname=a, "
            "1 anti-affinity with fe-2 on corral.io/hostname=b.");
}

TEST(Scheduler, PreferNoScheduleOnlyLowersTheScore) {
  Node soft = make_node("a", 8, 8);
  soft.spec.taints.push_back(Taint{"old", "", "PreferNoSchedule"});
  auto s = ClusterSnapshot::build({soft, make_node("b", 8, 8)}, {make_pool("p", {}, "binpack")}, {},
                                  {make_vm("x", "", 2, 2, "a")});
  // Binpack would pick a (fuller: 3/8 against 1/8), but its soft taint outweighs that.
  auto d = schedule_batch(s, {request("v", "", "p")});
  EXPECT_EQ(d[0].node, "b");
  // With b gone, a is still usable.
  auto s2 = ClusterSnapshot::build({soft}, {make_pool("p")}, {}, {});
  EXPECT_EQ(schedule_batch(s2, {request("v", "", "p")})[0].node, "a");
}

TEST(Scheduler, ZoneSpreadFillsZonesEvenly) {
  VMSet set = make_vmset("fe", "p");
  set.spec.spread = SpreadPolicy{"zone", 1};
  // Binpack would put everything in the first zone; spread must not allow it.
  auto s = ClusterSnapshot::build(
      {make_node("a1", 32, 32, {{"zone", "a"}}), make_node("b1", 32, 32, {{"zone", "b"}}),
       make_node("c1", 32, 32, {{"zone", "c"}})},
      {make_pool("p", {}, "binpack")}, {set}, {});
  std::vector<VmRequest> batch;
  for (int i = 0; i < 7; ++i) batch.push_back(request("fe-" + std::to_string(i), "fe", "p"));
  auto d = schedule_batch(s, batch);
  std::map<std::string, int> per;
  for (const auto& x : d) {
    ASSERT_TRUE(x.bound()) << x.message;
    ++per[x.node];
  }
  EXPECT_EQ(per["a1"], 3);
  EXPECT_EQ(per["b1"], 2);
  EXPECT_EQ(per["c1"], 2);
}

TEST(Scheduler, LostVmIsRePlacedAwayFromItsDeadNode) {
  auto s = ClusterSnapshot::build({make_node("dead", 4, 4, {}, false), make_node("live", 4, 4)},
                                  {make_pool("p")}, {make_vmset("fe", "p")}, {[] {
                                    VM v = make_vm("fe-1", "fe", 4, 4, "dead", "Lost");
                                    v.spec.epoch = 3;
                                    return v;
                                  }()});
  EXPECT_EQ(s.node("dead")->requested_cpu, 0) << "a Lost VM holds no place";
  VM lost = make_vm("fe-1", "fe", 4, 4, "dead", "Lost");
  lost.spec.epoch = 3;
  ASSERT_TRUE(needs_placement(lost));
  auto d = schedule_batch(s, {make_request(lost, s)});
  EXPECT_EQ(d[0].node, "live");
  EXPECT_EQ(d[0].epoch, 4);
}

TEST(Scheduler, RePlacingABoundVmReleasesItsOldPlace) {
  VMSet set = make_vmset("fe", "p");
  set.spec.antiAffinity = AntiAffinity{"", "required"};
  auto s = ClusterSnapshot::build({make_node("a", 2, 2), make_node("b", 2, 2)}, {make_pool("p")},
                                  {set}, {make_vm("fe-1", "fe", 2, 2, "a")});
  auto d = schedule_batch(s, {request("fe-1", "fe", "p", 2, 2, 0, 1)});
  EXPECT_EQ(d[0].node, "a") << "not its own sibling, and its old place is free again";
  EXPECT_EQ(d[0].epoch, 2);
  EXPECT_EQ(s.node("a")->requested_cpu, 2 * kMilli);
  EXPECT_EQ(s.node("a")->vm_count, 1);
  EXPECT_EQ(s.vmset("fe")->placed, 1);
}

TEST(Scheduler, LargePoolsAreSampledFromARotatingStart) {
  std::vector<Node> nodes;
  for (int i = 0; i < 10; ++i) nodes.push_back(make_node("node-0" + std::to_string(i), 8, 8));
  std::vector<VmRequest> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(request("v" + std::to_string(i), "", "p"));
  Options sampled;
  sampled.min_feasible_nodes = 3;
  sampled.max_feasible_nodes = 3;
  auto s = ClusterSnapshot::build(nodes, {make_pool("p")}, {}, {});
  std::vector<std::string> got;
  for (const auto& d : schedule_batch(s, batch, sampled)) got.push_back(d.node);
  // Windows 0–2, 3–5, 6–8, then 9,0,1 where node-00 is taken.
  EXPECT_EQ(got, (std::vector<std::string>{"node-00", "node-03", "node-06", "node-01"}));

  Options full = sampled;
  full.percentage_of_nodes_to_score = 100;
  auto s2 = ClusterSnapshot::build(nodes, {make_pool("p")}, {}, {});
  got.clear();
  for (const auto& d : schedule_batch(s2, batch, full)) got.push_back(d.node);
  EXPECT_EQ(got, (std::vector<std::string>{"node-00", "node-01", "node-02", "node-03"}));
}

TEST(Scheduler, SnapshotFollowsIncrementalUpdates) {
  auto s =
      ClusterSnapshot::build({make_node("a", 4, 4)}, {make_pool("p", {{"role", "web"}})}, {}, {});
  EXPECT_TRUE(s.pool("p")->members.empty());
  s.upsert_node(make_node("a", 4, 4, {{"role", "web"}}));
  s.upsert_node(make_node("b", 4, 4, {{"role", "web"}}));
  ASSERT_EQ(s.pool("p")->members.size(), 2u);
  s.upsert_vm(make_vm("x", "", 4, 4, "a"));
  EXPECT_EQ(schedule_batch(s, {request("v", "", "p", 4, 4)})[0].node, "b");
  s.remove_vm("x");
  EXPECT_EQ(s.node("a")->requested_cpu, 0);
  s.remove_node("b");
  EXPECT_EQ(s.node_count(), 1u);
  EXPECT_EQ(schedule_batch(s, {request("w", "", "p", 4, 4)})[0].node, "a");
}

TEST(Scheduler, RelabelledNodeMovesItsReplicasBetweenDomains) {
  VMSet set = make_vmset("fe", "p");
  set.spec.antiAffinity = AntiAffinity{"zone", "required"};
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("b1", 8, 8, {{"zone", "b"}})},
      {make_pool("p")}, {set}, {make_vm("fe-1", "fe", 1, 1, "a1")});
  s.upsert_node(make_node("a1", 8, 8, {{"zone", "b"}}));  // a1 now in zone b with fe-1
  auto d = schedule_batch(s, {request("fe-2", "fe", "p")});
  EXPECT_FALSE(d[0].bound());
  EXPECT_EQ(d[0].message, "0/2 nodes are available: 2 anti-affinity with fe-1 on zone=b.");
}

}  // namespace scheduler_test
}  // namespace corral::scheduler

namespace corral::scheduler::testing {
namespace scheduler_test {

// A move's replacement names its target node: the scheduler binds it there,
// through every filter, or nowhere — never to another node.
TEST(Scheduler, AMoveTargetIsTheOnlyNodeTried) {
  // a, b and c are in the pool; x is not.
  auto s = ClusterSnapshot::build({make_node("a", 4, 8, {{"pool", "p"}}),
                              make_node("b", 4, 8, {{"pool", "p"}}),
                              make_node("c", 1, 8, {{"pool", "p"}}), make_node("x", 8, 8)},
                             {make_pool("p", {{"pool", "p"}})}, {}, {});
  VmRequest to_b = request("r1", "", "p", 2, 1);
  to_b.target_node = "b";
  VmRequest to_c = request("r2", "", "p", 2, 1);
  to_c.target_node = "c";  // in the pool, but 1 CPU
  VmRequest to_x = request("r3", "", "p", 2, 1);
  to_x.target_node = "x";  // outside the pool
  VmRequest to_gone = request("r4", "", "p", 2, 1);
  to_gone.target_node = "nope";
  auto d = schedule_batch(s, {to_b, to_c, to_x, to_gone});
  ASSERT_EQ(d.size(), 4u);
  EXPECT_EQ(d[0].node, "b");
  EXPECT_EQ(d[0].epoch, 1);
  EXPECT_FALSE(d[1].bound());
  EXPECT_EQ(d[1].message, "move target node/c: insufficient cpu");
  EXPECT_FALSE(d[2].bound());
  EXPECT_EQ(d[2].message, "move target node/x: not in pool p");
  EXPECT_FALSE(d[3].bound());
  EXPECT_EQ(d[3].message, "move target node/nope not found");
}

TEST(Scheduler, ADrainingNodeTakesNothingNew) {
  Node draining = make_node("a", 4, 8);
  draining.spec.drain = true;
  auto s = ClusterSnapshot::build({draining}, {make_pool("p")}, {}, {});
  auto d = schedule_batch(s, {request("v", "", "p", 1, 1)});
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].message, "0/1 nodes are available: 1 cordoned.");
}

TEST(Scheduler, MakeRequestReadsTheMoveTarget) {
  auto s = ClusterSnapshot::build({make_node("a", 4, 8)}, {make_pool("p")}, {}, {});
  VM vm = make_vm("r", "", 1, 1);
  vm.metadata.annotations["corral.io/target-node"] = "a";
  EXPECT_EQ(make_request(vm, s).target_node, "a");
}

}  // namespace scheduler_test
}  // namespace corral::scheduler::testing
