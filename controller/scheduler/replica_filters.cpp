#include "controller/scheduler/replica_filters.h"

#include <algorithm>
#include <limits>

#include "controller/scheduler/predicates.h"

namespace corral::scheduler {

// ---- anti-affinity ------------------------------------------------------------

void AntiAffinityFilter::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  set_ = snapshot.vmset(vm.vmset);
  if (set_ && (!set_->anti_affinity || set_->anti_affinity->mode != "required")) set_ = nullptr;
  if (set_) replicas_ = DomainCounter(*set_, set_->anti_affinity->topologyKey);
}

bool AntiAffinityFilter::fits(const VmRequest& /*vm*/, const NodeInfo& node,
                              const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  if (set_ == nullptr) return true;
  const DomainReplicas* there = replicas_.find(node);
  if (there == nullptr || there->count <= 0) return true;
  const std::string& key = set_->anti_affinity->topologyKey;
  if (reason)
    *reason = "anti-affinity with " + *there->vms.begin() + " on " + key + "=" +
              *ClusterSnapshot::domain_of(node, key);
  return false;
}

// ---- topology spread ----------------------------------------------------------

int32_t min_eligible_domain_count(const VmRequest& vm, const VmSetInfo& set, const PoolInfo& pool,
                                  std::string_view key, const ClusterSnapshot& snapshot) {
  int32_t best = std::numeric_limits<int32_t>::max();
  const auto& nodes = snapshot.nodes();
  const DomainCounter replicas(set, std::string(key));  // once per VM
  for (const Domain& d : snapshot.domains(pool, key)) {
    bool eligible = std::any_of(d.nodes.begin(), d.nodes.end(),
                                [&](uint32_t n) { return schedulable_for(vm, nodes[n]); });
    if (!eligible) continue;
    const int32_t count = replicas.count(nodes[d.nodes.front()]);
    best = std::min(best, count);
    if (best == 0) break;  // cannot go lower
  }
  return best == std::numeric_limits<int32_t>::max() ? 0 : best;
}

void TopologySpreadFilter::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  set_ = snapshot.vmset(vm.vmset);
  const PoolInfo* pool = snapshot.pool(vm.pool);
  if (set_ == nullptr || !set_->spread || pool == nullptr) {
    set_ = nullptr;
    return;
  }
  min_count_ = min_eligible_domain_count(vm, *set_, *pool, set_->spread->topologyKey, snapshot);
  replicas_ = DomainCounter(*set_, set_->spread->topologyKey);
}

bool TopologySpreadFilter::fits(const VmRequest& /*vm*/, const NodeInfo& node,
                                const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  if (set_ == nullptr) return true;
  const std::string& key = set_->spread->topologyKey;
  if (ClusterSnapshot::domain_of(node, key) == nullptr) {
    if (reason) *reason = "topology spread " + key + ": node has no " + key + " label";
    return false;
  }
  const int32_t skew = replicas_.count(node) + 1 - min_count_;
  if (skew <= set_->spread->maxSkew) return true;
  if (reason)
    *reason = "topology spread " + key + ": skew " + std::to_string(skew) + " > maxSkew " +
              std::to_string(set_->spread->maxSkew);
  return false;
}

}  // namespace corral::scheduler
