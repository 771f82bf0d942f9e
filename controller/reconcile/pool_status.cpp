#include "controller/reconcile/pool_status.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>

#include "api/quantity.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {
namespace {

// Clamped: a double beyond int64's range does not convert (undefined).
int64_t scaled(int64_t milli, double overcommit) {
  const double v = std::floor(static_cast<double>(milli) * overcommit);
  if (!(v < 9.2e18)) return v > 0 ? INT64_MAX : 0;  // also NaN → 0
  if (v < -9.2e18) return INT64_MIN;
  return static_cast<int64_t>(v);
}

void add_to(Milli& sum, int64_t cpu, int64_t memory) {
  sum.cpu = saturating_add(sum.cpu, cpu);
  sum.memory = saturating_add(sum.memory, memory);
}

// Everything both the status and the admission check need, in milli-units.
struct PoolTotals {
  // Views of the nodes' names (the nodes outlive the totals): a lookup per VM
  // of 300,000 must neither copy nor compare strings along a tree.
  std::unordered_set<std::string_view> members;
  std::vector<Milli> ready_capacity;  // allocatable × overcommit per Ready member
  Milli capacity;                     // Σ of ready_capacity: what may be promised
  Milli physical;                     // V = Σ Pᵢ: Σ allocatable, no overcommit
  Milli allocated;
};

bool holds_allocation(const VM& vm) {
  return vm.status.phase != vm_phase::kFailed && vm.status.phase != vm_phase::kLost;
}

PoolTotals totals(const Pool& pool, const std::vector<Node>& nodes, const std::vector<VM>& vms) {
  PoolTotals t;
  t.members.reserve(nodes.size());
  for (const Node& n : nodes) {
    if (!pool_selects(pool, n)) continue;
    t.members.insert(n.metadata.name);
    if (!node_ready(n)) continue;
    Milli p{scaled(n.status.allocatable.cpu.milli, pool.spec.overcommit.cpu),
            scaled(n.status.allocatable.memory.milli, pool.spec.overcommit.memory)};
    t.ready_capacity.push_back(p);
    add_to(t.physical, n.status.allocatable.cpu.milli, n.status.allocatable.memory.milli);
    add_to(t.capacity, p.cpu, p.memory);
  }
  for (const VM& vm : vms) {
    if (vm.spec.nodeName.empty() || !t.members.count(vm.spec.nodeName) || !holds_allocation(vm))
      continue;
    add_to(t.allocated, vm.spec.resources.cpu.milli, vm.spec.resources.memory.milli);
  }
  return t;
}

// The values of one resource, largest first.
std::vector<int64_t> descending(const std::vector<Milli>& caps, int64_t Milli::*field) {
  std::vector<int64_t> v;
  v.reserve(caps.size());
  for (const Milli& m : caps) v.push_back(m.*field);
  std::sort(v.begin(), v.end(), std::greater<>());
  return v;
}

// Σ of the n largest values of one resource.
int64_t largest_sum(const std::vector<Milli>& caps, size_t n, int64_t Milli::*field) {
  const std::vector<int64_t> v = descending(caps, field);
  int64_t sum = 0;
  for (size_t i = 0; i < n && i < v.size(); ++i) sum = saturating_add(sum, v[i]);
  return sum;
}

// The most nodes whose loss leaves room for what is allocated, losing the
// largest first: one sort per resource and running sums (10,000 nodes
// tolerating thousands of failures must not sort once per failure).
int32_t tolerable_failures(const PoolTotals& t, const Milli& allocated) {
  const std::vector<int64_t> cpu = descending(t.ready_capacity, &Milli::cpu);
  const std::vector<int64_t> memory = descending(t.ready_capacity, &Milli::memory);
  int64_t lost_cpu = 0;
  int64_t lost_memory = 0;
  int32_t best = 0;
  for (size_t n = 1; n <= t.ready_capacity.size(); ++n) {
    lost_cpu = saturating_add(lost_cpu, cpu[n - 1]);
    lost_memory = saturating_add(lost_memory, memory[n - 1]);
    if (t.capacity.cpu - lost_cpu < allocated.cpu) break;
    if (t.capacity.memory - lost_memory < allocated.memory) break;
    best = static_cast<int32_t>(n);
  }
  return best;
}

bool belongs_to(const VM& vm, const VMSet& set) {
  auto it = vm.metadata.labels.find(std::string(kVMSetLabel));
  if (it != vm.metadata.labels.end() && it->second == set.metadata.name) return true;
  return owned_by(vm, set);
}

}  // namespace

