// Each filter accepts a node that fits and rejects one that does not, with the
// reason the unschedulable message will count.
#include <gtest/gtest.h>

#include "controller/scheduler/node_filters.h"
#include "controller/scheduler/replica_filters.h"
#include "controller/scheduler/resource_filter.h"
#include "tests/unit/scheduler_fixtures.h"

namespace corral::scheduler {
namespace scheduler_filters_test {

using namespace corral::scheduler::testing;

// Runs prepare + fits and returns "" when it fits, else the reason.
std::string verdict(Filter& f, const VmRequest& vm, const ClusterSnapshot& s,
                    const std::string& node) {
  f.prepare(vm, s);
  const NodeInfo* n = s.node(node);
  EXPECT_NE(n, nullptr) << node;
  std::string reason;
  bool ok = f.fits(vm, *n, s, &reason);
  EXPECT_EQ(ok, reason.empty()) << "a rejection must say why, an acceptance must not";
  // The answer must not depend on whether a reason was asked for.
  EXPECT_EQ(ok, f.fits(vm, *n, s, nullptr));
  return ok ? "" : reason;
}

TEST(SchedulerFilters, PoolMembershipNeedsEveryNodeSelectorLabel) {
  auto s = ClusterSnapshot::build(
      {make_node("a", 4, 8, {{"role", "web"}, {"zone", "z1"}}),
       make_node("b", 4, 8, {{"role", "db"}}), make_node("c", 4, 8, {{"zone", "z1"}})},
      {make_pool("web", {{"role", "web"}, {"zone", "z1"}})}, {}, {});
  PoolMembershipFilter f;
  auto vm = request("v", "", "web");
  EXPECT_EQ(verdict(f, vm, s, "a"), "");
  EXPECT_EQ(verdict(f, vm, s, "b"), "not in pool web");
  EXPECT_EQ(verdict(f, vm, s, "c"), "not in pool web");
  EXPECT_EQ(s.pool("web")->members.size(), 1u);
}

TEST(SchedulerFilters, EmptyNodeSelectorSelectsEveryNode) {
  auto s = ClusterSnapshot::build({make_node("a", 1, 1), make_node("b", 1, 1, {{"x", "y"}})},
                                  {make_pool("all")}, {}, {});
  PoolMembershipFilter f;
  EXPECT_EQ(verdict(f, request("v", "", "all"), s, "b"), "");
  EXPECT_EQ(s.pool("all")->members.size(), 2u);
}

TEST(SchedulerFilters, ReadyRejectsNotReadyNodes) {
  Node phase_only = make_node("phase-only", 4, 8);
  phase_only.status.conditions.clear();
  Node contradicting = make_node("contradicting", 4, 8);  // condition True, phase Unreachable
  contradicting.status.phase = "Unreachable";
  auto s = ClusterSnapshot::build(
      {make_node("up", 4, 8), make_node("down", 4, 8, {}, false), phase_only, contradicting},
      {make_pool("p")}, {}, {});
  ReadyFilter f;
  auto vm = request("v", "", "p");
  EXPECT_EQ(verdict(f, vm, s, "up"), "");
  EXPECT_EQ(verdict(f, vm, s, "phase-only"), "");
  EXPECT_EQ(verdict(f, vm, s, "down"), "NotReady");
  EXPECT_EQ(verdict(f, vm, s, "contradicting"), "NotReady");
}

TEST(SchedulerFilters, NotCordonedRejectsUnschedulableNodes) {
  Node cordoned = make_node("cordoned", 4, 8);
  cordoned.spec.unschedulable = true;
  auto s = ClusterSnapshot::build({make_node("open", 4, 8), cordoned}, {make_pool("p")}, {}, {});
  NotCordonedFilter f;
  EXPECT_EQ(verdict(f, request("v", "", "p"), s, "open"), "");
  EXPECT_EQ(verdict(f, request("v", "", "p"), s, "cordoned"), "cordoned");
}

TEST(SchedulerFilters, TaintsMustBeToleratedUnlessPreferNoSchedule) {
  Node gpu = make_node("gpu", 4, 8);
  gpu.spec.taints.push_back(Taint{"dedicated", "gpu", "NoSchedule"});
  Node evict = make_node("evict", 4, 8);
  evict.spec.taints.push_back(Taint{"maintenance", "", "NoExecute"});
  Node soft = make_node("soft", 4, 8);
  soft.spec.taints.push_back(Taint{"old-cpu", "true", "PreferNoSchedule"});
  auto s = ClusterSnapshot::build({gpu, evict, soft}, {make_pool("p")}, {}, {});
  TaintFilter f;
  auto plain = request("v", "", "p");
  EXPECT_EQ(verdict(f, plain, s, "gpu"), "untolerated taint dedicated=gpu:NoSchedule");
  EXPECT_EQ(verdict(f, plain, s, "evict"), "untolerated taint maintenance:NoExecute");
  EXPECT_EQ(verdict(f, plain, s, "soft"), "");

  auto equal = plain;
  equal.tolerations.push_back(Toleration{"dedicated", "Equal", "gpu", "NoSchedule"});
  EXPECT_EQ(verdict(f, equal, s, "gpu"), "");
  auto wrong_value = plain;
  wrong_value.tolerations.push_back(Toleration{"dedicated", "Equal", "fpga", ""});
  EXPECT_NE(verdict(f, wrong_value, s, "gpu"), "");
  auto wrong_effect = plain;
  wrong_effect.tolerations.push_back(Toleration{"dedicated", "Exists", "", "NoExecute"});
  EXPECT_NE(verdict(f, wrong_effect, s, "gpu"), "");
  auto everything = plain;
  everything.tolerations.push_back(Toleration{"", "Exists", "", ""});
  EXPECT_EQ(verdict(f, everything, s, "gpu"), "");
  EXPECT_EQ(verdict(f, everything, s, "evict"), "");
}

TEST(SchedulerFilters, ResourceFitCountsAllocatedAndOvercommit) {
  // 4 CPU, 8 GiB; 3 CPU and 6 GiB already held by a Running VM.
  auto s = ClusterSnapshot::build({make_node("n", 4, 8)},
                                  {make_pool("strict"), make_pool("loose", {}, "spread", 2.0, 1.0)},
                                  {}, {make_vm("old", "", 3, 6, "n")});
  ResourceFitFilter f;
  EXPECT_EQ(verdict(f, request("v", "", "strict", 1, 2), s, "n"), "") << "exactly full fits";
  EXPECT_EQ(verdict(f, request("v", "", "strict", 1, 3), s, "n"), "insufficient memory");
  EXPECT_EQ(verdict(f, request("v", "", "strict", 2, 2), s, "n"), "insufficient cpu");
  EXPECT_EQ(verdict(f, request("v", "", "strict", 2, 3), s, "n"), "insufficient cpu and memory");
  // CPU overcommit 2: 8 CPU may be promised; memory stays 1×.
  EXPECT_EQ(verdict(f, request("v", "", "loose", 5, 2), s, "n"), "");
  EXPECT_EQ(verdict(f, request("v", "", "loose", 6, 2), s, "n"), "insufficient cpu");
  EXPECT_EQ(verdict(f, request("v", "", "loose", 1, 3), s, "n"), "insufficient memory");
}

TEST(SchedulerFilters, ResourceFitIgnoresLostAndNeverRestartedFailedVms) {
  VM failed_never = make_vm("f1", "", 2, 2, "n", "Failed");
  failed_never.spec.restartPolicy = "Never";
  VM failed_always = make_vm("f2", "", 1, 1, "n", "Failed");  // will be restarted: holds
  auto s =
      ClusterSnapshot::build({make_node("n", 4, 8)}, {make_pool("p")}, {},
                             {make_vm("lost", "", 2, 2, "n", "Lost"), failed_never, failed_always});
  EXPECT_EQ(s.node("n")->requested_cpu, 1 * kMilli);
  ResourceFitFilter f;
  EXPECT_EQ(verdict(f, request("v", "", "p", 3, 7), s, "n"), "");
  EXPECT_EQ(verdict(f, request("v", "", "p", 3.5, 7), s, "n"), "insufficient cpu");
}

TEST(SchedulerFilters, RequiredAntiAffinityOnHostnameAndZone) {
  VMSet host = make_vmset("fe", "p");
  host.spec.antiAffinity = AntiAffinity{"", "required"};  // empty key: hostname
  VMSet zone = make_vmset("db", "p");
  zone.spec.antiAffinity = AntiAffinity{"zone", "required"};
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("a2", 8, 8, {{"zone", "a"}}),
       make_node("b1", 8, 8, {{"zone", "b"}}), make_node("bare", 8, 8)},
      {make_pool("p")}, {host, zone},
      {make_vm("fe-2", "fe", 1, 1, "a1"), make_vm("fe-1", "fe", 1, 1, "a1"),
       make_vm("db-1", "db", 1, 1, "a2")});
  AntiAffinityFilter f;
  auto fe = request("fe-3", "fe", "p");
  EXPECT_EQ(verdict(f, fe, s, "a1"), "anti-affinity with fe-1 on corral.io/hostname=a1");
  EXPECT_EQ(verdict(f, fe, s, "a2"), "");
  auto db = request("db-2", "db", "p");
  EXPECT_EQ(verdict(f, db, s, "a1"), "anti-affinity with db-1 on zone=a");
  EXPECT_EQ(verdict(f, db, s, "b1"), "");
  EXPECT_EQ(verdict(f, db, s, "bare"), "") << "no zone label: shares no zone with anyone";
}

