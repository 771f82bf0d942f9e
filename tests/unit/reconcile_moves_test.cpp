// Moves (rebalance and drain), made before broken: the progress of a move in
// flight, drain planning, disruption budgets, and the VMSet loop counting a VM
// and its replacement as one replica. Pure functions; time is passed in.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/annotations.h"
#include "base/clock.h"
#include "controller/reconcile/disruption.h"
#include "controller/reconcile/moves.h"
#include "controller/reconcile/vmset_reconcile.h"

namespace corral::reconcile {
namespace reconcile_moves_test {

using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

VMSet make_set(int32_t replicas, IntOrString max_unavailable = {false, 1, ""}) {
  VMSet s;
  s.metadata.name = "web";
  s.metadata.uid = "uid-web";
  s.spec.pool = "pool";
  s.spec.replicas = replicas;
  s.spec.disruption.maxUnavailable = max_unavailable;
  return s;
}

// A VM of `web` on `node`; Running and Ready in its epoch unless `phase` says otherwise.
VM vm_on(const std::string& name, const std::string& node, const std::string& phase = "Running",
         bool ready = true) {
  VM v = new_vm_for(make_set(1), name);
  v.metadata.uid = "uid-" + name;
  v.spec.nodeName = node;
  v.spec.epoch = 1;
  v.status.phase = phase;
  v.status.epoch = 1;
  v.status.nodeName = node;
  if (phase == "Running")
    v.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  return v;
}

WallTime at(const std::string& rfc3339) {
  WallTime t{};
  EXPECT_TRUE(parse_time(rfc3339, &t)) << rfc3339;
  return t;
}

const WallTime kStart = at("2026-11-27T10:00:00.000Z");

// R replacing `old` toward `target` (or anywhere), started at kStart.
VM replacement(const std::string& name, const VM& old, const std::string& target,
               const std::string& node = "", const std::string& phase = "") {
  VM r = replacement_for(make_set(1), old, name, target, "rebalance: test", kStart);
  r.metadata.uid = "uid-" + name;
  if (!node.empty()) {
    r.spec.nodeName = node;
    r.spec.epoch = 1;
  }
  r.status.phase = phase;
  if (phase == "Running") {
    r.status.epoch = 1;
    r.status.nodeName = node;
    r.status.conditions.push_back(Condition{"Ready", "True", "", "", "", 0});
  }
  return r;
}

Node node(const std::string& name, bool drain = false) {
  Node n;
  n.metadata.name = name;
  n.metadata.uid = "uid-" + name;
  n.spec.drain = drain;
  n.spec.unschedulable = drain;
  return n;
}

// ---- replacement_for -------------------------------------------------------------

TEST(Moves, ReplacementIsANewReplicaCarryingTheMoveMarks) {
  VM old = vm_on("web-a", "h1");
  VM r = replacement_for(make_set(3), old, "web-b", "h2", "drain node/h1", kStart);
  EXPECT_EQ(r.metadata.name, "web-b");
  EXPECT_TRUE(r.spec.nodeName.empty());  // the scheduler binds it
  EXPECT_EQ(r.spec.epoch, 0);
  ASSERT_EQ(r.metadata.ownerReferences.size(), 1u);
  EXPECT_EQ(r.metadata.ownerReferences[0].uid, "uid-web");
  EXPECT_EQ(annotation(r, kReplacesAnnotation), "web-a");
  EXPECT_EQ(annotation(r, kTargetNodeAnnotation), "h2");
  EXPECT_EQ(annotation(r, kMoveReasonAnnotation), "drain node/h1");
  EXPECT_EQ(annotation(r, kMovedAtAnnotation), "2026-11-27T10:00:00.000Z");
  EXPECT_TRUE(is_replacement(r));
  EXPECT_FALSE(is_replacement(old));
}

// ---- progress_moves ----------------------------------------------------------------

TEST(Moves, WaitsWhileTheReplacementStarts) {
  VM old = vm_on("web-a", "h1");
  std::vector<VM> vms = {old, replacement("web-b", old, "h2", "h2", "Starting")};
  EXPECT_TRUE(progress_moves(vms, kStart + seconds(10)).empty());
}

TEST(Moves, CompletesOnlyOnceTheReplacementRunsAndIsReady) {
  VM old = vm_on("web-a", "h1");
  VM r = replacement("web-b", old, "h2", "h2", "Running");
  r.status.conditions[0].status = "False";
  EXPECT_TRUE(progress_moves({old, r}, kStart).empty()) << "running but not Ready: wait";
  r.status.conditions[0].status = "True";
  r.status.epoch = 0;
  EXPECT_TRUE(progress_moves({old, r}, kStart).empty()) << "a stale-epoch report: wait";
  r.status.epoch = 1;
  auto steps = progress_moves({old, r}, kStart);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, MoveStepKind::kComplete);
  EXPECT_EQ(steps[0].old_vm, "web-a");
  EXPECT_EQ(steps[0].old_uid, "uid-web-a");
  EXPECT_EQ(steps[0].from, "h1");
  EXPECT_EQ(steps[0].to, "h2");
  EXPECT_THAT(steps[0].message, HasSubstr("rebalance: test"));
}

TEST(Moves, CancelsAReplacementThatFailedOrWasLost) {
  VM old = vm_on("web-a", "h1");
  for (const char* phase : {"Failed", "Lost"}) {
    auto steps = progress_moves({old, replacement("web-b", old, "h2", "h2", phase)}, kStart);
    ASSERT_EQ(steps.size(), 1u) << phase;
    EXPECT_EQ(steps[0].kind, MoveStepKind::kCancel);
    EXPECT_EQ(steps[0].replacement_uid, "uid-web-b");
    EXPECT_THAT(steps[0].message, HasSubstr(phase));
  }
}

TEST(Moves, CancelsWhenTheTargetNodeNoLongerFits) {
  VM old = vm_on("web-a", "h1");
  VM r = replacement("web-b", old, "h2");
  r.status.phase = "Pending";
  EXPECT_TRUE(progress_moves({old, r}, kStart).empty()) << "not tried yet";
  r.status.message = "move target node/h2: insufficient cpu";
  auto steps = progress_moves({old, r}, kStart);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, MoveStepKind::kCancel);
  EXPECT_THAT(steps[0].message, HasSubstr("insufficient cpu"));
}

