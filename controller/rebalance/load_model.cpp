#include "controller/rebalance/load_model.h"

#include <algorithm>
#include <cmath>

namespace corral::rebalance {

LoadModel::LoadModel(const PlanInput& input) : policy_(input.policy) {
  nodes_.reserve(input.nodes.size());
  for (const NodeState& s : input.nodes) {
    index_.emplace(s.name, static_cast<uint32_t>(nodes_.size()));
    Node n;
    n.name = s.name;
    n.alloc_cpu = s.allocatable_cpu;
    n.alloc_memory = s.allocatable_memory;
    nodes_.push_back(std::move(n));
  }
  std::vector<int64_t> vm_sum_cpu(nodes_.size()), vm_sum_memory(nodes_.size());
  std::vector<int64_t> measured_cpu(nodes_.size()), measured_memory(nodes_.size());
  vm_node_.assign(input.vms.size(), kNone);
  vm_cpu_.resize(input.vms.size());
  vm_memory_.resize(input.vms.size());
  // Each node's VM list sized before it is filled: one allocation per node,
  // not a doubling series (300,000 VMs on 10,000 nodes, every round).
  std::vector<uint32_t> on_node(nodes_.size());
  for (uint32_t v = 0; v < input.vms.size(); ++v) {
    const VmState& s = input.vms[v];
    const uint32_t n = s.node_index < nodes_.size() && nodes_[s.node_index].name == s.node
                           ? s.node_index
                           : index(s.node);
    vm_node_[v] = n;
    if (n != kNone) ++on_node[n];
  }
  for (uint32_t i = 0; i < nodes_.size(); ++i) nodes_[i].vms.reserve(on_node[i]);
  for (uint32_t v = 0; v < input.vms.size(); ++v) {
    const VmState& s = input.vms[v];
    vm_cpu_[v] = s.usage_cpu;
    vm_memory_[v] = s.usage_memory;
    const uint32_t n = vm_node_[v];
    if (n == kNone) continue;
    nodes_[n].vms.push_back(v);
    vm_sum_cpu[n] += s.usage_cpu;
    vm_sum_memory[n] += s.usage_memory;
    measured_cpu[n] += s.measured_cpu;
    measured_memory[n] += s.measured_memory;
  }
  for (uint32_t i = 0; i < nodes_.size(); ++i) {
    const NodeState& s = input.nodes[i];
    Node& n = nodes_[i];
    // base = measured − what of it the VMs measured, clamped ≥ 0; then every
    // VM's load on top (a VM not Running yet by its requests, which the
    // measurement cannot include yet).
    n.cpu = std::max<int64_t>(s.usage_cpu - measured_cpu[i], 0) + vm_sum_cpu[i];
    n.memory = std::max<int64_t>(s.usage_memory - measured_memory[i], 0) + vm_sum_memory[i];
    n.r = ratio(n, n.cpu, n.memory);
    by_load_.emplace(n.r, i);
  }
  recompute_mean();
}

uint32_t LoadModel::index(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? kNone : it->second;
}

double LoadModel::ratio(const Node& n, int64_t cpu, int64_t memory) const {
  double r = 0;
  if (n.alloc_cpu > 0) r = std::max(r, static_cast<double>(cpu) / static_cast<double>(n.alloc_cpu));
  if (n.alloc_memory > 0)
    r = std::max(r, static_cast<double>(memory) / static_cast<double>(n.alloc_memory));
  return r;
}

double LoadModel::share(uint32_t vm, uint32_t node) const {
  const Node& n = nodes_[node];
  double s = 0;
  if (n.alloc_cpu > 0)
    s = std::max(s, static_cast<double>(vm_cpu_[vm]) / static_cast<double>(n.alloc_cpu));
  if (n.alloc_memory > 0)
    s = std::max(s, static_cast<double>(vm_memory_[vm]) / static_cast<double>(n.alloc_memory));
  return s;
}

double LoadModel::excess_at(double r, double mean) const {
  return std::max(std::abs(r - mean) - policy_.maxImbalance, r - policy_.highWatermark);
}

void LoadModel::recompute_mean() {
  // Summed afresh in index order after every move, so that the same state
  // gives the same L bit for bit however it was reached (a second plan on the
  // result of the first must see what the first saw).
  double sum = 0;
  for (const Node& n : nodes_) sum += n.r;
  mean_ = nodes_.empty() ? 0 : sum / static_cast<double>(nodes_.size());
}

double LoadModel::max_deviation() const {
  if (by_load_.empty()) return 0;
  return std::max(by_load_.rbegin()->first - mean_, mean_ - by_load_.begin()->first);
}

LoadModel::Effect LoadModel::effect(uint32_t vm, uint32_t to) const {
  const uint32_t from = vm_node_[vm];
  const Node& a = nodes_[from];
  const Node& b = nodes_[to];
  Effect e;
  e.from_load = ratio(a, a.cpu - vm_cpu_[vm], a.memory - vm_memory_[vm]);
  e.to_load = ratio(b, b.cpu + vm_cpu_[vm], b.memory + vm_memory_[vm]);
  const double n = static_cast<double>(nodes_.size());
  e.mean = mean_ + (e.from_load - a.r + e.to_load - b.r) / n;
  // The extremes of the other nodes: at most two entries at each end are a or b.
  double hi = std::max(e.from_load, e.to_load);
  double lo = std::min(e.from_load, e.to_load);
  int seen = 0;
  for (auto it = by_load_.rbegin(); it != by_load_.rend() && seen < 3; ++it, ++seen) {
    if (it->second == from || it->second == to) continue;
    hi = std::max(hi, it->first);
    break;
  }
  seen = 0;
  for (auto it = by_load_.begin(); it != by_load_.end() && seen < 3; ++it, ++seen) {
    if (it->second == from || it->second == to) continue;
    lo = std::min(lo, it->first);
    break;
  }
  e.max_deviation = std::max(hi - e.mean, e.mean - lo);
  return e;
}

void LoadModel::apply(uint32_t vm, uint32_t to) {
  const uint32_t from = vm_node_[vm];
  Node& a = nodes_[from];
  Node& b = nodes_[to];
  by_load_.erase({a.r, from});
  by_load_.erase({b.r, to});
  a.cpu -= vm_cpu_[vm];
  a.memory -= vm_memory_[vm];
  b.cpu += vm_cpu_[vm];
  b.memory += vm_memory_[vm];
  a.r = ratio(a, a.cpu, a.memory);
  b.r = ratio(b, b.cpu, b.memory);
  by_load_.emplace(a.r, from);
  by_load_.emplace(b.r, to);
  a.vms.erase(std::find(a.vms.begin(), a.vms.end(), vm));
  b.vms.insert(std::lower_bound(b.vms.begin(), b.vms.end(), vm), vm);
  vm_node_[vm] = to;
  recompute_mean();
}

}  // namespace corral::rebalance
