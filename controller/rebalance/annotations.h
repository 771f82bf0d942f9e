// The annotations through which the rebalancer and the loops that carry out
// its moves talk about a move in flight. A move is made-before-broken: a new
// replica of the VM's set is created on the target and names the VM it
// replaces; once it is Running, the old VM is stopped and the new one records
// when it moved, so that it is left alone for the pool's cooldownSeconds.
#pragma once

#include <string_view>

namespace corral::rebalance {

// On a replacement VM: the name of the VM it replaces. The replacement is "in
// flight" until it is Running; the VM it names is "being moved".
inline constexpr std::string_view kReplacesAnnotation = "corral.io/replaces";
// On a VM that was moved: when (RFC 3339, UTC). Not movable again before
// moved-at + spec.rebalance.cooldownSeconds.
inline constexpr std::string_view kMovedAtAnnotation = "corral.io/moved-at";

}  // namespace corral::rebalance
