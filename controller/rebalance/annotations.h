// The annotations through which the rebalancer and the move loop that carries
// out its moves talk about a move in flight. They are defined once, in
// api/annotations.h (the whole protocol is described there); these names let
// the planner's code say rebalance::kReplacesAnnotation.
#pragma once

#include "api/annotations.h"

namespace corral::rebalance {

using corral::kMovedAtAnnotation;
using corral::kReplacesAnnotation;

}  // namespace corral::rebalance
