// Building a PlanInput from typed objects, so that the controller's rebalance
// loop and `corralctl rebalance plan` (client side, like `corralctl simulate`)
// feed the planner the same thing.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/rebalance/plan.h"

namespace corral::rebalance {

// Why `vm` may not be moved now, or "" when it may. The rules:
//   - owned by a VMSet of `pool` (the replacement is a new replica of the set);
//   - status.phase Running and status.epoch == spec.epoch (so not Lost, Failed,
//     Terminating, or a stale copy);
//   - not a replacement in flight (corral.io/replaces set and not Running) and
//     not being moved (named by another VM's corral.io/replaces);
//   - not in cooldown: now ≥ corral.io/moved-at + cooldownSeconds. A moved-at
//     that does not parse keeps the VM in place (it is somebody's move record;
//     guessing could move it twice).
// `being_moved` holds the names that some VM's corral.io/replaces names;
// `sets` the VMSets by name.
std::string not_movable_reason(const VM& vm, const Pool& pool,
                               const std::map<std::string, const VMSet*>& sets,
                               const std::set<std::string>& being_moved,
                               std::chrono::system_clock::time_point now);

// The planner's input for `pool`:
//   nodes  its Ready members (nodeSelector, node_ready), by name;
//   vms    every VM holding a place (scheduler::holds_place) on one of them,
//          by name, with its load (plan.h: VmState) and movability;
//   policy pool.spec.rebalance; max_moves defaults to its maxMovesPerRound.
// `actionable` and `budget_left` are passed through (plan.h says what they mean).
PlanInput build_plan_input(const Pool& pool, const std::vector<Node>& nodes,
                           const std::vector<VMSet>& vmsets, const std::vector<VM>& vms,
                           std::chrono::system_clock::time_point now,
                           std::set<std::string> actionable,
                           std::map<std::string, int32_t> budget_left,
                           std::optional<int32_t> max_moves = std::nullopt);
// The same from pointers already in name order (the control loops' cache
// keeps its VM names sorted: no sort of 300,000 names per round), into `in`,
// whose vectors keep their capacity from the round before: 300,000 VmStates
// are ~100 MB, which a fresh vector maps anew each round — its page faults
// cost more than building the input (the control loop keeps one PlanInput).
void build_plan_input_into(PlanInput& in, const Pool& pool, const std::vector<Node>& nodes,
                           const std::vector<VMSet>& vmsets,
                           const std::vector<const VM*>& vms_by_name,
                           std::chrono::system_clock::time_point now,
                           std::set<std::string> actionable,
                           std::map<std::string, int32_t> budget_left,
                           std::optional<int32_t> max_moves = std::nullopt);

}  // namespace corral::rebalance
