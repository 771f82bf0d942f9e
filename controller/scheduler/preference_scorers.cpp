#include "controller/scheduler/preference_scorers.h"

#include <algorithm>

#include "controller/scheduler/predicates.h"
#include "controller/scheduler/replica_filters.h"

namespace corral::scheduler {

double PreferNoScheduleScorer::score(const VmRequest& vm, const NodeInfo& node,
                                     const ClusterSnapshot& /*snapshot*/) const {
  if (node.taints.empty()) return 1.0;
  return 1.0 / (1.0 + untolerated_soft_taints(vm, node));
}

void PreferredAntiAffinityScorer::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  set_ = snapshot.vmset(vm.vmset);
  if (set_ && (!set_->anti_affinity || set_->anti_affinity->mode != "preferred")) set_ = nullptr;
  if (set_) replicas_ = DomainCounter(*set_, set_->anti_affinity->topologyKey);
}

double PreferredAntiAffinityScorer::score(const VmRequest& /*vm*/, const NodeInfo& node,
                                          const ClusterSnapshot& /*snapshot*/) const {
  if (set_ == nullptr) return 1.0;
  return 1.0 / (1.0 + std::max(replicas_.count(node), 0));
}

void TopologySpreadScorer::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  set_ = snapshot.vmset(vm.vmset);
  const PoolInfo* pool = snapshot.pool(vm.pool);
  if (set_ == nullptr || !set_->spread || pool == nullptr) {
    set_ = nullptr;
    return;
  }
  min_count_ = min_eligible_domain_count(vm, *set_, *pool, set_->spread->topologyKey, snapshot);
  replicas_ = DomainCounter(*set_, set_->spread->topologyKey);
}

double TopologySpreadScorer::score(const VmRequest& /*vm*/, const NodeInfo& node,
                                   const ClusterSnapshot& /*snapshot*/) const {
  if (set_ == nullptr) return 1.0;
  return 1.0 / (1.0 + std::max(replicas_.count(node) - min_count_, 0));
}

}  // namespace corral::scheduler
