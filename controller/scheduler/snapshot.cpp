#include "controller/scheduler/snapshot.h"

#include <algorithm>

#include "api/annotations.h"
#include "api/conditions.h"
#include "controller/scheduler/predicates.h"

namespace corral::scheduler {
namespace {

bool running(const VM& vm) { return vm.status.phase == vm_phase::kRunning; }

std::string cache_key(const PoolInfo& pool, std::string_view key) {
  std::string out = pool.name;
  out += '\n';
  out += key;
  return out;
}

}  // namespace

Strategy parse_strategy(std::string_view placement) {
  if (placement == "binpack") return Strategy::kBinpack;
  // "least-loaded": a Pool stored before the spelling changed.
  if (placement == "leastLoaded" || placement == "least-loaded") return Strategy::kLeastLoaded;
  return Strategy::kSpread;
}

bool holds_place(const VM& vm) {
  if (vm.spec.nodeName.empty()) return false;
  const std::string& phase = vm.status.phase;
  if (phase == vm_phase::kLost) return false;
  if (phase == vm_phase::kFailed && vm.spec.restartPolicy == "Never") return false;
  return true;
}

bool needs_placement(const VM& vm) { return vm.spec.nodeName.empty() || vm.status.phase == vm_phase::kLost; }

std::string owning_vmset(const VM& vm) {
  for (const auto& ref : vm.metadata.ownerReferences)
    if (ref.kind == "VMSet" && ref.controller) return ref.name;
  auto it = vm.metadata.labels.find(std::string(kVMSetLabel));
  return it == vm.metadata.labels.end() ? std::string() : it->second;
}

VmRequest make_request(const VM& vm, const ClusterSnapshot& snapshot) {
  VmRequest r;
  r.name = vm.metadata.name;
  r.vmset = owning_vmset(vm);
  if (const VmSetInfo* set = snapshot.vmset(r.vmset)) r.pool = set->pool;
  r.cpu = vm.spec.resources.cpu.milli;
  r.memory = vm.spec.resources.memory.milli;
  r.tolerations = vm.spec.tolerations;
  r.priority = vm.spec.priority;
  r.epoch = vm.spec.epoch;
  auto target = vm.metadata.annotations.find(std::string(kTargetNodeAnnotation));
  if (target != vm.metadata.annotations.end()) r.target_node = target->second;
  return r;
}

// ---- build --------------------------------------------------------------------

ClusterSnapshot ClusterSnapshot::build(const std::vector<Node>& nodes,
                                       const std::vector<Pool>& pools,
                                       const std::vector<VMSet>& vmsets,
                                       const std::vector<VM>& vms) {
  ClusterSnapshot s;
  for (const auto& p : pools) {
    PoolInfo info;
    info.name = p.metadata.name;
    info.node_selector = p.spec.nodeSelector;
    info.overcommit = p.spec.overcommit;
    info.strategy = parse_strategy(p.spec.placement);
    s.pool_index_.emplace(info.name, s.pools_.size());
    s.pools_.push_back(std::move(info));
  }
  for (const auto& v : vmsets) s.add_vmset(v);
  // Nodes sorted by name get indices in name order, so that the initial pool
  // member lists need no sort; later upserts insert in order.
  std::vector<const Node*> sorted;
  sorted.reserve(nodes.size());
  for (const auto& n : nodes) sorted.push_back(&n);
  std::sort(sorted.begin(), sorted.end(),
            [](const Node* a, const Node* b) { return a->metadata.name < b->metadata.name; });
  s.nodes_.reserve(sorted.size());
  for (const Node* n : sorted) {
    if (s.node_index_.count(n->metadata.name)) continue;  // duplicate name: first wins
    NodeInfo info;
    info.index = static_cast<uint32_t>(s.nodes_.size());
    s.set_node_fields(info, *n);
    s.node_index_.emplace(info.name, info.index);
    s.nodes_.push_back(std::move(info));
    ++s.live_nodes_;
  }
  for (auto& pool : s.pools_)
    for (const auto& n : s.nodes_)
      if (pool_selects(pool.node_selector, n.labels)) pool.members.push_back(n.index);
  s.placements_.reserve(vms.size());
  for (const auto& vm : vms) s.upsert_vm(vm);
  return s;
}

void ClusterSnapshot::set_node_fields(NodeInfo& info, const Node& node) {
  info.name = node.metadata.name;
  info.present = true;
  info.labels = node.metadata.labels;
  info.ready = node_ready(node);
  // A draining node takes nothing new, even if someone uncordons it mid-drain.
  info.unschedulable = node.spec.unschedulable || node.spec.drain;
  info.taints = node.spec.taints;
  info.has_hard_taints = std::any_of(info.taints.begin(), info.taints.end(),
                                     [](const Taint& t) { return is_hard_effect(t.effect); });
  info.allocatable_cpu = node.status.allocatable.cpu.milli;
  info.allocatable_memory = node.status.allocatable.memory.milli;
  info.usage_cpu = node.status.usage.cpu.milli;
  info.usage_memory = node.status.usage.memory.milli;
}

// ---- nodes --------------------------------------------------------------------

void ClusterSnapshot::index_node_in_pools(uint32_t index) {
  const NodeInfo& n = nodes_[index];
  for (auto& pool : pools_) {
    if (!pool_selects(pool.node_selector, n.labels)) continue;
    auto pos = std::lower_bound(
        pool.members.begin(), pool.members.end(), n.name,
        [this](uint32_t m, const std::string& name) { return nodes_[m].name < name; });
    pool.members.insert(pos, index);
  }
}

void ClusterSnapshot::unindex_node_from_pools(uint32_t index) {
  for (auto& pool : pools_) {
    auto it = std::find(pool.members.begin(), pool.members.end(), index);
    if (it != pool.members.end()) pool.members.erase(it);
  }
}

void ClusterSnapshot::upsert_node(const Node& node) {
  domain_cache_.clear();
  auto it = node_index_.find(node.metadata.name);
  if (it == node_index_.end()) {
    NodeInfo info;
    info.index = static_cast<uint32_t>(nodes_.size());
    set_node_fields(info, node);
    node_index_.emplace(info.name, info.index);
    nodes_.push_back(std::move(info));
    ++live_nodes_;
    index_node_in_pools(nodes_.back().index);
    return;
  }
  const uint32_t index = it->second;
  if (!nodes_[index].present) ++live_nodes_;
  unindex_node_from_pools(index);
  // Per-domain replica counts are keyed by the node's labels: when they change,
  // take this node's replicas out under the old labels and back in under the
  // new. Scanning every placement is O(VMs), fine for an event this rare.
  std::vector<std::pair<std::string, Placement>> moved;
  if (nodes_[index].labels != node.metadata.labels) {
    for (const auto& [vm, p] : placements_)
      if (p.node == index) moved.emplace_back(vm, p);
    for (const auto& [vm, p] : moved) remove_placement(vm);
  }
  set_node_fields(nodes_[index], node);
  for (const auto& [vm, p] : moved) add_placement(vm, p);
  index_node_in_pools(index);
}

void ClusterSnapshot::remove_node(std::string_view name) {
  auto it = node_index_.find(std::string(name));
  if (it == node_index_.end() || !nodes_[it->second].present) return;
  domain_cache_.clear();
  unindex_node_from_pools(it->second);
  nodes_[it->second].present = false;
  --live_nodes_;
}

// ---- VMs ----------------------------------------------------------------------

void ClusterSnapshot::count_replica(VmSetInfo& set, const std::string& vm, uint32_t node,
                                    int delta) {
  auto apply = [&](DomainReplicas& d) {
    d.count += delta;
    if (delta > 0) {
      d.vms.insert(vm);
    } else {
      d.vms.erase(vm);
    }
  };
  set.placed += delta;
  apply(set.per_node[node]);
  const NodeInfo& n = nodes_[node];
  auto track = [&](const std::string& key) {
    if (key == kHostnameKey) return;  // per_node is the hostname domain
    auto label = n.labels.find(key);
    if (label == n.labels.end()) return;
    apply(set.per_domain[key][label->second]);
  };
  if (set.spread) track(set.spread->topologyKey);
  if (set.anti_affinity &&
      (!set.spread || set.spread->topologyKey != set.anti_affinity->topologyKey))
    track(set.anti_affinity->topologyKey);
}

void ClusterSnapshot::add_placement(const std::string& vm, const Placement& p) {
  NodeInfo& n = nodes_[p.node];
  n.requested_cpu += p.cpu;
  n.requested_memory += p.memory;
  if (p.expected) {
    n.expected_cpu += p.cpu;
    n.expected_memory += p.memory;
  }
  ++n.vm_count;
  if (VmSetInfo* set = find_vmset(p.vmset)) count_replica(*set, vm, p.node, +1);
  placements_[vm] = p;
}

void ClusterSnapshot::remove_placement(std::string_view vm) {
  auto it = placements_.find(std::string(vm));
  if (it == placements_.end()) return;
  const Placement& p = it->second;
  NodeInfo& n = nodes_[p.node];
  n.requested_cpu -= p.cpu;
  n.requested_memory -= p.memory;
  if (p.expected) {
    n.expected_cpu -= p.cpu;
    n.expected_memory -= p.memory;
  }
  --n.vm_count;
  // count_replica reads the node's current labels; upsert_node re-counts a
  // node's replicas when its labels change, so they are the ones counted with.
  if (VmSetInfo* set = find_vmset(p.vmset)) count_replica(*set, it->first, p.node, -1);
  placements_.erase(it);
}

bool ClusterSnapshot::add_vmset(const VMSet& v) {
  if (vmset_index_.count(v.metadata.name)) return false;
  VmSetInfo info;
  info.name = v.metadata.name;
  info.pool = v.spec.pool;
  info.spread = v.spec.spread;
  info.anti_affinity = v.spec.antiAffinity;
  // Objects read through from_json carry no defaults: apply the one that
  // matters here (api/defaults.cpp does the same on the server).
  if (info.anti_affinity && info.anti_affinity->topologyKey.empty())
    info.anti_affinity->topologyKey = std::string(kHostnameKey);
  vmset_index_.emplace(info.name, vmsets_.size());
  vmsets_.push_back(std::move(info));
  return true;
}

void ClusterSnapshot::upsert_vm(const VM& vm) {
  remove_placement(vm.metadata.name);
  if (!holds_place(vm)) return;
  auto node = node_index_.find(vm.spec.nodeName);
  if (node == node_index_.end()) {
    // Bound to a node the snapshot has never seen (deleted, or not yet
    // listed): nothing of ours is promised there, so it is not counted.
    return;
  }
  Placement p;
  p.node = node->second;
  p.cpu = vm.spec.resources.cpu.milli;
  p.memory = vm.spec.resources.memory.milli;
  p.expected = !running(vm);
  p.vmset = owning_vmset(vm);
  add_placement(vm.metadata.name, p);
}

void ClusterSnapshot::remove_vm(std::string_view name) { remove_placement(name); }

void ClusterSnapshot::bind(const VmRequest& vm, uint32_t node) { place(vm, node, true); }

void ClusterSnapshot::place(const VmRequest& vm, uint32_t node, bool expected) {
  remove_placement(vm.name);
  Placement p;
  p.node = node;
  p.cpu = vm.cpu;
  p.memory = vm.memory;
  p.expected = expected;
  p.vmset = vm.vmset;
  add_placement(vm.name, p);
}

bool ClusterSnapshot::expected(std::string_view vm) const {
  auto it = placements_.find(std::string(vm));
  return it != placements_.end() && it->second.expected;
}

// ---- reads --------------------------------------------------------------------

const NodeInfo* ClusterSnapshot::node(std::string_view name) const {
  auto it = node_index_.find(std::string(name));
  if (it == node_index_.end() || !nodes_[it->second].present) return nullptr;
  return &nodes_[it->second];
}

const PoolInfo* ClusterSnapshot::pool(std::string_view name) const {
  auto it = pool_index_.find(std::string(name));
  return it == pool_index_.end() ? nullptr : &pools_[it->second];
}

PoolInfo* ClusterSnapshot::mutable_pool(std::string_view name) {
  auto it = pool_index_.find(std::string(name));
  return it == pool_index_.end() ? nullptr : &pools_[it->second];
}

const VmSetInfo* ClusterSnapshot::vmset(std::string_view name) const {
  if (name.empty()) return nullptr;
  auto it = vmset_index_.find(std::string(name));
  return it == vmset_index_.end() ? nullptr : &vmsets_[it->second];
}

VmSetInfo* ClusterSnapshot::find_vmset(std::string_view name) {
  if (name.empty()) return nullptr;
  auto it = vmset_index_.find(std::string(name));
  return it == vmset_index_.end() ? nullptr : &vmsets_[it->second];
}

const NodeInfo* ClusterSnapshot::node_of_vm(std::string_view vm) const {
  auto it = placements_.find(std::string(vm));
  return it == placements_.end() ? nullptr : &nodes_[it->second.node];
}

const std::string* ClusterSnapshot::domain_of(const NodeInfo& node, std::string_view key) {
  if (key == kHostnameKey) return &node.name;
  auto it = node.labels.find(std::string(key));
  return it == node.labels.end() ? nullptr : &it->second;
}

const DomainReplicas* ClusterSnapshot::replicas_in_domain(const VmSetInfo& set,
                                                          std::string_view key,
                                                          const NodeInfo& node) const {
  if (key == kHostnameKey) {
    auto it = set.per_node.find(node.index);
    return it == set.per_node.end() ? nullptr : &it->second;
  }
  const std::string* value = domain_of(node, key);
  if (value == nullptr) return nullptr;
  auto by_key = set.per_domain.find(std::string(key));
  if (by_key == set.per_domain.end()) return nullptr;
  auto it = by_key->second.find(*value);
  return it == by_key->second.end() ? nullptr : &it->second;
}

DomainCounter::DomainCounter(const VmSetInfo& set, const std::string& key)
    : set_(&set), key_(key), hostname_(key == kHostnameKey) {
  if (hostname_) return;
  auto it = set.per_domain.find(key);
  if (it != set.per_domain.end()) by_value_ = &it->second;
}

const DomainReplicas* DomainCounter::find(const NodeInfo& node) const {
  if (set_ == nullptr) return nullptr;
  if (hostname_) {
    auto it = set_->per_node.find(node.index);
    return it == set_->per_node.end() ? nullptr : &it->second;
  }
  if (by_value_ == nullptr) return nullptr;
  auto label = node.labels.find(key_);
  if (label == node.labels.end()) return nullptr;
  auto it = by_value_->find(label->second);
  return it == by_value_->end() ? nullptr : &it->second;
}

const std::vector<Domain>& ClusterSnapshot::domains(const PoolInfo& pool,
                                                    std::string_view key) const {
  std::string ck = cache_key(pool, key);
  auto cached = domain_cache_.find(ck);
  if (cached != domain_cache_.end()) return cached->second;
  std::vector<Domain> out;
  std::unordered_map<std::string, size_t> at;
  for (uint32_t m : pool.members) {
    const std::string* value = domain_of(nodes_[m], key);
    if (value == nullptr) continue;
    auto [it, fresh] = at.emplace(*value, out.size());
    if (fresh) out.push_back(Domain{*value, {}});
    out[it->second].nodes.push_back(m);
  }
  std::sort(out.begin(), out.end(),
            [](const Domain& a, const Domain& b) { return a.value < b.value; });
  return domain_cache_.emplace(std::move(ck), std::move(out)).first->second;
}

}  // namespace corral::scheduler
