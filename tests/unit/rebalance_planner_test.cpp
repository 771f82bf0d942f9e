// The rebalancer's move planner on small hand-made pools: which VM moves where,
// which rules stop a move, and what the plan reports.
#include <gtest/gtest.h>

#include <algorithm>

#include "controller/rebalance/annotations.h"
#include "controller/rebalance/load_model.h"
#include "controller/rebalance/lower_bound.h"
#include "tests/unit/rebalance_fixtures.h"

namespace corral::rebalance {
namespace rebalance_planner_test {

using namespace corral::rebalance::testing;

// Three 10-core nodes; h1 at 0.8 (base 1 + VMs of 1, 2 and 4 cores), h2 and h3
// at 0.3. L = 0.467, h1 is +0.33 over it (maxImbalance 0.2).
World skewed_three() {
  World w;
  w.pool = rebalance_pool("web");
  w.sets.push_back(scheduler::testing::make_vmset("s", "web"));
  w.nodes.push_back(loaded_node("h1", 10, 64, 8, 0));
  w.nodes.push_back(loaded_node("h2", 10, 64, 3, 0));
  w.nodes.push_back(loaded_node("h3", 10, 64, 3, 0));
  w.vms.push_back(running_vm("s-small", "s", 1, 1, "h1", 1));
  w.vms.push_back(running_vm("s-medium", "s", 2, 1, "h1", 2));
  w.vms.push_back(running_vm("s-large", "s", 4, 1, "h1", 4));
  return w;
}

TEST(Planner, MovesLargestVmThatFitsBand) {
  // Moving the 4-core VM would push h2 to 0.7 (+0.23, out of band); the 2-core
  // VM brings h1 to 0.6 and h2 to 0.5, both inside: one move settles it.
  Plan plan = plan_world(skewed_three(), {"h1"});
  ASSERT_EQ(plan.moves.size(), 1u) << plan.stopped;
  const Move& m = plan.moves[0];
  EXPECT_EQ(m.vm, "s-medium");
  EXPECT_EQ(m.vmset, "s");
  EXPECT_EQ(m.from, "h1");
  EXPECT_EQ(m.to, "h2");  // h2 and h3 tie: the name that sorts first
  EXPECT_EQ(m.reason, "node h1 +0.33 over mean 0.47 (maxImbalance 0.20)");
  EXPECT_NEAR(m.from_deviation_before, 0.8 - 1.4 / 3, 1e-9);
  EXPECT_NEAR(m.from_deviation_after, 0.6 - 1.4 / 3, 1e-9);
  EXPECT_NEAR(m.to_deviation_before, 0.3 - 1.4 / 3, 1e-9);
  EXPECT_NEAR(m.to_deviation_after, 0.5 - 1.4 / 3, 1e-9);
  EXPECT_NEAR(m.gain, (0.8 - 1.4 / 3) - (0.6 - 1.4 / 3), 1e-9);
  EXPECT_EQ(plan.stopped, "every node in band");
  EXPECT_NEAR(plan.mean_before, 1.4 / 3, 1e-9);
  EXPECT_NEAR(plan.max_deviation_before, 0.8 - 1.4 / 3, 1e-9);
  EXPECT_NEAR(plan.max_deviation_after, 1.4 / 3 - 0.3, 1e-9);  // h3, untouched
  ASSERT_EQ(plan.nodes_after.size(), 3u);
  for (const auto& n : plan.nodes_after) EXPECT_TRUE(n.in_band) << n.name;
  EXPECT_FALSE(plan.nodes_before[0].in_band);
  EXPECT_EQ(plan.lower_bound, 1);
}

TEST(Planner, RespectsRequiredAntiAffinity) {
  // h2 is the least loaded, but it already runs a replica of s and the set
  // wants one per host: the replacement goes to h3.
  World w = skewed_three();
  w.sets[0].spec.antiAffinity = AntiAffinity{"", "required"};
  w.nodes[1] = loaded_node("h2", 10, 64, 2, 0);
  w.vms = {running_vm("s-1", "s", 2, 1, "h1", 2), running_vm("s-2", "s", 1, 1, "h2", 1),
           running_vm("t-1", "", 4, 1, "h1", 4)};  // not owned by a set: stays
  Plan plan = plan_world(w, {"h1"});
  ASSERT_EQ(plan.moves.size(), 1u) << plan.stopped;
  EXPECT_EQ(plan.moves[0].vm, "s-1");
  EXPECT_EQ(plan.moves[0].to, "h3");
}

TEST(Planner, AntiAffinityMakeBeforeBreakForbidsTheVmsOwnZone) {
  // Anti-affinity by zone: while the replacement starts, the VM still runs in
  // its zone, so a target in the same zone is refused even though the end
  // state would be fine. The only other zone's node is full: nothing moves.
  World w;
  w.pool = rebalance_pool("web");
  VMSet s = scheduler::testing::make_vmset("s", "web");
  s.spec.antiAffinity = AntiAffinity{"zone", "required"};
  w.sets.push_back(s);
  w.nodes.push_back(loaded_node("h1", 10, 64, 8, 0, {{"zone", "a"}}));
  w.nodes.push_back(loaded_node("h2", 10, 64, 1, 0, {{"zone", "a"}}));
  w.nodes.push_back(loaded_node("h3", 10, 64, 3, 0, {{"zone", "b"}}));
  w.vms.push_back(running_vm("s-1", "s", 3, 1, "h1", 3));
  w.vms.push_back(running_vm("s-2", "s", 1, 1, "h3", 1));
  Plan plan = plan_world(w, {"h1"});
  EXPECT_TRUE(plan.moves.empty()) << plan.moves[0].vm << " → " << plan.moves[0].to;
  EXPECT_EQ(plan.stopped, "no move gains minGain");
}

TEST(Planner, SpreadEndStateIsChecked) {
  // Spread over zones, maxSkew 1, one replica per zone a, b, c. Moving s-1 off
  // zone a to h2 (zone b) passes with s-1 still in place (skew 1+1−1 = 1), but
  // once it is gone zone a is empty: b would hold 2 against 0. h4, also in
  // zone a, keeps the spread.
  World w;
  w.pool = rebalance_pool("web", 0.25);  // the end state is then well inside
  VMSet s = scheduler::testing::make_vmset("s", "web");
  s.spec.spread = SpreadPolicy{"zone", 1};
  w.sets.push_back(s);
  w.nodes.push_back(loaded_node("h1", 10, 64, 8, 0, {{"zone", "a"}}));
  w.nodes.push_back(loaded_node("h2", 10, 64, 1, 0, {{"zone", "b"}}));
  w.nodes.push_back(loaded_node("h3", 10, 64, 1, 0, {{"zone", "c"}}));
  w.nodes.push_back(loaded_node("h4", 10, 64, 2, 0, {{"zone", "a"}}));
  w.vms.push_back(running_vm("s-1", "s", 3, 1, "h1", 3));
  w.vms.push_back(running_vm("s-2", "s", 1, 1, "h2", 1));
  w.vms.push_back(running_vm("s-3", "s", 1, 1, "h3", 1));
  Plan plan = plan_world(w, {"h1"});
  ASSERT_EQ(plan.moves.size(), 1u) << plan.stopped;
  EXPECT_EQ(plan.moves[0].vm, "s-1");
  EXPECT_EQ(plan.moves[0].to, "h4");
}

TEST(Planner, SkipsCordonedAndNotReadyTargets) {
  World w = skewed_three();
  w.nodes[1].spec.unschedulable = true;                // h2 cordoned
  w.nodes.push_back(loaded_node("h0", 10, 64, 0, 0));  // NotReady below
  w.nodes.back().status.phase = "NotReady";
  w.nodes.back().status.conditions[0].status = "False";
  Plan plan = plan_world(w, {"h1"});
  ASSERT_FALSE(plan.moves.empty());
  for (const Move& m : plan.moves) EXPECT_EQ(m.to, "h3");
  // The NotReady node is not part of the pool's mean at all.
  EXPECT_EQ(plan.nodes_before.size(), 3u);
}

TEST(Planner, NewEmptyNodeReceivesLoad) {
  // Four nodes at 0.6 and a new empty one: L = 0.48, h5 is 0.48 under it.
  World w;
  w.pool = rebalance_pool("web");
  w.sets.push_back(scheduler::testing::make_vmset("s", "web"));
  for (int i = 1; i <= 4; ++i) {
    const std::string n = "h" + std::to_string(i);
    w.nodes.push_back(loaded_node(n, 10, 64, 6, 0));
    for (int k = 0; k < 3; ++k)
      w.vms.push_back(running_vm("s-" + n + "-" + std::to_string(k), "s", 2, 1, n, 2));
  }
  w.nodes.push_back(loaded_node("h5", 10, 64, 0, 0));
  Plan plan = plan_world(w, {"h5"});
  ASSERT_FALSE(plan.moves.empty());
  for (const Move& m : plan.moves) {
    EXPECT_EQ(m.to, "h5");
    EXPECT_EQ(m.reason.rfind("node h5 \u2212", 0), 0u) << m.reason;
  }
  EXPECT_EQ(plan.stopped, "every node in band");
  for (const auto& n : plan.nodes_after) EXPECT_TRUE(n.in_band) << n.name << " " << n.load;
  EXPECT_GE(static_cast<int32_t>(plan.moves.size()), plan.lower_bound);
  EXPECT_GE(plan.lower_bound, 1);
}

TEST(Planner, CooldownBlocksMove) {
  World w = skewed_three();
  for (VM& vm : w.vms)
    vm.metadata.annotations[std::string(kMovedAtAnnotation)] =
        format_time(test_now() - std::chrono::seconds(10));
  Plan plan = plan_world(w, {"h1"});
  EXPECT_TRUE(plan.moves.empty());
  EXPECT_EQ(plan.stopped, "no move gains minGain");
  EXPECT_EQ(plan.lower_bound, 0);  // nothing movable: nothing to count
  // cooldownSeconds (300) later they may move again.
  Plan later = plan_world(w, {"h1"}, -1, {}, 100, test_now() + std::chrono::seconds(290));
  EXPECT_EQ(later.moves.size(), 1u);
}

TEST(Planner, NotMovableReasons) {
  World w = skewed_three();
  PlanInput in = build_plan_input(w.pool, w.nodes, w.sets, w.vms, test_now(), {}, {});
  ASSERT_EQ(in.vms.size(), 3u);
  EXPECT_TRUE(in.vms[0].movable);
  std::map<std::string, const VMSet*> sets{{"s", &w.sets[0]}};
  VM vm = w.vms[0];
  EXPECT_EQ(not_movable_reason(vm, w.pool, sets, {}, test_now()), "");
  EXPECT_EQ(not_movable_reason(vm, w.pool, sets, {vm.metadata.name}, test_now()), "being moved");
  VM stale = vm;
  stale.spec.epoch = 2;
  EXPECT_EQ(not_movable_reason(stale, w.pool, sets, {}, test_now()), "not Running in its epoch");
  VM lost = vm;
  lost.status.phase = "Lost";
  EXPECT_EQ(not_movable_reason(lost, w.pool, sets, {}, test_now()), "phase Lost");
  VM replacement = vm;
  replacement.status.phase = "Starting";
  replacement.metadata.annotations[std::string(kReplacesAnnotation)] = "s-old";
  EXPECT_EQ(not_movable_reason(replacement, w.pool, sets, {}, test_now()),
            "replacement of s-old in flight");
  VM orphan = running_vm("x", "", 1, 1, "h1", 1);
  EXPECT_EQ(not_movable_reason(orphan, w.pool, sets, {}, test_now()), "not owned by a VMSet");
  VM cooling = vm;
  cooling.metadata.annotations[std::string(kMovedAtAnnotation)] = "2026-11-27T08:59:00Z";
  EXPECT_EQ(not_movable_reason(cooling, w.pool, sets, {}, test_now()),
            "cooldown until 2026-11-27T09:04:00.000Z");
  cooling.metadata.annotations[std::string(kMovedAtAnnotation)] = "yesterday";
  EXPECT_NE(not_movable_reason(cooling, w.pool, sets, {}, test_now()), "");
}

TEST(Planner, MovesInFlightAreLeftAlone) {
  // s-medium is being moved (a replacement names it); the replacement itself
  // is Starting on h3 and counts there by its requests.
  World w = skewed_three();
  VM repl = scheduler::testing::make_vm("s-new", "s", 2, 1, "h3", "Starting");
  repl.metadata.annotations[std::string(kReplacesAnnotation)] = "s-medium";
  w.vms.push_back(repl);
  Plan plan = plan_world(w, {"h1"});
  for (const Move& m : plan.moves) {
    EXPECT_NE(m.vm, "s-medium");
    EXPECT_NE(m.vm, "s-new");
  }
  // h3 carries the replacement's 2 requested cores on top of its 3 measured.
  EXPECT_NEAR(plan.nodes_before[2].load, 0.5, 1e-9);
}

TEST(Planner, BudgetBlocksAndIsReported) {
  Plan plan = plan_world(skewed_three(), {"h1"}, -1, {{"s", 0}});
  EXPECT_TRUE(plan.moves.empty());
  ASSERT_EQ(plan.blocked_by_budget.size(), 1u);
  EXPECT_EQ(plan.blocked_by_budget[0].vm, "s-medium");
  EXPECT_EQ(plan.blocked_by_budget[0].vmset, "s");
  // Two hot nodes, one disruption allowed: the first move uses it up, the
  // second is reported.
  World w;
  w.pool = rebalance_pool("web");
  w.sets.push_back(scheduler::testing::make_vmset("s", "web"));
  w.nodes.push_back(loaded_node("h1", 10, 64, 8, 0));
  w.nodes.push_back(loaded_node("h2", 10, 64, 8, 0));
  w.nodes.push_back(loaded_node("h3", 10, 64, 1, 0));
  w.nodes.push_back(loaded_node("h4", 10, 64, 1, 0));
  w.vms.push_back(running_vm("s-1", "s", 2, 1, "h1", 2));
  w.vms.push_back(running_vm("s-2", "s", 2, 1, "h2", 2));
  Plan one = plan_world(w, {"h1", "h2"}, -1, {{"s", 1}});
  ASSERT_EQ(one.moves.size(), 1u);
  EXPECT_EQ(one.moves[0].vm, "s-1");
  ASSERT_EQ(one.blocked_by_budget.size(), 1u);
  EXPECT_EQ(one.blocked_by_budget[0].vm, "s-2");
}

TEST(Planner, NothingActionableGivesEmptyPlan) {
  // h1 is out of band but has not been for holdSeconds (not listed), and is
  // below highWatermark: nothing happens yet, the loads are still reported.
  Plan plan = plan_world(skewed_three(), {});
  EXPECT_TRUE(plan.moves.empty());
  EXPECT_EQ(plan.stopped, "nothing actionable");
  ASSERT_EQ(plan.nodes_before.size(), 3u);
  EXPECT_EQ(plan.nodes_before[0].name, "h1");
  EXPECT_FALSE(plan.nodes_before[0].in_band);
  EXPECT_NEAR(plan.nodes_before[0].load, 0.8, 1e-9);
  EXPECT_EQ(plan.nodes_after.size(), 3u);
  // A listed node that is back inside the band is not actionable either.
  EXPECT_TRUE(plan_world(skewed_three(), {"h2"}).moves.empty());
}

TEST(Planner, AboveHighWatermarkIsActionableAtOnce) {
  World w = skewed_three();
  w.nodes[0] = loaded_node("h1", 10, 64, 9, 0);  // 0.9 > 0.85
  Plan plan = plan_world(w, {});
  ASSERT_FALSE(plan.moves.empty());
  EXPECT_EQ(plan.moves[0].reason, "node h1 load 0.90 > highWatermark 0.85");
}

TEST(Planner, MaxMovesCapsTheRound) {
  World w;
  w.pool = rebalance_pool("web");
  w.sets.push_back(scheduler::testing::make_vmset("s", "web"));
  w.nodes.push_back(loaded_node("h1", 10, 64, 9, 0));
  for (int k = 0; k < 9; ++k)
    w.vms.push_back(running_vm("s-" + std::to_string(k), "s", 1, 1, "h1", 1));
  for (int i = 2; i <= 4; ++i)
    w.nodes.push_back(loaded_node("h" + std::to_string(i), 10, 64, 0, 0));
  Plan two = plan_world(w, {"h1"}, 2);
  EXPECT_EQ(two.moves.size(), 2u);
  EXPECT_EQ(two.stopped, "maxMoves reached");
  Plan all = plan_world(w, {"h1"});
  EXPECT_GT(all.moves.size(), 2u);
  EXPECT_EQ(all.stopped, "every node in band");
  EXPECT_GE(static_cast<int32_t>(all.moves.size()), all.lower_bound);
  // Each move saw the earlier ones: the gains are all positive and the max
  // deviation never rose.
  for (const Move& m : all.moves) EXPECT_GE(m.gain, w.pool.spec.rebalance.minGain);
}

TEST(Planner, LowerBoundCountsLargestVmsFirst) {
  // h1 at 1.0 on a 4-node pool of equal nodes: L = 0.4, band top 0.6. Its VMs
  // (4, 2, 2, 1, 1 cores) must shed ≥ 4 cores: the 4-core VM alone could.
  World w;
  w.pool = rebalance_pool("web");
  w.sets.push_back(scheduler::testing::make_vmset("s", "web"));
  w.nodes.push_back(loaded_node("h1", 10, 64, 10, 0));
  int k = 0;
  for (double c : {4.0, 2.0, 2.0, 1.0, 1.0})
    w.vms.push_back(running_vm("s-" + std::to_string(k++), "s", c, 1, "h1", c));
  w.nodes.push_back(loaded_node("h2", 10, 64, 6, 0));
  w.nodes.push_back(loaded_node("h3", 10, 64, 0, 0));
  w.nodes.push_back(loaded_node("h4", 10, 64, 0, 0));
  PlanInput in = build_plan_input(w.pool, w.nodes, w.sets, w.vms, test_now(), {}, {});
  LoadModel model(in);
  std::vector<bool> movable(in.vms.size(), true);
  // Over: h1 needs 1 departure (4 ≥ 10 − 6). Under: h3 and h4 (0 < 0.2) each
  // need 2 cores: 1 arrival each. max(1, 2) = 2.
  EXPECT_EQ(lower_bound(model, movable, 0), 2);
  // Without the 4-core VM, h1 needs 2 + 2.
  movable[0] = false;
  EXPECT_EQ(lower_bound(model, movable, 0), 2);
  movable.assign(in.vms.size(), false);
  movable[3] = movable[4] = true;  // only 1 + 1 cores can leave
  // Over: both, and still not enough. Under: 2 cores for each empty node, 1 + 1.
  EXPECT_EQ(lower_bound(model, movable, 0), 4);
}

// What the scheduler's filters and scorers read of a snapshot, per node and per set.
std::string fingerprint(const scheduler::ClusterSnapshot& s) {
  std::string out;
  for (const auto& n : s.nodes())
    out += n.name + ":" + std::to_string(n.requested_cpu) + "/" + std::to_string(n.expected_cpu) +
           "/" + std::to_string(n.vm_count) + " ";
  if (const auto* set = s.vmset("s"))
    for (const auto& n : s.nodes()) {
      const auto* d = s.replicas_in_domain(*set, "corral.io/hostname", n);
      out += std::to_string(d ? d->count : 0) + (d && !d->vms.empty() ? *d->vms.begin() : "") + ",";
    }
  return out;
}

TEST(Planner, LeavesTheSnapshotAsItWas) {
  // The loop lends its snapshot: every planned move is undone, Running VMs
  // stay Running (not expected load), a Starting one stays expected.
  World w = skewed_three();
  w.nodes[0] = loaded_node("h1", 10, 64, 10, 0);
  w.vms.push_back(scheduler::testing::make_vm("s-starting", "s", 1, 1, "h1", "Starting"));
  PlanInput in =
      build_plan_input(w.pool, w.nodes, w.sets, w.vms, test_now(), {"h1"}, {{"s", 10}}, -1);
  auto snapshot = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, w.vms);
  const std::string before = fingerprint(snapshot);
  Plan plan = plan_moves(in, snapshot);
  EXPECT_GE(plan.moves.size(), 2u);
  EXPECT_EQ(fingerprint(snapshot), before);
  EXPECT_FALSE(snapshot.expected("s-large"));
  EXPECT_TRUE(snapshot.expected("s-starting"));
  EXPECT_EQ(snapshot.node_of_vm("s-large")->name, "h1");
}

TEST(Snapshot, PlacePutsBackWhatRemoveVmTook) {
  World w = skewed_three();
  auto s = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, w.vms);
  const std::string before = fingerprint(s);
  scheduler::VmRequest r = scheduler::testing::request("s-large", "s", "web", 4, 1);
  const uint32_t h1 = s.node("h1")->index;
  EXPECT_FALSE(s.expected("s-large"));  // Running
  s.remove_vm("s-large");
  EXPECT_EQ(s.node_of_vm("s-large"), nullptr);
  s.place(r, s.node("h2")->index, false);
  EXPECT_EQ(s.node("h2")->requested_cpu, 4000);
  EXPECT_EQ(s.node("h2")->expected_cpu, 0);
  s.place(r, h1, false);
  EXPECT_EQ(fingerprint(s), before);
  s.bind(r, h1);  // bind: expected until the agent reports it Running
  EXPECT_TRUE(s.expected("s-large"));
  EXPECT_EQ(s.node("h1")->expected_cpu, 4000);
}

TEST(Planner, SameInputSamePlan) {
  World w = skewed_three();
  Plan a = plan_world(w, {"h1"});
  std::reverse(w.nodes.begin(), w.nodes.end());
  std::reverse(w.vms.begin(), w.vms.end());
  Plan b = plan_world(w, {"h1"});
  ASSERT_EQ(a.moves.size(), b.moves.size());
  for (size_t i = 0; i < a.moves.size(); ++i) {
    EXPECT_EQ(a.moves[i].vm, b.moves[i].vm);
    EXPECT_EQ(a.moves[i].to, b.moves[i].to);
  }
}

}  // namespace rebalance_planner_test
}  // namespace corral::rebalance
