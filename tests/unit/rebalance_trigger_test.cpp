// The rebalance trigger (controller/rebalance/trigger.h): band, hold, interval
// and how many moves fit, on fixed steady instants — nothing sleeps.
#include <gtest/gtest.h>

#include "api/annotations.h"
#include "controller/rebalance/trigger.h"
#include "tests/unit/rebalance_fixtures.h"

namespace corral::rebalance::testing {
namespace rebalance_trigger_test {

using namespace std::chrono_literals;

const SteadyTime kT0 = SteadyTime{} + 1000s;

RebalancePolicy policy(int32_t hold_seconds = 10, int32_t interval_seconds = 5) {
  RebalancePolicy p;
  p.enabled = true;
  p.maxImbalance = 0.2;
  p.highWatermark = 0.85;
  p.holdSeconds = hold_seconds;
  p.intervalSeconds = interval_seconds;
  p.maxMovesPerRound = 2;
  return p;
}

// "web" with a at 0.6 and b at 0.1: mean 0.35, both 0.25 off it (out of a 0.2 band).
PoolLoads skewed(RebalancePolicy p = policy()) {
  return PoolLoads{"web", p, {{"a", 0.6}, {"b", 0.1}}};
}

TEST(RebalanceTrigger, OutOfBandIsOutsideTheBandOrAboveTheWatermark) {
  const RebalancePolicy p = policy();
  EXPECT_FALSE(out_of_band(0.5, 0.4, p));
  EXPECT_FALSE(out_of_band(0.6, 0.4, p)) << "exactly maxImbalance off is in band";
  EXPECT_TRUE(out_of_band(0.61, 0.4, p));
  EXPECT_TRUE(out_of_band(0.19, 0.4, p));
  EXPECT_TRUE(out_of_band(0.9, 0.88, p)) << "above the watermark, however close to L";
}

TEST(RebalanceTrigger, HoldsUntilOutOfBandForTheHoldPeriod) {
  TriggerDecision d = decide_rounds({skewed()}, {}, kT0);
  EXPECT_TRUE(d.rounds.empty()) << "just went out of band";
  ASSERT_EQ(d.state.out_of_band_since.size(), 2u);
  EXPECT_EQ(d.state.out_of_band_since.at({"web", "a"}), kT0);

  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 9s);
  EXPECT_TRUE(d.rounds.empty()) << "9 s of a 10 s hold";

  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 10s);
  ASSERT_EQ(d.rounds.size(), 1u);
  EXPECT_EQ(d.rounds[0].pool, "web");
  EXPECT_EQ(d.rounds[0].actionable, (std::set<std::string>{"a", "b"}));
  EXPECT_EQ(d.state.out_of_band_since.at({"web", "a"}), kT0) << "the hold keeps its start";
}

TEST(RebalanceTrigger, AboveTheHighWatermarkActsWithoutWaitingForTheHold) {
  PoolLoads pool{"web", policy(/*hold_seconds=*/60), {{"hot", 0.95}, {"cold", 0.1}}};
  TriggerDecision d = decide_rounds({pool}, {}, kT0);
  ASSERT_EQ(d.rounds.size(), 1u);
  EXPECT_EQ(d.rounds[0].actionable, (std::set<std::string>{"hot"}))
      << "cold is out of band too, but must still wait out its hold";
}

TEST(RebalanceTrigger, WaitsTheIntervalBetweenRoundsOfAPool) {
  TriggerState state;
  state.out_of_band_since[{"web", "a"}] = kT0 - 60s;
  state.out_of_band_since[{"web", "b"}] = kT0 - 60s;
  TriggerDecision d = decide_rounds({skewed()}, std::move(state), kT0);
  ASSERT_EQ(d.rounds.size(), 1u);
  EXPECT_EQ(d.state.last_round.at("web"), kT0);

  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 4s);
  EXPECT_TRUE(d.rounds.empty()) << "4 s of a 5 s interval";
  EXPECT_EQ(d.state.last_round.at("web"), kT0) << "a skipped pass does not restart the interval";

  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 5s);
  EXPECT_EQ(d.rounds.size(), 1u);
  EXPECT_EQ(d.state.last_round.at("web"), kT0 + 5s);
}

TEST(RebalanceTrigger, ANodeBackInBandStartsItsHoldOver) {
  TriggerDecision d = decide_rounds({skewed()}, {}, kT0);
  // Balanced for one pass: every hold is forgotten.
  d = decide_rounds({PoolLoads{"web", policy(), {{"a", 0.3}, {"b", 0.3}}}}, std::move(d.state),
                    kT0 + 5s);
  EXPECT_TRUE(d.state.out_of_band_since.empty());
  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 10s);
  EXPECT_TRUE(d.rounds.empty()) << "the hold counts from 10 s, not from 0 s";
  d = decide_rounds({skewed()}, std::move(d.state), kT0 + 20s);
  EXPECT_EQ(d.rounds.size(), 1u);
}

