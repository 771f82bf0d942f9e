#include "controller/rebalance/plan_input.h"

#include <algorithm>
#include <unordered_map>

#include "base/clock.h"
#include "controller/rebalance/annotations.h"
#include "controller/reconcile/common.h"
#include "controller/scheduler/snapshot.h"

namespace corral::rebalance {
namespace {

std::string annotation(const VM& vm, std::string_view key) {
  if (vm.metadata.annotations.empty()) return {};  // most VMs: no key built, per VM per round
  auto it = vm.metadata.annotations.find(std::string(key));
  return it == vm.metadata.annotations.end() ? std::string() : it->second;
}

bool running_now(const VM& vm) {
  return vm.status.phase == vm_phase::kRunning && vm.status.epoch == vm.spec.epoch;
}

// not_movable_reason with the VM's owning set already known (`set_name`):
// building the input reads it once per VM, not twice (300,000 VMs a round).
std::string not_movable_reason_in(const VM& vm, const std::string& set_name, const Pool& pool,
                                  const std::map<std::string, const VMSet*>& sets,
                                  const std::set<std::string>& being_moved,
                                  std::chrono::system_clock::time_point now) {
  if (set_name.empty()) return "not owned by a VMSet";
  auto set = sets.find(set_name);
  if (set == sets.end()) return "VMSet " + set_name + " not found";
  if (set->second->spec.pool != pool.metadata.name)
    return "VMSet " + set_name + " is in pool " + set->second->spec.pool;
  const std::string replaces = annotation(vm, kReplacesAnnotation);
  if (!replaces.empty() && vm.status.phase != vm_phase::kRunning)
    return "replacement of " + replaces + " in flight";
  if (being_moved.count(vm.metadata.name)) return "being moved";
  if (!running_now(vm)) {
    if (vm.status.phase != vm_phase::kRunning) return "phase " + vm.status.phase;
    return "not Running in its epoch";
  }
  const std::string moved_at = annotation(vm, kMovedAtAnnotation);
  if (!moved_at.empty()) {
    std::chrono::system_clock::time_point at;
    if (!parse_time(moved_at, &at)) return "moved-at \"" + moved_at + "\" does not parse";
    const auto until = at + std::chrono::seconds(pool.spec.rebalance.cooldownSeconds);
    if (now < until) return "cooldown until " + format_time(until);
  }
  return "";
}

}  // namespace

std::string not_movable_reason(const VM& vm, const Pool& pool,
                               const std::map<std::string, const VMSet*>& sets,
                               const std::set<std::string>& being_moved,
                               std::chrono::system_clock::time_point now) {
  return not_movable_reason_in(vm, scheduler::owning_vmset(vm), pool, sets, being_moved, now);
}

PlanInput build_plan_input(const Pool& pool, const std::vector<Node>& nodes,
                           const std::vector<VMSet>& vmsets, const std::vector<VM>& vms,
                           std::chrono::system_clock::time_point now,
                           std::set<std::string> actionable,
                           std::map<std::string, int32_t> budget_left,
                           std::optional<int32_t> max_moves) {
  std::vector<const VM*> by_name;
  by_name.reserve(vms.size());
  for (const VM& vm : vms) by_name.push_back(&vm);
  std::sort(by_name.begin(), by_name.end(),
            [](const VM* a, const VM* b) { return a->metadata.name < b->metadata.name; });
  PlanInput in;
  build_plan_input_into(in, pool, nodes, vmsets, by_name, now, std::move(actionable),
                        std::move(budget_left), max_moves);
  return in;
}

void build_plan_input_into(PlanInput& in, const Pool& pool, const std::vector<Node>& nodes,
                           const std::vector<VMSet>& vmsets,
                           const std::vector<const VM*>& vms_by_name,
                           std::chrono::system_clock::time_point now,
                           std::set<std::string> actionable,
                           std::map<std::string, int32_t> budget_left,
                           std::optional<int32_t> max_moves) {
  in.nodes.clear();  // the capacity stays: see the header
  in.vms.clear();
  in.pool = pool.metadata.name;
  in.policy = pool.spec.rebalance;
  in.actionable = std::move(actionable);
  in.budget_left = std::move(budget_left);
  in.max_moves = max_moves.value_or(pool.spec.rebalance.maxMovesPerRound);

  std::unordered_map<std::string, uint32_t> node_at;
  for (const Node& n : nodes) {
    if (!reconcile::pool_selects(pool, n) || !node_ready(n)) continue;
    if (!node_at.emplace(n.metadata.name, 0).second) continue;  // duplicate name: first wins
    NodeState s;
    s.name = n.metadata.name;
    s.allocatable_cpu = n.status.allocatable.cpu.milli;
    s.allocatable_memory = n.status.allocatable.memory.milli;
    s.usage_cpu = n.status.usage.cpu.milli;
    s.usage_memory = n.status.usage.memory.milli;
    in.nodes.push_back(std::move(s));
  }
  std::sort(in.nodes.begin(), in.nodes.end(),
            [](const NodeState& a, const NodeState& b) { return a.name < b.name; });
  for (uint32_t i = 0; i < in.nodes.size(); ++i) node_at[in.nodes[i].name] = i;

  std::map<std::string, const VMSet*> sets;
  for (const VMSet& s : vmsets) sets.emplace(s.metadata.name, &s);
  std::set<std::string> being_moved;
  for (const VM* vm : vms_by_name) {
    std::string replaces = annotation(*vm, kReplacesAnnotation);
    if (!replaces.empty()) being_moved.insert(std::move(replaces));
  }

  // In name order (the caller's), picked before the (large) VmStates are
  // built, so they are never moved.
  std::vector<std::pair<const VM*, uint32_t>> held;
  held.reserve(vms_by_name.size());
  for (const VM* vm : vms_by_name) {
    if (!scheduler::holds_place(*vm)) continue;
    auto node = node_at.find(vm->spec.nodeName);
    if (node != node_at.end()) held.emplace_back(vm, node->second);
  }
  in.vms.reserve(held.size());
  for (const auto& [vm_ptr, node_index] : held) {
    const VM& vm = *vm_ptr;
    VmState& v = in.vms.emplace_back();
    v.name = vm.metadata.name;
    v.vmset = scheduler::owning_vmset(vm);
    v.node = vm.spec.nodeName;
    v.node_index = node_index;
    const bool measured = vm.status.phase == vm_phase::kRunning || vm.status.phase == vm_phase::kTerminating;
    const ResourceList& load = measured ? vm.status.usage : vm.spec.resources;
    v.usage_cpu = load.cpu.milli;
    v.usage_memory = load.memory.milli;
    v.measured_cpu = vm.status.usage.cpu.milli;
    v.measured_memory = vm.status.usage.memory.milli;
    scheduler::VmRequest& r = v.request;
    r.name = vm.metadata.name;
    r.vmset = v.vmset;
    r.pool = pool.metadata.name;
    r.cpu = vm.spec.resources.cpu.milli;
    r.memory = vm.spec.resources.memory.milli;
    r.tolerations = vm.spec.tolerations;
    r.priority = vm.spec.priority;
    r.epoch = vm.spec.epoch;
    v.not_movable_reason = not_movable_reason_in(vm, v.vmset, pool, sets, being_moved, now);
    v.movable = v.not_movable_reason.empty();
  }
}

}  // namespace corral::rebalance
