// A VMSet's replica counts over the topology domains of its pool, and the skew
// they make: the TopologySpread filter's notion of domains, eligibility and
// skew, read as a whole so that others (the VMSet reconciler's scale-down and
// its SpreadSatisfied condition) judge spread exactly as placement does.
//
//   domains   the pool's member nodes grouped by the key's label value
//             (ClusterSnapshot::domains); nodes without the label are in none
//   eligible  a domain with a node the set's VMs could use if resources
//             allowed: Ready, not cordoned, taints tolerated (schedulable_for)
//   count     replicas of the set holding a place in the domain (holds_place)
//   skew      max count over all domains − min count over eligible domains
//
// Thread safety: pure functions of the snapshot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "controller/scheduler/snapshot.h"

namespace corral::scheduler {

struct DomainCount {
  std::string value;
  int32_t count = 0;
  bool eligible = false;
};

struct TopologySkew {
  std::vector<DomainCount> domains;  // sorted by value
  bool any_eligible = false;
  int32_t max = 0;           // over every domain
  int32_t min_eligible = 0;  // over eligible domains; 0 when none is
  int32_t at_max = 0;        // how many domains hold `max`
  // max − min_eligible; 0 when no domain is eligible (nothing to compare with).
  int32_t skew() const { return any_eligible ? max - min_eligible : 0; }
  // The first domain (by value) holding `max`, and the first eligible one
  // holding `min_eligible`; nullptr when there is none.
  const DomainCount* most_crowded() const;
  const DomainCount* emptiest_eligible() const;
};

// The counts of `set` over the domains of `pool` for `key`; eligibility as
// for `vm` (its tolerations), as TopologySpreadFilter judges it.
TopologySkew topology_skew(const VmRequest& vm, const VmSetInfo& set, const PoolInfo& pool,
                           std::string_view key, const ClusterSnapshot& snapshot);

// The skew once one replica is taken out of domain `value` (a domain of
// `before`; any other value changes nothing): O(log domains), with no change
// to the snapshot, so that a scale-down can ask it for every candidate.
int32_t skew_without_one(const TopologySkew& before, std::string_view value);

}  // namespace corral::scheduler