PoolStatus compute_pool_status(const Pool& pool, const std::vector<Node>& nodes,
                               const std::vector<VM>& vms) {
  PoolStatus st;
  st.observedGeneration = pool.metadata.generation;
  st.conditions = pool.status.conditions;
  const PoolTotals t = totals(pool, nodes, vms);
  st.capacity.cpu = Quantity::from_milli(t.physical.cpu);
  st.capacity.memory = Quantity::from_bytes(t.physical.memory / 1000);
  st.schedulable.cpu = Quantity::from_milli(t.capacity.cpu);
  st.schedulable.memory = Quantity::from_bytes(t.capacity.memory / 1000);
  st.allocated.cpu = Quantity::from_milli(t.allocated.cpu);
  st.allocated.memory = Quantity::from_bytes(t.allocated.memory / 1000);

  Milli used;
  double load_sum = 0;
  for (const Node& n : nodes) {  // nodes in input order; sorted below
    if (!t.members.count(n.metadata.name)) continue;
    ++st.totalNodes;
    if (!node_ready(n)) continue;
    ++st.readyNodes;
    add_to(used, n.status.usage.cpu.milli, n.status.usage.memory.milli);
    NodeLoad load{n.metadata.name, node_load(n), 0};
    load_sum += load.load;
    st.nodeLoads.push_back(std::move(load));
  }
  st.used.cpu = Quantity::from_milli(used.cpu);
  st.used.memory = Quantity::from_bytes(used.memory / 1000);
  std::sort(st.nodeLoads.begin(), st.nodeLoads.end(),
            [](const NodeLoad& a, const NodeLoad& b) { return a.name < b.name; });
  if (st.readyNodes > 0) st.meanLoad = load_sum / st.readyNodes;
  for (NodeLoad& l : st.nodeLoads) {
    l.deviation = l.load - st.meanLoad;
    st.loadSpread = std::max(st.loadSpread, std::abs(l.deviation));
  }
  st.tolerableFailures = tolerable_failures(t, t.allocated);
  return st;
}

Result<void> check_ha_admission(const Pool& pool, const std::vector<Node>& nodes,
                                const std::vector<VM>& vms, const VMSet& proposed) {
  const int32_t n = pool.spec.failover.tolerateNodeFailures;
  if (n <= 0 || proposed.spec.pool != pool.metadata.name) return Ok{};

  const PoolTotals t = totals(pool, nodes, vms);
  Milli current;  // what the set's VMs hold in this pool now
  for (const VM& vm : vms) {
    if (vm.spec.nodeName.empty() || !t.members.count(vm.spec.nodeName) || !holds_allocation(vm))
      continue;
    if (!belongs_to(vm, proposed)) continue;
    add_to(current, vm.spec.resources.cpu.milli, vm.spec.resources.memory.milli);
  }
  const int64_t replicas = std::max(0, proposed.spec.replicas);
  const Milli demand{saturating_mul(replicas, proposed.spec.templ.spec.resources.cpu.milli),
                     saturating_mul(replicas, proposed.spec.templ.spec.resources.memory.milli)};
  if (demand.cpu <= current.cpu && demand.memory <= current.memory) return Ok{};

  const Milli after{saturating_add(t.allocated.cpu - current.cpu, demand.cpu),
                    saturating_add(t.allocated.memory - current.memory, demand.memory)};
  const size_t lost = static_cast<size_t>(n);
  const int64_t cpu_left = t.capacity.cpu - largest_sum(t.ready_capacity, lost, &Milli::cpu);
  const int64_t mem_left = t.capacity.memory - largest_sum(t.ready_capacity, lost, &Milli::memory);
  std::string shortfall;
  if (cpu_left < after.cpu)
    shortfall = format_cpu(std::max<int64_t>(cpu_left, 0)) + " CPU would remain for " +
                format_cpu(after.cpu) + " CPU requested";
  if (mem_left < after.memory) {
    if (!shortfall.empty()) shortfall += ", and ";
    shortfall += format_memory(std::max<int64_t>(mem_left, 0)) + " memory would remain for " +
                 format_memory(after.memory) + " requested";
  }
  if (shortfall.empty()) return Ok{};

  const std::string count = std::to_string(n);
  Error err = make_error(ErrorCode::kInvalid, "pool " + pool.metadata.name + " tolerates " + count +
                                                  " node failure(s): after losing the " + count +
                                                  " largest node(s), " + shortfall);
  err.causes.push_back(Cause{"spec.replicas", err.message, ""});
  return err;
}

}  // namespace corral::reconcile
