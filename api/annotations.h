// Annotations the controller writes on VMs to carry a move (rebalance or drain)
// from one pass to the next. They live in metadata, not spec, because a move is
// the controller's bookkeeping, not something a person declares; keeping them
// on the objects (rather than in controller memory) means a restarted
// controller picks up every move in flight where it stood.
//
// A move of VM X off node A is made before it is broken:
//   1. the controller creates R, a new replica of X's VMSet, annotated
//      replaces=X, moved-at=now, move-reason=..., and (rebalance only)
//      target-node=B so that the scheduler binds it there or nowhere;
//   2. once R runs in its current epoch and is Ready, X is deleted;
//   3. if R cannot be placed, fails, or is not Ready within the move timeout,
//      R is deleted instead and X stays.
// While X exists, X and R count as one replica of the set.
#pragma once

#include <string_view>

namespace corral {

// On a replacement: the VM it replaces.
inline constexpr std::string_view kReplacesAnnotation = "corral.io/replaces";
// On a replacement: when its move started (RFC 3339). The rebalancer leaves a
// VM alone for cooldownSeconds after this.
inline constexpr std::string_view kMovedAtAnnotation = "corral.io/moved-at";
// On a replacement: the only node the scheduler may bind it to.
inline constexpr std::string_view kTargetNodeAnnotation = "corral.io/target-node";
// On a replacement: why it moved, for the completion Event
// ("rebalance: node h1 +0.31 over mean 0.40; h1 +0.31→+0.12, h7 −0.40→−0.21").
inline constexpr std::string_view kMoveReasonAnnotation = "corral.io/move-reason";

}  // namespace corral
