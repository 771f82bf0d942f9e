// Building a PlanInput from typed objects, so that the controller's rebalance
// loop and `corralctl rebalance plan` (client side, like `corralctl simulate`)
// feed the planner the same thing.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/types.h"
#include "controller/rebalance/plan.h"
#include "controller/reconcile/changed_names.h"

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
// Keeps one pool's PlanInput from round to round (the controller's rebalance
// loop): a round re-reads only the VMs that changed since the round before —
// the cache's deltas say which — instead of all of them. At 300,000 VMs
// reading every VM (scattered in memory: its labels, annotations, status)
// was most of a round; movability is still judged afresh for every VM each
// round, from what the keeper holds of it (cooldowns end with time, moves of
// other VMs change "being moved"). The pool's Ready members are read every
// round; when they change, every VM is read again.
//
// Thread safety: none; the loop thread's.
class PlanInputKeeper {
 public:
  // What a round needs of the cache.
  struct Source {
    const std::vector<Node>& nodes;
    const std::vector<VMSet>& vmsets;
    // The VM named so, or null.
    std::function<const VM*(std::string_view)> vm_named;
    // Every VM in name order: called only when every VM must be read.
    std::function<std::vector<const VM*>()> all_by_name;
  };

  // The next build() reads every VM (after a resync, for instance).
  void invalidate() { changed_.invalidate(); }
  // `name`'s VM changed, appeared or went since the last build().
  void vm_changed(std::string_view name) { changed_.changed(name, in_.vms.size()); }

  // The input for `pool` now (see build_plan_input for what it holds); valid
  // until the next call.
  PlanInput& build(const Pool& pool, const Source& source,
                   std::chrono::system_clock::time_point now, std::set<std::string> actionable,
                   std::map<std::string, int32_t> budget_left,
                   std::optional<int32_t> max_moves = std::nullopt);
  // VMs the last build() read from the source: all of them or the changed ones.
  size_t last_read() const { return last_read_; }

 private:
  // What movability needs of a VM besides its VmState.
  struct Facts {
    std::string phase;         // status.phase
    bool running_now = false;  // Running in its current epoch
    std::string replaces;      // corral.io/replaces
    std::string moved_at;      // corral.io/moved-at
  };
  // Reads every VM of the source (name order).
  void read_all(const Source& source, const std::unordered_map<std::string_view, uint32_t>& node_at);
  // Re-reads the changed VMs only.
  void read_changed(const Source& source, const std::unordered_map<std::string_view, uint32_t>& node_at);
  // VmState and Facts of `vm` on node `node_index`.
  void fill(VmState& v, Facts& f, const VM& vm, uint32_t node_index) const;
  // movable / not_movable_reason of every VM.
  void judge(const Pool& pool, const std::vector<VMSet>& vmsets,
             std::chrono::system_clock::time_point now);

  PlanInput in_;
  std::vector<Facts> facts_;  // parallel to in_.vms
  // Every VM's corral.io/replaces (held or not: a Pending replacement makes
  // the VM it replaces "being moved"), by the replacing VM's name.
  std::unordered_map<std::string, std::string> replaces_;
  std::vector<std::string> members_;  // in_.nodes' names at the last build
  reconcile::ChangedNames changed_;  // since the last build
  size_t last_read_ = 0;
};

}  // namespace corral::rebalance