TEST(SchedulerFilters, PreferredAntiAffinityDoesNotFilter) {
  VMSet set = make_vmset("fe", "p");
  set.spec.antiAffinity = AntiAffinity{"", "preferred"};
  auto s = ClusterSnapshot::build({make_node("a", 8, 8)}, {make_pool("p")}, {set},
                                  {make_vm("fe-1", "fe", 1, 1, "a")});
  AntiAffinityFilter f;
  EXPECT_EQ(verdict(f, request("fe-2", "fe", "p"), s, "a"), "");
}

TEST(SchedulerFilters, TopologySpreadHoldsMaxSkewOverEligibleDomains) {
  VMSet set = make_vmset("fe", "p");
  set.spec.spread = SpreadPolicy{"zone", 1};
  Node c_down = make_node("c1", 8, 8, {{"zone", "c"}}, false);
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("b1", 8, 8, {{"zone", "b"}}), c_down,
       make_node("bare", 8, 8)},
      {make_pool("p")}, {set},
      {make_vm("fe-1", "fe", 1, 1, "a1"), make_vm("fe-2", "fe", 1, 1, "a1"),
       make_vm("fe-3", "fe", 1, 1, "b1")});
  // a=2, b=1; zone c only has a NotReady node, so it is not eligible and its 0
  // does not hold placements back.
  TopologySpreadFilter f;
  auto vm = request("fe-4", "fe", "p");
  EXPECT_EQ(verdict(f, vm, s, "a1"), "topology spread zone: skew 2 > maxSkew 1");
  EXPECT_EQ(verdict(f, vm, s, "b1"), "");
  EXPECT_EQ(verdict(f, vm, s, "bare"), "topology spread zone: node has no zone label");
}