TEST(Moves, ADrainReplacementWaitsForRoomWithoutTimingOut) {
  VM old = vm_on("web-a", "h1");
  VM r = replacement("web-b", old, "");
  r.status.message = "0/3 nodes are available: 3 insufficient memory.";
  EXPECT_TRUE(progress_moves({old, r}, kStart + seconds(3600)).empty());
}

TEST(Moves, GivesUpOnABoundReplacementNotReadyWithinTheTimeout) {
  VM old = vm_on("web-a", "h1");
  std::vector<VM> vms = {old, replacement("web-b", old, "h2", "h2", "Starting")};
  MoveOptions options;
  options.timeout = seconds(300);
  EXPECT_TRUE(progress_moves(vms, kStart + seconds(300), options).empty());
  auto steps = progress_moves(vms, kStart + seconds(301), options);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, MoveStepKind::kCancel);
  EXPECT_THAT(steps[0].message, HasSubstr("within 300s"));
}

TEST(Moves, FinishesWhenTheOldVmIsGone) {
  VM old = vm_on("web-a", "h1");
  auto steps = progress_moves({replacement("web-b", old, "h2", "h2", "Running")}, kStart);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, MoveStepKind::kFinish);
  EXPECT_EQ(steps[0].replacement, "web-b");
}

// ---- disruption budgets ---------------------------------------------------------------

TEST(Disruption, MaxUnavailableResolvesCountsAndPercentRoundedUp) {
  EXPECT_EQ(resolve_max_unavailable({false, 2, ""}, 10), 2);
  EXPECT_EQ(resolve_max_unavailable({false, -1, ""}, 10), 0);
  EXPECT_EQ(resolve_max_unavailable({true, 0, "25%"}, 3), 1);
  EXPECT_EQ(resolve_max_unavailable({true, 0, "25%"}, 8), 2);
  EXPECT_EQ(resolve_max_unavailable({true, 0, "0%"}, 8), 0);
  EXPECT_EQ(resolve_max_unavailable({true, 0, "100%"}, 8), 8);
}

TEST(Disruption, UnavailableReplicasAndMovesInFlightUseUpTheBudget) {
  VMSet set = make_set(3, {false, 1, ""});
  VM a = vm_on("web-a", "h1"), b = vm_on("web-b", "h2"), c = vm_on("web-c", "h3");
  EXPECT_EQ(disruption_budget(set, {&a, &b, &c}).allowed(), 1);

  VM down = vm_on("web-c", "h3", "Starting");
  DisruptionBudget one_down = disruption_budget(set, {&a, &b, &down});
  EXPECT_EQ(one_down.unavailable, 1);
  EXPECT_EQ(one_down.allowed(), 0);
  EXPECT_THAT(one_down.describe(), HasSubstr("1 unavailable"));

  VM r = replacement("web-d", a, "h4", "h4", "Starting");
  DisruptionBudget moving = disruption_budget(set, {&a, &b, &c, &r});
  EXPECT_EQ(moving.in_flight, 1);
  EXPECT_EQ(moving.unavailable, 0) << "a VM and its replacement are one replica";
  EXPECT_EQ(moving.allowed(), 0);
}

// ---- plan_drains -------------------------------------------------------------------------

std::map<std::string, DisruptionBudget> budgets_for(const VMSet& set, const std::vector<VM>& vms) {
  return disruption_budgets({set}, vms);
}