TEST(RebalanceTrigger, DisabledOrEmptyPoolsAreNotPlannedAndTheirHoldsAreForgotten) {
  TriggerDecision d = decide_rounds({skewed()}, {}, kT0);
  ASSERT_FALSE(d.state.out_of_band_since.empty());
  RebalancePolicy off = policy();
  off.enabled = false;
  d = decide_rounds({skewed(off)}, std::move(d.state), kT0 + 60s);
  EXPECT_TRUE(d.rounds.empty());
  EXPECT_TRUE(d.state.out_of_band_since.empty());
  d = decide_rounds({PoolLoads{"web", policy(0), {}}}, std::move(d.state), kT0 + 61s);
  EXPECT_TRUE(d.rounds.empty()) << "no Ready member";
}

TEST(RebalanceTrigger, PoolsAreDecidedIndependently) {
  PoolLoads calm{"db", policy(0), {{"x", 0.5}, {"y", 0.5}}};
  PoolLoads web = skewed(policy(0));
  TriggerDecision d = decide_rounds({calm, web}, {}, kT0);
  ASSERT_EQ(d.rounds.size(), 1u);
  EXPECT_EQ(d.rounds[0].pool, "web");
  EXPECT_EQ(d.state.last_round.count("db"), 0u);
}

TEST(RebalanceTrigger, RestartHoldsStartsTheMovedNodesOverInEveryPool) {
  TriggerState state;
  state.out_of_band_since[{"web", "a"}] = kT0;
  state.out_of_band_since[{"web", "b"}] = kT0;
  state.out_of_band_since[{"db", "a"}] = kT0;
  state.last_round["web"] = kT0;
  state = restart_holds(std::move(state), {"a"});
  EXPECT_EQ(state.out_of_band_since.size(), 1u);
  EXPECT_EQ(state.out_of_band_since.count({"web", "b"}), 1u);
  EXPECT_EQ(state.last_round.at("web"), kT0) << "intervals are not holds";
}

TEST(RebalanceTrigger, MovesThatFitSubtractMovesInFlightAndStayWithinThePassRoom) {
  RebalancePolicy p = policy();
  p.maxMovesPerRound = 3;
  EXPECT_EQ(moves_that_fit(p, 0, 256), 3);
  EXPECT_EQ(moves_that_fit(p, 2, 256), 1);
  EXPECT_LE(moves_that_fit(p, 3, 256), 0);
  EXPECT_LE(moves_that_fit(p, 5, 256), 0);
  EXPECT_EQ(moves_that_fit(p, 0, 2), 2) << "the pass may start only 2 more";
  EXPECT_EQ(moves_that_fit(p, 0, 0), 0);
}

TEST(RebalanceTrigger, CountsRebalanceMovesInFlightPerPool) {
  VMSet web = scheduler::testing::make_vmset("app", "web");
  VMSet db = scheduler::testing::make_vmset("store", "db");
  VM moving = running_vm("app-r1", "app", 1, 1, "b", 0.5);
  moving.metadata.annotations[std::string(kReplacesAnnotation)] = "app-1";
  moving.metadata.annotations[std::string(kTargetNodeAnnotation)] = "b";
  moving.status.phase = "Scheduled";
  VM drain = running_vm("store-r1", "store", 1, 1, "x", 0.5);  // a drain's: no target
  drain.metadata.annotations[std::string(kReplacesAnnotation)] = "store-1";
  drain.status.phase = "Scheduled";
  VM plain = running_vm("app-2", "app", 1, 1, "a", 0.5);
  const auto in_flight = rebalance_moves_in_flight({moving, drain, plain}, {web, db});
  EXPECT_EQ(in_flight, (std::map<std::string, int32_t>{{"web", 1}}));
}

TEST(RebalanceTrigger, PoolLoadsTakeTheReadySelectedMembers) {
  Pool pool = rebalance_pool("web");
  pool.spec.nodeSelector = {{"role", "web"}};
  Node a = loaded_node("a", 4, 8, 2, 0, {{"role", "web"}});
  Node down = loaded_node("down", 4, 8, 1, 0, {{"role", "web"}});
  down.status.phase = "NotReady";
  down.status.conditions = {Condition{"Ready", "False", "Lost", "", "", 0}};
  Node other = loaded_node("other", 4, 8, 1, 0, {{"role", "db"}});
  const PoolLoads loads = pool_loads(pool, {a, down, other});
  EXPECT_EQ(loads.pool, "web");
  EXPECT_TRUE(loads.policy.enabled);
  ASSERT_EQ(loads.members.size(), 1u);
  EXPECT_EQ(loads.members[0].node, "a");
  EXPECT_DOUBLE_EQ(loads.members[0].load, 0.5);
}

}  // namespace rebalance_trigger_test
}  // namespace corral::rebalance::testing
