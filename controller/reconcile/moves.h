// Moves: the decision core of the loop that moves VMs off one node onto
// another for the rebalancer and for drains, made before broken (the protocol
// is in api/annotations.h). Pure functions of (VMs, Nodes, VMSets, budgets,
// now); the caller writes the result.
//
//   every replacement R (annotation replaces=X):
//     X gone                              → finish: strip R's move annotations
//     R Running (current epoch) and Ready → complete: delete X, then finish
//     R Failed or Lost                    → cancel: delete R, X stays
//     R has a target node and could not
//       be bound there (scheduler message) → cancel
//     R bound, not Ready within `timeout`  → cancel
//     otherwise                            → wait
//
//   every draining node (spec.drain): each VM holding a place on it that is
//   not already moving starts a move (a replacement with no target node: the
//   scheduler may put it anywhere but a cordoned or draining node), highest
//   spec.priority first, then by name. A VM in service needs its set's
//   disruption budget (disruption.h) and consumes one; one not in service
//   (Starting, Failed) moves without. A VM without a VMSet cannot be moved
//   (there is no template to make its replacement from): it waits, and the
//   drain says so.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "controller/reconcile/disruption.h"

namespace corral::reconcile {

using WallTime = std::chrono::system_clock::time_point;

struct MoveOptions {
  // A replacement bound to a node but not Running and Ready this long after
  // its move started is given up: 300 s, room for a libvirt guest to boot.
  std::chrono::seconds timeout{300};
  // Characters of random suffix in a replacement's name (as VMSets use).
  size_t name_suffix_length = 5;
};

// The annotation value or "".
const std::string& annotation(const VM& vm, std::string_view key);
// True when `vm` is a move's replacement that has not finished.
bool is_replacement(const VM& vm);
// A move in flight: a replacement (is_replacement) that is not Terminating.
bool move_in_flight(const VM& vm);
// Names of VMs being moved: named by a replacement's `replaces`.
std::set<std::string> vms_being_moved(const std::vector<VM>& vms);

enum class MoveStepKind {
  kComplete,  // delete the old VM, then strip the replacement's annotations
  kCancel,    // delete the replacement; the old VM stays
  kFinish,    // the old VM is gone: strip the replacement's annotations
};
const char* move_step_name(MoveStepKind kind);

struct MoveStep {
  MoveStepKind kind = MoveStepKind::kFinish;
  std::string old_vm;
  std::string old_uid;  // delete precondition
  std::string replacement;
  std::string replacement_uid;
  std::string vmset;
  std::string from;     // the old VM's node
  std::string to;       // the replacement's node (or its target)
  std::string message;  // for the Event: why, and for kComplete the move's reason
};

// What to do now about every move in flight, sorted by replacement name.
std::vector<MoveStep> progress_moves(const std::vector<VM>& vms, WallTime now,
                                     const MoveOptions& options = {});
// The same from the moves in flight alone: `replacements` are the VMs that
// replace another (is_replacement) and are not Terminating, `vm_named` finds
// any VM by name (null: none). For a caller that keeps the replacements as
// they change instead of scanning 300,000 VMs every pass (MoveLoop).
std::vector<MoveStep> progress_moves(const std::vector<const VM*>& replacements,
                                     const std::function<const VM*(std::string_view)>& vm_named,
                                     WallTime now, const MoveOptions& options = {});

// One VM a drain will move now.
struct DrainStart {
  std::string vm;
  std::string node;
  std::string vmset;
  std::string reason;  // "drain node/h1"
};
// One VM a drain cannot move now, and why.
struct DrainWait {
  std::string vm;
  std::string node;
  std::string vmset;  // "" when the VM has none
  std::string reason;
};
struct DrainPlan {
  std::vector<DrainStart> start;
  std::vector<DrainWait> waiting;
  // Draining node → VMs still holding a place on it (moving or not).
  std::map<std::string, int32_t> remaining;
};

// `budgets` is consumed by the moves started; at most `max_start` start.
DrainPlan plan_drains(const std::vector<Node>& nodes, const std::vector<VM>& vms,
                      std::map<std::string, DisruptionBudget>& budgets, size_t max_start);

// A move's replacement for `old`: a new VM of `set` (as the VMSet loop makes
// them) named `name`, annotated replaces=old, moved-at=now, move-reason, and
// target-node when `target_node` is not empty.
VM replacement_for(const VMSet& set, const VM& old, const std::string& name,
                   const std::string& target_node, const std::string& reason, WallTime now);

}  // namespace corral::reconcile
