// The rebalancer's view of a pool's load, and what a move would do to it.
//
//   Rᵢ   node load = max(cpu / allocatable cpu, memory / allocatable memory),
//        a resource with zero allocatable left out (reconcile::node_load)
//   load of a node = base + Σ load of the VMs on it (VmState: measured usage,
//        or requests before it runs), where
//        base = measured node usage − Σ its VMs' measured usage, clamped ≥ 0
//        per resource: the host's own overhead, which stays when VMs leave
//   L    Σ Rᵢ / n over the n nodes of the model (the pool's Ready members)
//   dᵢ   Rᵢ − L
//   in band  |dᵢ| ≤ maxImbalance and Rᵢ ≤ highWatermark
//
// Moving VM v from a to b takes v's load off a and puts it on b; Rₐ, R_b and L
// are recomputed, every other Rᵢ stays.
//
// Thread safety: none; one planner owns it.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "api/types.h"
#include "controller/rebalance/plan.h"

namespace corral::rebalance {

class LoadModel {
 public:
  // `input.nodes` and `input.vms` sorted by name (build_plan_input does);
  // VMs on nodes not in `input.nodes` are ignored.
  explicit LoadModel(const PlanInput& input);

  // ---- nodes (index = position in input.nodes, i.e. name order) --------------
  size_t size() const { return nodes_.size(); }
  const std::string& name(uint32_t node) const { return nodes_[node].name; }
  // kNone when the name is not a node of the model.
  uint32_t index(const std::string& name) const;
  double load(uint32_t node) const { return nodes_[node].r; }
  double mean() const { return mean_; }
  double deviation(uint32_t node) const { return nodes_[node].r - mean_; }
  bool in_band(uint32_t node) const { return excess(node) <= 0; }
  // How far outside the band: max(|dᵢ| − maxImbalance, Rᵢ − highWatermark);
  // ≤ 0 inside it.
  double excess(uint32_t node) const { return excess_at(nodes_[node].r, mean_); }
  double excess_at(double r, double mean) const;
  double max_deviation() const;  // max |dᵢ|; 0 for an empty model

  // Nodes by (load, index) ascending: least loaded first, ties by name.
  const std::set<std::pair<double, uint32_t>>& by_load() const { return by_load_; }

  // Absolute load and allocatable, milli-units.
  int64_t cpu(uint32_t node) const { return nodes_[node].cpu; }
  int64_t memory(uint32_t node) const { return nodes_[node].memory; }
  int64_t allocatable_cpu(uint32_t node) const { return nodes_[node].alloc_cpu; }
  int64_t allocatable_memory(uint32_t node) const { return nodes_[node].alloc_memory; }
  const RebalancePolicy& policy() const { return policy_; }

  // ---- VMs (index = position in input.vms) -----------------------------------
  int64_t vm_cpu(uint32_t vm) const { return vm_cpu_[vm]; }
  int64_t vm_memory(uint32_t vm) const { return vm_memory_[vm]; }
  // The VMs on `node`, by name, including ones that cannot move.
  const std::vector<uint32_t>& vms_on(uint32_t node) const { return nodes_[node].vms; }
  uint32_t node_of(uint32_t vm) const { return vm_node_[vm]; }
  // The load share of `vm` on `node`: max(cpu/alloc cpu, memory/alloc memory),
  // how much it can move Rᵢ at most.
  double share(uint32_t vm, uint32_t node) const;

  // ---- what a move would do ---------------------------------------------------
  struct Effect {
    double from_load = 0;  // Rₐ' and R_b' after
    double to_load = 0;
    double mean = 0;           // L' after
    double max_deviation = 0;  // max |Rᵢ − L'| over every node, after
  };
  Effect effect(uint32_t vm, uint32_t to) const;
  // Applies the move in the model (the VM is then on `to`).
  void apply(uint32_t vm, uint32_t to);

  static constexpr uint32_t kNone = UINT32_MAX;

 private:
  struct Node {
    std::string name;
    int64_t alloc_cpu = 0, alloc_memory = 0;
    int64_t cpu = 0, memory = 0;  // base + Σ VM load
    double r = 0;
    std::vector<uint32_t> vms;
  };
  double ratio(const Node& n, int64_t cpu, int64_t memory) const;
  void recompute_mean();

  RebalancePolicy policy_;
  std::vector<Node> nodes_;
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<uint32_t> vm_node_;  // kNone for VMs outside the model
  std::vector<int64_t> vm_cpu_, vm_memory_;
  std::set<std::pair<double, uint32_t>> by_load_;
  double mean_ = 0;
};

}  // namespace corral::rebalance
