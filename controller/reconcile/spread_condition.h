// The VMSet condition SpreadSatisfied: do the set's placed replicas keep its
// spread (spec.spread: topologyKey, maxSkew)? Skew as the scheduler counts it
// (set_topology.h): max replicas in any domain − min over eligible domains.
//
//   True   WithinMaxSkew     "zone: skew 1, maxSkew 1 (a=2 b=1 c=2)"
//   False  SkewExceeded      "zone: a=3 c=0, maxSkew 1" (the most crowded
//                            domain and the emptiest eligible one)
//   False  NoEligibleDomain  "zone: no Ready, schedulable node of pool web has the label"
//
// Domain lists in messages are cut after kMaxDomainsShown (hostname spread
// over a large pool would otherwise write every node name).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "api/types.h"
#include "controller/reconcile/set_topology.h"

namespace corral::reconcile {

inline constexpr const char* kSpreadSatisfied = "SpreadSatisfied";
inline constexpr size_t kMaxDomainsShown = 8;

// The condition for `set` (lastTransitionTime = now; set_condition keeps an
// older one while the status stays); nullopt when the set has no spread or
// its pool is unknown (the caller then drops any stale SpreadSatisfied).
std::optional<Condition> spread_condition(const VMSet& set, const SetTopology& topology,
                                          const std::string& now);

}  // namespace corral::reconcile
