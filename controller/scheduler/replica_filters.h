// Filters on where the VM's siblings (replicas of its VMSet) already are:
// required anti-affinity and topology spread.
#pragma once

#include <cstdint>

#include "controller/scheduler/filter.h"

namespace corral::scheduler {

// VMSet.spec.antiAffinity with mode "required": no two replicas share a value
// of topologyKey ("corral.io/hostname" = the node itself). A node without the
// label shares no value with anyone and passes, as in Kubernetes.
// Reason: "anti-affinity with frontend-2 on zone=a" (the smallest-named replica).
class AntiAffinityFilter : public Filter {
 public:
  std::string_view name() const override { return "AntiAffinity"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;

 private:
  const VmSetInfo* set_ = nullptr;  // null: the VM has no required anti-affinity
  DomainCounter replicas_;
};

// VMSet.spec.spread: placing the VM in the node's domain must keep
//   count(domain) + 1 − min(count over eligible domains) ≤ maxSkew
// (Kubernetes' DoNotSchedule rule). An eligible domain is one of the pool's
// domains with at least one node this VM could use if resources allowed: Ready,
// not cordoned, taints tolerated. Full domains stay eligible — that is what
// makes the spread hard — but dead or cordoned ones do not, so that losing a
// zone never strands its replacements. The rule never increases an existing
// skew, and when counts are already skewed beyond maxSkew (a zone came back)
// it still allows placements in the emptiest domains.
// Reasons: "topology spread zone: skew 2 > maxSkew 1",
//          "topology spread zone: node has no zone label".
class TopologySpreadFilter : public Filter {
 public:
  std::string_view name() const override { return "TopologySpread"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;

 private:
  const VmSetInfo* set_ = nullptr;  // null: the VM's set has no spread policy
  int32_t min_count_ = 0;           // over the eligible domains
  DomainCounter replicas_;
};

// The minimum replica count of `set` over the domains of `pool` for `key`
// that are eligible for `vm` (see TopologySpreadFilter); 0 when none is.
int32_t min_eligible_domain_count(const VmRequest& vm, const VmSetInfo& set, const PoolInfo& pool,
                                  std::string_view key, const ClusterSnapshot& snapshot);

}  // namespace corral::scheduler
