// corralctl rebalance plan POOL: the moves the rebalancer would make now, and
// why, without making them. It runs the controller's own planner
// (controller/rebalance) client side on the listed Nodes, Pools, VMSets and
// VMs — as `simulate fail` runs the scheduler — with today's disruption
// budgets and cooldowns, so its answer is the controller's rather than a
// second implementation of the rules.
//
// One difference, said in the output: the controller acts only on nodes that
// have been out of band for holdSeconds (it keeps that time in memory); the
// plan treats every node out of band now as if its hold had run out.
#pragma once

#include <cstdint>
#include <string>

#include "cli/command.h"

namespace corral::cli {

struct RebalancePlanOptions {
  std::string pool;
  // Moves to plan: -1 (default) the pool's maxMovesPerRound, as the
  // controller's next round; 0 or more: that many; "all" on the command line
  // (kUnlimited): until the pool converges.
  int32_t max_moves = -1;
};
inline constexpr int32_t kUnlimitedMoves = -2;

int run_rebalance_plan(Context& ctx, const RebalancePlanOptions& options);

}  // namespace corral::cli
