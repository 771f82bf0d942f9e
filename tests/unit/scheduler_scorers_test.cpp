// Each scorer stays in [0,1] and orders nodes the way its strategy promises.
#include <gtest/gtest.h>

#include "controller/scheduler/preference_scorers.h"
#include "controller/scheduler/strategy_scorers.h"
#include "tests/unit/scheduler_fixtures.h"

namespace corral::scheduler {
namespace scheduler_scorers_test {

using namespace corral::scheduler::testing;

double score_of(Scorer& sc, const VmRequest& vm, const ClusterSnapshot& s,
                const std::string& node) {
  sc.prepare(vm, s);
  const NodeInfo* n = s.node(node);
  EXPECT_NE(n, nullptr) << node;
  double v = sc.score(vm, *n, s);
  EXPECT_GE(v, 0.0);
  EXPECT_LE(v, 1.0);
  return v;
}

TEST(SchedulerScorers, SpreadPrefersFewestReplicasOfTheSetThenFewestVms) {
  auto s = ClusterSnapshot::build(
      {make_node("a", 16, 16), make_node("b", 16, 16), make_node("c", 16, 16)}, {make_pool("p")},
      {make_vmset("fe", "p"), make_vmset("other", "p")},
      {make_vm("fe-1", "fe", 1, 1, "a"), make_vm("o-1", "other", 1, 1, "b"),
       make_vm("o-2", "other", 1, 1, "b"), make_vm("o-3", "other", 1, 1, "b")});
  SpreadScorer sc;
  auto vm = request("fe-2", "fe", "p");
  const double a = score_of(sc, vm, s, "a"), b = score_of(sc, vm, s, "b"),
               c = score_of(sc, vm, s, "c");
  EXPECT_GT(c, b) << "empty node first";
  EXPECT_GT(b, a) << "three VMs of another set still beat one sibling";
}

TEST(SchedulerScorers, BinpackPrefersTheFullestNode) {
  auto s = ClusterSnapshot::build(
      {make_node("empty", 8, 8), make_node("half", 8, 8), make_node("most", 8, 8)},
      {make_pool("p", {}, "binpack")}, {},
      {make_vm("h", "", 4, 4, "half"), make_vm("m", "", 6, 6, "most")});
  BinpackScorer sc;
  auto vm = request("v", "", "p", 2, 2);
  EXPECT_GT(score_of(sc, vm, s, "most"), score_of(sc, vm, s, "half"));
  EXPECT_GT(score_of(sc, vm, s, "half"), score_of(sc, vm, s, "empty"));
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "most"), 1.0) << "exactly full after placing";
}

TEST(SchedulerScorers, BinpackMeasuresAgainstOvercommittedCapacity) {
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("p", {}, "binpack", 2.0, 1.0)},
                                  {}, {});
  BinpackScorer sc;
  // cpu 4/8, memory 4/8 → 0.5.
  EXPECT_DOUBLE_EQ(score_of(sc, request("v", "", "p", 4, 4), s, "n"), 0.5);
}

TEST(SchedulerScorers, LeastLoadedUsesMeasuredUsageTheLargerOfCpuAndMemory) {
  Node cpu_busy = make_node("cpu-busy", 10, 10);
  cpu_busy.status.usage.cpu = cores(8);  // 80% cpu, 0% memory
  Node mem_busy = make_node("mem-busy", 10, 10);
  mem_busy.status.usage.memory = gib(5);  // 50% memory
  Node idle = make_node("idle", 10, 10);
  auto s = ClusterSnapshot::build({cpu_busy, mem_busy, idle}, {make_pool("p", {}, "leastLoaded")},
                                  {}, {});
  LeastLoadedScorer sc;
  auto vm = request("v", "", "p", 0, 0);
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "idle"), 1.0);
  EXPECT_NEAR(score_of(sc, vm, s, "mem-busy"), 0.5, 1e-9);
  EXPECT_NEAR(score_of(sc, vm, s, "cpu-busy"), 0.2, 1e-9);
}

TEST(SchedulerScorers, LeastLoadedCountsVmsNotYetRunningAsLoad) {
  // Requests of a bound-but-Starting VM are on their way; measured usage cannot
  // show them yet.
  auto s = ClusterSnapshot::build({make_node("a", 10, 10), make_node("b", 10, 10)},
                                  {make_pool("p", {}, "leastLoaded")}, {},
                                  {make_vm("starting", "", 5, 1, "a", "Starting"),
                                   make_vm("running", "", 5, 1, "b", "Running")});
  LeastLoadedScorer sc;
  auto vm = request("v", "", "p", 0, 0);
  EXPECT_NEAR(score_of(sc, vm, s, "a"), 0.5, 1e-9);
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "b"), 1.0) << "Running VMs are in measured usage already";
  // A binding made by the scheduler counts too.
  s.bind(request("new", "", "p", 2, 0), s.node("b")->index);
  EXPECT_NEAR(score_of(sc, vm, s, "b"), 0.8, 1e-9);
}

TEST(SchedulerScorers, PreferNoSchedulePenalisesUntoleratedSoftTaints) {
  Node soft = make_node("soft", 4, 4);
  soft.spec.taints.push_back(Taint{"old", "", "PreferNoSchedule"});
  auto s = ClusterSnapshot::build({make_node("clean", 4, 4), soft}, {make_pool("p")}, {}, {});
  PreferNoScheduleScorer sc;
  auto vm = request("v", "", "p");
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "clean"), 1.0);
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "soft"), 0.5);
  vm.tolerations.push_back(Toleration{"old", "Exists", "", ""});
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "soft"), 1.0);
}

TEST(SchedulerScorers, PreferredAntiAffinityPenalisesSharedDomains) {
  VMSet set = make_vmset("fe", "p");
  set.spec.antiAffinity = AntiAffinity{"zone", "preferred"};
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("a2", 8, 8, {{"zone", "a"}}),
       make_node("b1", 8, 8, {{"zone", "b"}})},
      {make_pool("p")}, {set}, {make_vm("fe-1", "fe", 1, 1, "a1")});
  PreferredAntiAffinityScorer sc;
  auto vm = request("fe-2", "fe", "p");
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "b1"), 1.0);
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "a2"), 0.5) << "same zone as fe-1";
}

TEST(SchedulerScorers, TopologySpreadPrefersTheEmptiestDomain) {
  VMSet set = make_vmset("fe", "p");
  set.spec.spread = SpreadPolicy{"zone", 3};
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("b1", 8, 8, {{"zone", "b"}})},
      {make_pool("p")}, {set},
      {make_vm("fe-1", "fe", 1, 1, "a1"), make_vm("fe-2", "fe", 1, 1, "a1")});
  TopologySpreadScorer sc;
  auto vm = request("fe-3", "fe", "p");
  EXPECT_DOUBLE_EQ(score_of(sc, vm, s, "b1"), 1.0);
  EXPECT_NEAR(score_of(sc, vm, s, "a1"), 1.0 / 3.0, 1e-12);
}

TEST(SchedulerScorers, StrategyFactoryFollowsThePoolsPlacement) {
  EXPECT_EQ(make_strategy_scorer(parse_strategy("spread"))->name(), "spread");
  EXPECT_EQ(make_strategy_scorer(parse_strategy("binpack"))->name(), "binpack");
  EXPECT_EQ(make_strategy_scorer(parse_strategy("leastLoaded"))->name(), "leastLoaded");
  EXPECT_EQ(make_strategy_scorer(parse_strategy("bogus"))->name(), "spread");
}

}  // namespace scheduler_scorers_test
}  // namespace corral::scheduler
