#include "cli/failure_simulation.h"

#include <algorithm>
#include <map>

#include "controller/reconcile/common.h"
#include "controller/reconcile/pool_status.h"
#include "controller/reconcile/vmset_reconcile.h"
#include "controller/scheduler/scheduler.h"
#include "controller/scheduler/snapshot.h"

namespace corral::cli {

namespace {

constexpr const char* kReason = "SimulatedFailure";

void fail_node(Node& node) {
  node.status.phase = node_phase::kNotReady;
  bool found = false;
  for (Condition& c : node.status.conditions) {
    if (c.type != condition_type::kReady) continue;
    c.status = condition_status::kFalse;
    c.reason = kReason;
    found = true;
  }
  if (!found) node.status.conditions.push_back({condition_type::kReady, condition_status::kFalse, kReason, "", "", 0});
}

// Running in its current epoch: what VMSet status counts as running (and R is over).
bool running_current(const VM& vm) {
  return vm.status.phase == vm_phase::kRunning && vm.status.epoch == vm.spec.epoch;
}

struct SetState {
  int32_t running = 0;
  double availability = 0;
};

SetState set_state(const VMSet& set, const std::vector<VM>& vms, const std::vector<Node>& nodes) {
  SetState s;
  std::vector<const VM*> running;
  for (const VM& vm : vms)
    if (reconcile::owned_by(vm, set) && vm.status.phase != vm_phase::kTerminating && running_current(vm))
      running.push_back(&vm);
  s.running = static_cast<int32_t>(running.size());
  s.availability = reconcile::vmset_availability(running, nodes);
  return s;
}

}  // namespace

FailureSimulation simulate_node_failure(const std::vector<Node>& nodes, const std::vector<Pool>& pools,
                                        const std::vector<VMSet>& vmsets, const std::vector<VM>& vms,
                                        const std::set<std::string>& failed) {
  FailureSimulation out;

  std::vector<Node> nodes_after = nodes;
  for (Node& n : nodes_after)
    if (failed.count(n.metadata.name)) fail_node(n);

  // The node lifecycle loop's rule: bound VMs not already Lost, Failed or Terminating.
  std::vector<VM> vms_after = vms;
  std::set<std::string> affected_sets;
  for (VM& vm : vms_after) {
    if (!failed.count(vm.spec.nodeName)) continue;
    if (std::string set = scheduler::owning_vmset(vm); !set.empty()) affected_sets.insert(set);
    const std::string& phase = vm.status.phase;
    if (phase != vm_phase::kLost && phase != vm_phase::kFailed && phase != vm_phase::kTerminating) vm.status.phase = vm_phase::kLost;
  }

  auto snapshot = scheduler::ClusterSnapshot::build(nodes_after, pools, vmsets, vms_after);
  std::vector<scheduler::VmRequest> pending;
  std::map<std::string, VM*> by_name;
  for (VM& vm : vms_after) {
    by_name[vm.metadata.name] = &vm;
    if (vm.status.phase != vm_phase::kTerminating && scheduler::needs_placement(vm))
      pending.push_back(scheduler::make_request(vm, snapshot));
  }
  scheduler::Scheduler sched;
  for (const auto& d : sched.schedule_batch(snapshot, std::move(pending))) {
    VM& vm = *by_name.at(d.vm);
    std::string from = vm.spec.nodeName;
    if (d.bound()) {
      out.moves.push_back({d.vm, from, d.node});
      // The assumption in the header: the replacement runs on its new node.
      vm.spec.nodeName = d.node;
      vm.spec.epoch = d.epoch;
      vm.status.phase = vm_phase::kRunning;
      vm.status.nodeName = d.node;
      vm.status.epoch = d.epoch;
    } else if (!from.empty()) {
      out.pending.push_back({d.vm, from, d.message});
    }
  }

  for (const VMSet& set : vmsets) {
    if (!affected_sets.count(set.metadata.name)) continue;
    SetState before = set_state(set, vms, nodes);
    SetState after = set_state(set, vms_after, nodes_after);
    out.vmsets.push_back(
        {set.metadata.name, before.running, after.running, before.availability, after.availability});
  }

  for (const Pool& pool : pools) {
    bool affected = false;
    for (const Node& n : nodes)
      if (failed.count(n.metadata.name) && reconcile::pool_selects(pool, n)) affected = true;
    if (!affected) continue;
    PoolStatus before = reconcile::compute_pool_status(pool, nodes, vms);
    PoolStatus after = reconcile::compute_pool_status(pool, nodes_after, vms_after);
    out.pools.push_back({pool.metadata.name, before.totalNodes, before.readyNodes, after.readyNodes,
                         before.tolerableFailures, after.tolerableFailures});
  }
  std::sort(out.vmsets.begin(), out.vmsets.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(out.pools.begin(), out.pools.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

}  // namespace corral::cli