TEST(SchedulerFilters, TopologySpreadCountsAnEmptyReadyDomain) {
  VMSet set = make_vmset("fe", "p");
  set.spec.spread = SpreadPolicy{"zone", 1};
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("b1", 8, 8, {{"zone", "b"}}),
       make_node("c1", 8, 8, {{"zone", "c"}})},
      {make_pool("p")}, {set},
      {make_vm("fe-1", "fe", 1, 1, "a1"), make_vm("fe-2", "fe", 1, 1, "b1")});
  TopologySpreadFilter f;
  auto vm = request("fe-3", "fe", "p");
  EXPECT_EQ(verdict(f, vm, s, "a1"), "topology spread zone: skew 2 > maxSkew 1");
  EXPECT_EQ(verdict(f, vm, s, "c1"), "");
}

TEST(SchedulerFilters, TopologySpreadIgnoresDomainsWhoseTaintsTheVmDoesNotTolerate) {
  VMSet set = make_vmset("fe", "p");
  set.spec.spread = SpreadPolicy{"zone", 1};
  Node tainted = make_node("c1", 8, 8, {{"zone", "c"}});
  tainted.spec.taints.push_back(Taint{"dedicated", "gpu", "NoSchedule"});
  auto s = ClusterSnapshot::build(
      {make_node("a1", 8, 8, {{"zone", "a"}}), make_node("b1", 8, 8, {{"zone", "b"}}), tainted},
      {make_pool("p")}, {set},
      {make_vm("fe-1", "fe", 1, 1, "a1"), make_vm("fe-2", "fe", 1, 1, "b1")});
  TopologySpreadFilter f;
  auto vm = request("fe-3", "fe", "p");
  EXPECT_EQ(verdict(f, vm, s, "a1"), "") << "zone c is not eligible for this VM";
  vm.tolerations.push_back(Toleration{"dedicated", "Exists", "", ""});
  EXPECT_EQ(verdict(f, vm, s, "a1"), "topology spread zone: skew 2 > maxSkew 1");
}

TEST(SchedulerFilters, FiltersWithoutPoliciesAcceptEverything) {
  auto s = ClusterSnapshot::build({make_node("a", 8, 8)}, {make_pool("p")}, {make_vmset("s", "p")},
                                  {make_vm("s-1", "s", 1, 1, "a")});
  AntiAffinityFilter aa;
  TopologySpreadFilter ts;
  EXPECT_EQ(verdict(aa, request("s-2", "s", "p"), s, "a"), "");
  EXPECT_EQ(verdict(ts, request("s-2", "s", "p"), s, "a"), "");
}

}  // namespace scheduler_filters_test
}  // namespace corral::scheduler
