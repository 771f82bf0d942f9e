// The rebalancer's trigger: when a pool is planned, which of its nodes the plan
// may act on, and how many moves the round may start. Pure functions of plain
// values and `now` (steady time, passed in): no clock, no store, no cache. The
// move loop (controller/loops/move_loop.h) keeps the TriggerState between
// passes and carries the rounds out with plan_moves (planner.h).
//
//   per Pool with spec.rebalance.enabled, over its Ready members:
//     L = mean load; a node is out of band when |Rᵢ − L| > maxImbalance or
//         Rᵢ > highWatermark
//     out of band since …      (kept in TriggerState; back in band → forgotten)
//     actionable = out of band for holdSeconds, or above highWatermark (at once)
//     a round when something is actionable and intervalSeconds passed since the
//         pool's last round (the interval is spent even if no move then fits)
//   moves_that_fit: maxMovesPerRound − the pool's rebalance moves in flight,
//       and no more than the pass has room for
//   restart_holds: a node whose move just ended starts its hold over — its
//       smoothed usage still carries the move for a few heartbeats, and acting
//       on it would move more off a node that is already relieved.
//
// What lives in TriggerState is only timing, which a controller restart resets
// (a longer wait, never a wrong move).
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "api/types.h"

namespace corral::rebalance {

using SteadyTime = std::chrono::steady_clock::time_point;

// One Ready member of a pool and its measured load Rᵢ (reconcile::node_load).
struct MemberLoad {
  std::string node;
  double load = 0;
};

// A pool as the trigger sees it.
struct PoolLoads {
  std::string pool;
  RebalancePolicy policy;
  std::vector<MemberLoad> members;  // its Ready members
};

// The trigger's memory between passes.
struct TriggerState {
  // (pool, node) → since when the node has been out of band in that pool.
  std::map<std::pair<std::string, std::string>, SteadyTime> out_of_band_since;
  // pool → when its last round was planned.
  std::map<std::string, SteadyTime> last_round;
};

// A pool to plan now, and the nodes the plan may act on.
struct Round {
  std::string pool;
  std::set<std::string> actionable;
};

struct TriggerDecision {
  std::vector<Round> rounds;  // in the order of the input pools
  TriggerState state;         // what to keep for the next pass
};

// True when `load` is outside the band around `mean`, or above the watermark.
bool out_of_band(double load, double mean, const RebalancePolicy& policy);

// The pool's Ready members (nodeSelector, node_ready) with their loads.
PoolLoads pool_loads(const Pool& pool, const std::vector<Node>& nodes);

// Which pools to plan at `now`. `pools` are the pools with rebalancing
// enabled (a disabled one is ignored); every hold of a node that is back in
// band, or no longer in an enabled pool, is forgotten.
TriggerDecision decide_rounds(const std::vector<PoolLoads>& pools, TriggerState state,
                              SteadyTime now);

// Rebalance moves in flight per pool: replacements with a target node
// (corral.io/target-node; a drain's have none), by their VMSet's pool.
std::map<std::string, int32_t> rebalance_moves_in_flight(const std::vector<VM>& vms,
                                                         const std::vector<VMSet>& vmsets);

// How many moves a round may start: maxMovesPerRound less the pool's moves in
// flight, and at most `pass_room` (what the pass may still start). ≤ 0: none.
int32_t moves_that_fit(const RebalancePolicy& policy, int32_t in_flight, size_t pass_room);

// Forgets the holds of `nodes` in every pool: they start over.
TriggerState restart_holds(TriggerState state, const std::set<std::string>& nodes);

}  // namespace corral::rebalance
