// SetTopology: where one VMSet's replicas are, per topology domain of its
// spread and anti-affinity keys — the scheduler's own snapshot and skew
// (controller/scheduler/topology_skew.h) built over just this set, its pool
// and that pool's nodes, so that scale-down and the SpreadSatisfied condition
// judge spread exactly as placement does (same domains, same eligibility,
// same rule for which replicas hold a place).
//
// Thread safety: none; a value with one owner.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/scheduler/snapshot.h"
#include "controller/scheduler/topology_skew.h"

namespace corral::reconcile {

class SetTopology {
 public:
  // `owned`: the set's replicas. `nodes`: the pool's nodes (and any others
  // the replicas are on). `pool`: nullptr when unknown — then there are no
  // domains and spread is not judged.
  SetTopology(const VMSet& set, const std::vector<const VM*>& owned, const std::vector<Node>& nodes,
              const Pool* pool);

  // A spread policy and a known pool.
  bool judges_spread() const { return spread_key_.has_value(); }
  const std::string& spread_key() const { return *spread_key_; }
  // REQUIRES: judges_spread().
  scheduler::TopologySkew spread() const;
  // The spread domain value of the place the VM holds; nullptr when it holds
  // none (unscheduled, Lost, …) or its node lacks the label.
  const std::string* spread_domain(const VM& vm) const;
  // Replicas (itself included) in the VM's anti-affinity domain; 0 when the
  // set has no anti-affinity or the VM holds no place.
  int32_t sharing_anti_affinity_domain(const VM& vm) const;
  const std::string* anti_affinity_domain(const VM& vm) const;
  const std::string& anti_affinity_key() const;  // "" without anti-affinity
  // The VM no longer holds its place (it is chosen for removal).
  void remove(const VM& vm) { snapshot_.remove_vm(vm.metadata.name); }

 private:
  scheduler::ClusterSnapshot snapshot_;
  scheduler::VmRequest request_;  // a replica as the scheduler sees one (tolerations)
  std::optional<std::string> spread_key_;
};

}  // namespace corral::reconcile
