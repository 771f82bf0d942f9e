// Which replicas a VMSet removes when it has more than spec.replicas: a pure
// choice, one victim at a time, each judged against the replicas still left.
//
// A candidate is ranked by, in order (the first difference decides):
//   1. spread: a removal that would make the set's skew exceed maxSkew (and
//      raise it) comes last, whenever another candidate keeps it within.
//      Skew, domains and eligibility are the scheduler's (set_topology.h), so
//      what is removed never breaks what placement keeps. A replica that
//      holds no place (unscheduled, Lost) never moves the skew.
//   2. health, worst first (as Kubernetes' ReplicaSet): Lost, Failed,
//      unscheduled, on a node that is not Ready (or unknown), bound but not
//      Running in its epoch yet, Running but not Ready, healthy;
//   3. the most crowded spread domain first (so the skew shrinks);
//   4. the most crowded anti-affinity domain first: a replica that shares its
//      domain with another (co-located) before one alone;
//   5. the more loaded node (measured: max of CPU and memory usage / allocatable);
//   6. the newest (creationTimestamp; none yet = newest), then by name, so the
//      order is total and the same inputs give the same victims.
//
// Example (the case of issue 14): zone a:2, b:2, c:1, maxSkew 1, 5 → 3.
// Taking c's replica would leave a:2 b:2 c:0 (skew 2), so the first victim is
// in a or b; then, from a:1 b:2 c:1, only b's keeps the skew ≤ 1. One per zone
// remains.
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

struct ScaleDownInput {
  const VMSet* vmset = nullptr;
  std::vector<const VM*> candidates;  // the set's replicas (all of them)
  // The nodes of the set's pool and those the candidates are on: domains
  // without a replica (say a zone emptied) must be seen to be judged.
  const std::vector<Node>* nodes = nullptr;
  const Pool* pool = nullptr;  // nullptr: spread is not judged
  size_t count = 0;            // how many to remove
};

struct Victim {
  const VM* vm = nullptr;
  std::string why;  // "Lost", "in zone=a (2 of 5, the most)", "on the most loaded node"
};

// REQUIRES: vmset and nodes non-null. At most min(count, candidates) victims,
// in the order they were chosen.
std::vector<Victim> choose_victims(const ScaleDownInput& in);

}  // namespace corral::reconcile
