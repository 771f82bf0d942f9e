#include "controller/reconcile/set_topology.h"

namespace corral::reconcile {

SetTopology::SetTopology(const VMSet& set, const std::vector<const VM*>& owned,
                         const std::vector<Node>& nodes, const Pool* pool) {
  std::vector<VM> vms;
  vms.reserve(owned.size());
  for (const VM* vm : owned) vms.push_back(*vm);
  std::vector<Pool> pools;
  if (pool) pools.push_back(*pool);
  snapshot_ = scheduler::ClusterSnapshot::build(nodes, pools, {set}, vms);
  request_.vmset = set.metadata.name;
  request_.pool = set.spec.pool;
  request_.tolerations = set.spec.templ.spec.tolerations;
  if (set.spec.spread && pool) spread_key_ = set.spec.spread->topologyKey;
}

scheduler::TopologySkew SetTopology::spread() const {
  const scheduler::VmSetInfo* set = snapshot_.vmset(request_.vmset);
  const scheduler::PoolInfo* pool = snapshot_.pool(request_.pool);
  if (!set || !pool || !spread_key_) return {};
  return scheduler::topology_skew(request_, *set, *pool, *spread_key_, snapshot_);
}

const std::string* SetTopology::spread_domain(const VM& vm) const {
  if (!spread_key_) return nullptr;
  const scheduler::NodeInfo* node = snapshot_.node_of_vm(vm.metadata.name);
  return node ? scheduler::ClusterSnapshot::domain_of(*node, *spread_key_) : nullptr;
}

const std::string& SetTopology::anti_affinity_key() const {
  static const std::string kNone;
  const scheduler::VmSetInfo* set = snapshot_.vmset(request_.vmset);
  return set && set->anti_affinity ? set->anti_affinity->topologyKey : kNone;
}

const std::string* SetTopology::anti_affinity_domain(const VM& vm) const {
  const std::string& key = anti_affinity_key();
  if (key.empty()) return nullptr;
  const scheduler::NodeInfo* node = snapshot_.node_of_vm(vm.metadata.name);
  return node ? scheduler::ClusterSnapshot::domain_of(*node, key) : nullptr;
}

int32_t SetTopology::sharing_anti_affinity_domain(const VM& vm) const {
  const scheduler::VmSetInfo* set = snapshot_.vmset(request_.vmset);
  if (!set || !set->anti_affinity) return 0;
  const scheduler::NodeInfo* node = snapshot_.node_of_vm(vm.metadata.name);
  if (!node) return 0;
  const scheduler::DomainReplicas* d =
      snapshot_.replicas_in_domain(*set, set->anti_affinity->topologyKey, *node);
  return d ? d->count : 0;
}

}  // namespace corral::reconcile
