// What the move planner reads (PlanInput) and what it answers (Plan). Plain
// values: the controller's rebalance loop and `corralctl rebalance plan` build
// the same input from typed objects (plan_input.h) and get the same plan.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/scheduler/snapshot.h"

namespace corral::rebalance {

// One Ready member of the pool, as the load model sees it. Milli-units
// (Quantity::milli) throughout.
struct NodeState {
  std::string name;
  int64_t allocatable_cpu = 0;
  int64_t allocatable_memory = 0;
  int64_t usage_cpu = 0;  // status.usage: measured, smoothed by the agent's EWMA
  int64_t usage_memory = 0;
};

// One VM holding a place on a NodeState's node.
struct VmState {
  std::string name;
  std::string vmset;  // owning VMSet; "" for none
  std::string node;
  // Position of `node` in PlanInput::nodes, so that the planner needs no
  // lookup by name; UINT32_MAX when unknown (the name is then looked up).
  uint32_t node_index = UINT32_MAX;
  // Its load: measured status.usage when Running (or Terminating: it still
  // runs until it is gone); its requests when bound but not Running yet (the
  // node's measured usage cannot include it, as the scheduler's `expected`).
  int64_t usage_cpu = 0;
  int64_t usage_memory = 0;
  // status.usage as measured (≈ 0 before it runs): what the node's measured
  // usage includes of it, subtracted to find the node's base load.
  int64_t measured_cpu = 0;
  int64_t measured_memory = 0;
  // What a replacement asks the scheduler for: requests, tolerations, set, pool.
  scheduler::VmRequest request;
  // Whether the planner may move it; when not, why (for `corralctl rebalance
  // plan -v` and tests): "not owned by a VMSet", "cooldown until …",
  // "being moved", "replacement in flight", "not Running in its epoch", …
  bool movable = false;
  std::string not_movable_reason;
};

struct PlanInput {
  std::string pool;
  RebalancePolicy policy;
  // The pool's Ready members, and the VMs that hold a place on them.
  std::vector<NodeState> nodes;
  std::vector<VmState> vms;
  // Nodes whose out-of-band state has lasted policy.holdSeconds (the loop
  // tracks that in time; the planner has no clock). A node above
  // highWatermark is actionable at once whether listed or not. A listed node
  // that is back inside the band now is not.
  std::set<std::string> actionable;
  // Per VMSet, how many more voluntary disruptions are allowed right now; a
  // set missing from the map has none. Every planned move of a set uses one.
  std::map<std::string, int32_t> budget_left;
  // At most this many moves (the loop passes policy.maxMovesPerRound;
  // `corralctl rebalance plan` may pass more). Negative: no limit.
  int32_t max_moves = 0;
};

// A planned move: a new replica of `vmset` on `to`, then `vm` stopped on `from`.
struct Move {
  std::string vm;
  std::string vmset;
  std::string from;
  std::string to;
  // Why the node it relieves was out of band, e.g.
  //   "node h1 load 0.92 > highWatermark 0.85"
  //   "node h1 +0.31 over mean 0.40 (maxImbalance 0.20)"
  //   "node h9 −0.40 under mean 0.60 (maxImbalance 0.20)"
  std::string reason;
  // Deviations Rᵢ − L before the move (with L before) and after it (with the
  // recomputed L), of both nodes.
  double from_deviation_before = 0;
  double from_deviation_after = 0;
  double to_deviation_before = 0;
  double to_deviation_after = 0;
  // max(|d_from|, |d_to|) before − the same after (planner.h defines it).
  double gain = 0;
};

struct NodeReport {
  std::string name;
  double load = 0;       // Rᵢ
  double deviation = 0;  // Rᵢ − L
  bool in_band = true;   // |Rᵢ − L| ≤ maxImbalance and Rᵢ ≤ highWatermark
};

// The best move of a set was refused only because its budget is spent: the
// loop says so in an Event on the VMSet.
struct BudgetBlock {
  std::string vm;
  std::string vmset;
};

struct Plan {
  std::vector<Move> moves;  // in the order planned; each saw the earlier ones
  std::vector<BudgetBlock> blocked_by_budget;
  double mean_before = 0;  // L
  double mean_after = 0;
  double max_deviation_before = 0;  // max |Rᵢ − L|
  double max_deviation_after = 0;
  std::vector<NodeReport> nodes_before;  // by name
  std::vector<NodeReport> nodes_after;
  // No plan that brings every node inside the band (moving the mean by at
  // most Options::lower_bound_mean_slack) needs fewer moves than this
  // (lower_bound.h).
  int32_t lower_bound = 0;
  // Why planning stopped: "nothing actionable", "every node in band",
  // "no move gains minGain", "maxMoves reached".
  std::string stopped;
};

}  // namespace corral::rebalance
