// Disruption budgets: how many more voluntary moves (rebalance, drain) a
// VMSet allows right now, from spec.disruption.maxUnavailable.
//
// A replica slot is a VM of the set and, while it is being moved, its
// replacement (api/annotations.h): the two count as one replica. A slot is in
// service when either copy runs in its current epoch and is Ready.
//
//   unavailable = max(0, spec.replicas − slots in service)
//   in flight   = moves of the set not finished (replacement exists, old VM too)
//   allowed     = max(0, maxUnavailable − unavailable − in flight)
//
// A move in flight counts as one unavailable replica although it is made
// before it is broken: its old copy does stop at the end, taking its
// connections with it, and if the replacement then dies the set is short. So
// maxUnavailable is also how many of the set's replicas may be in motion at
// once (1, the default: one at a time), as an operator reading
// "maxUnavailable: 1" expects. Involuntary losses (a dead node) are not moves:
// they count in `unavailable` and so hold voluntary moves back until healed.
//
// A percentage is of spec.replicas, rounded up (as Kubernetes'
// PodDisruptionBudget), so "25%" of 3 allows 1.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

struct DisruptionBudget {
  std::string vmset;
  int32_t replicas = 0;         // spec.replicas
  int32_t max_unavailable = 0;  // resolved from the spec
  int32_t in_service = 0;       // slots with a Ready copy
  int32_t unavailable = 0;
  int32_t in_flight = 0;
  int32_t allowed() const;
  // "vmset/web allows 1 unavailable: 1 unavailable, 0 moves in flight"
  std::string describe() const;
};

// maxUnavailable as a count for `replicas`: an int as is, "N%" rounded up;
// never negative.
int32_t resolve_max_unavailable(const IntOrString& value, int32_t replicas);

// True when the VM runs in its current epoch on its binding and says Ready.
bool in_service(const VM& vm);

// The budget of one set from the VMs it owns (replacements included;
// Terminating ones are ignored).
DisruptionBudget disruption_budget(const VMSet& set, const std::vector<const VM*>& owned);

// Every set's budget, by VMSet name.
std::map<std::string, DisruptionBudget> disruption_budgets(const std::vector<VMSet>& sets,
                                                           const std::vector<VM>& vms);

}  // namespace corral::reconcile