TEST(Drain, MovesVmsOffTheNodeWithinTheBudgetHighestPriorityFirst) {
  VMSet set = make_set(4, {false, 1, ""});
  std::vector<VM> vms = {vm_on("web-a", "h1"), vm_on("web-b", "h1"), vm_on("web-c", "h2"),
                         vm_on("web-d", "h3")};
  vms[1].spec.priority = 5;
  auto budgets = budgets_for(set, vms);
  DrainPlan plan = plan_drains({node("h1", true), node("h2"), node("h3")}, vms, budgets, 100);
  ASSERT_EQ(plan.start.size(), 1u);
  EXPECT_EQ(plan.start[0].vm, "web-b") << "priority 5 goes first";
  EXPECT_EQ(plan.start[0].reason, "drain node/h1");
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_EQ(plan.waiting[0].vm, "web-a");
  EXPECT_THAT(plan.waiting[0].reason, HasSubstr("disruption budget"));
  EXPECT_EQ(plan.remaining.at("h1"), 2);
  EXPECT_EQ(budgets.at("web").allowed(), 0) << "the started move used the budget up";
}

TEST(Drain, VmsNotInServiceMoveWithoutBudgetAndMovingOnesAreNotStartedTwice) {
  VMSet set = make_set(3, {false, 0, ""});
  VM serving = vm_on("web-a", "h1");
  VM starting = vm_on("web-b", "h1", "Starting");
  VM moving = vm_on("web-c", "h1");
  std::vector<VM> vms = {serving, starting, moving, replacement("web-z", moving, "", "h2")};
  auto budgets = budgets_for(set, vms);
  DrainPlan plan = plan_drains({node("h1", true), node("h2")}, vms, budgets, 100);
  ASSERT_EQ(plan.start.size(), 1u);
  EXPECT_EQ(plan.start[0].vm, "web-b");
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_EQ(plan.waiting[0].vm, "web-a");
  EXPECT_EQ(plan.remaining.at("h1"), 3);
}

TEST(Drain, AVmWithoutAVmSetWaitsAndSaysWhy) {
  VM bare = vm_on("solo", "h1");
  bare.metadata.ownerReferences.clear();
  std::map<std::string, DisruptionBudget> budgets;
  DrainPlan plan = plan_drains({node("h1", true)}, {bare}, budgets, 100);
  EXPECT_TRUE(plan.start.empty());
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_THAT(plan.waiting[0].reason, HasSubstr("not owned by a VMSet"));
}

TEST(Drain, ANodeNotDrainingIsLeftAloneAndAnEmptyOneIsDone) {
  VMSet set = make_set(1);
  std::vector<VM> vms = {vm_on("web-a", "h1"), vm_on("web-b", "h2", "Lost")};
  auto budgets = budgets_for(set, vms);
  DrainPlan plan = plan_drains({node("h1"), node("h2", true)}, vms, budgets, 100);
  EXPECT_TRUE(plan.start.empty());
  EXPECT_TRUE(plan.waiting.empty());
  EXPECT_EQ(plan.remaining.count("h1"), 0u);
  EXPECT_EQ(plan.remaining.at("h2"), 0) << "a Lost VM does not hold the drain";
}

TEST(Drain, StartsAtMostMaxStart) {
  VMSet set = make_set(3, {false, 3, ""});
  std::vector<VM> vms = {vm_on("web-a", "h1"), vm_on("web-b", "h1"), vm_on("web-c", "h1")};
  auto budgets = budgets_for(set, vms);
  DrainPlan plan = plan_drains({node("h1", true)}, vms, budgets, 2);
  EXPECT_EQ(plan.start.size(), 2u);
  ASSERT_EQ(plan.waiting.size(), 1u);
  EXPECT_THAT(plan.waiting[0].reason, HasSubstr("too many moves"));
}

// ---- the VMSet loop during a move ----------------------------------------------------------

TEST(Moves, AVmAndItsReplacementCountAsOneReplicaForTheVmSet) {
  VMSet set = make_set(2);
  VM a = vm_on("web-a", "h1"), b = vm_on("web-b", "h2");
  std::vector<VM> vms = {a, b, replacement("web-c", a, "h3", "h3", "Starting")};
  std::vector<Node> nodes;
  VmSetInput in{&set, pointers_to(vms), pointers_to(nodes), 1};
  VmSetPlan plan = reconcile_vmset(in);
  EXPECT_TRUE(plan.create.empty());
  EXPECT_TRUE(plan.remove.empty()) << "no scale-down of the surge";
  EXPECT_EQ(plan.status.replicas, 2);

  // Once the old VM is gone, the replacement is an ordinary replica.
  std::vector<VM> after = {b, replacement("web-c", a, "h3", "h3", "Running")};
  VmSetInput in2{&set, pointers_to(after), pointers_to(nodes), 1};
  VmSetPlan plan2 = reconcile_vmset(in2);
  EXPECT_TRUE(plan2.create.empty());
  EXPECT_EQ(plan2.status.replicas, 2);
  EXPECT_EQ(plan2.status.running, 2);
}

}  // namespace reconcile_moves_test
}  // namespace corral::reconcile
