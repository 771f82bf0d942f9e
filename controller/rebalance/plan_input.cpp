#include "controller/rebalance/plan_input.h"

#include <algorithm>
#include <optional>
#include <unordered_map>
#include <unordered_set>

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

// Why a VM may not be moved, from what is known of it (see the header).
// `set`: its owning VMSet `set_name`, or null when there is none of that name.
std::string not_movable_reason_in(const std::string& set_name, const VMSet* set, bool being_moved,
                                  const std::string& phase, bool running, const std::string& replaces,
                                  const std::string& moved_at, const Pool& pool,
                                  std::chrono::system_clock::time_point now) {
  if (set_name.empty()) return "not owned by a VMSet";
  if (set == nullptr) return "VMSet " + set_name + " not found";
  if (set->spec.pool != pool.metadata.name)
    return "VMSet " + set_name + " is in pool " + set->spec.pool;
  if (!replaces.empty() && phase != vm_phase::kRunning)
    return "replacement of " + replaces + " in flight";
  if (being_moved) return "being moved";
  if (!running) {
    if (phase != vm_phase::kRunning) return "phase " + phase;
    return "not Running in its epoch";
  }
  if (!moved_at.empty()) {
    std::chrono::system_clock::time_point at;
    if (!parse_time(moved_at, &at)) return "moved-at \"" + moved_at + "\" does not parse";
    const auto until = at + std::chrono::seconds(pool.spec.rebalance.cooldownSeconds);
    if (now < until) return "cooldown until " + format_time(until);
  }
  return "";
}

bool by_name(const VmState& v, std::string_view name) { return v.name < name; }

}  // namespace

std::string not_movable_reason(const VM& vm, const Pool& pool,
                               const std::map<std::string, const VMSet*>& sets,
                               const std::set<std::string>& being_moved,
                               std::chrono::system_clock::time_point now) {
  const std::string set_name = scheduler::owning_vmset(vm);
  auto set = sets.find(set_name);
  return not_movable_reason_in(set_name, set == sets.end() ? nullptr : set->second,
                               being_moved.count(vm.metadata.name) > 0, vm.status.phase,
                               running_now(vm), annotation(vm, kReplacesAnnotation),
                               annotation(vm, kMovedAtAnnotation), pool, now);
}

PlanInput build_plan_input(const Pool& pool, const std::vector<Node>& nodes,
                           const std::vector<VMSet>& vmsets, const std::vector<VM>& vms,
                           std::chrono::system_clock::time_point now,
                           std::set<std::string> actionable,
                           std::map<std::string, int32_t> budget_left,
                           std::optional<int32_t> max_moves) {
  std::vector<const VM*> sorted;
  sorted.reserve(vms.size());
  for (const VM& vm : vms) sorted.push_back(&vm);
  std::sort(sorted.begin(), sorted.end(),
            [](const VM* a, const VM* b) { return a->metadata.name < b->metadata.name; });
  PlanInputKeeper keeper;
  const PlanInputKeeper::Source source{nodes, vmsets, [](std::string_view) { return nullptr; },
                                       [&] { return sorted; }};
  return std::move(keeper.build(pool, source, now, std::move(actionable), std::move(budget_left),
                                max_moves));
}

PlanInput& PlanInputKeeper::build(const Pool& pool, const Source& source,
                                  std::chrono::system_clock::time_point now,
                                  std::set<std::string> actionable,
                                  std::map<std::string, int32_t> budget_left,
                                  std::optional<int32_t> max_moves) {
  if (in_.pool != pool.metadata.name) changed_.invalidate();
  in_.pool = pool.metadata.name;
  in_.policy = pool.spec.rebalance;
  in_.actionable = std::move(actionable);
  in_.budget_left = std::move(budget_left);
  in_.max_moves = max_moves.value_or(pool.spec.rebalance.maxMovesPerRound);

  // The Ready members, read every round (their usage is what the planner
  // balances); duplicate names: the first wins.
  in_.nodes.clear();
  std::unordered_set<std::string_view> seen;
  for (const Node& n : source.nodes) {
    if (!reconcile::pool_selects(pool, n) || !node_ready(n)) continue;
    if (!seen.insert(n.metadata.name).second) continue;
    NodeState s;
    s.name = n.metadata.name;
    s.allocatable_cpu = n.status.allocatable.cpu.milli;
    s.allocatable_memory = n.status.allocatable.memory.milli;
    s.usage_cpu = n.status.usage.cpu.milli;
    s.usage_memory = n.status.usage.memory.milli;
    in_.nodes.push_back(std::move(s));
  }
  std::sort(in_.nodes.begin(), in_.nodes.end(),
            [](const NodeState& a, const NodeState& b) { return a.name < b.name; });
  // Other members: the VMs' node indexes and which VMs count are all read anew.
  const bool same_members =
      members_.size() == in_.nodes.size() &&
      std::equal(members_.begin(), members_.end(), in_.nodes.begin(),
                 [](const std::string& m, const NodeState& n) { return m == n.name; });
  if (!same_members) {
    changed_.invalidate();
    members_.clear();
    for (const NodeState& n : in_.nodes) members_.push_back(n.name);
  }
  std::unordered_map<std::string_view, uint32_t> node_at;
  node_at.reserve(in_.nodes.size());
  for (uint32_t i = 0; i < in_.nodes.size(); ++i) node_at.emplace(in_.nodes[i].name, i);

  if (changed_.all()) {
    read_all(source, node_at);
  } else {
    read_changed(source, node_at);
  }
  changed_.read();
  judge(pool, source.vmsets, now);
  return in_;
}

void PlanInputKeeper::fill(VmState& v, Facts& f, const VM& vm, uint32_t node_index) const {
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
  r.pool = in_.pool;
  r.cpu = vm.spec.resources.cpu.milli;
  r.memory = vm.spec.resources.memory.milli;
  r.tolerations = vm.spec.tolerations;
  r.priority = vm.spec.priority;
  r.epoch = vm.spec.epoch;
  f.phase = vm.status.phase;
  f.running_now = running_now(vm);
  f.replaces = annotation(vm, kReplacesAnnotation);
  f.moved_at = annotation(vm, kMovedAtAnnotation);
}

void PlanInputKeeper::read_all(const Source& source,
                               const std::unordered_map<std::string_view, uint32_t>& node_at) {
  in_.vms.clear();  // the capacity stays: 300,000 VmStates are ~100 MB
  facts_.clear();
  replaces_.clear();
  const std::vector<const VM*> all = source.all_by_name();
  in_.vms.reserve(all.size());  // no VmState moved while growing
  facts_.reserve(all.size());
  for (const VM* vm : all) {
    if (std::string r = annotation(*vm, kReplacesAnnotation); !r.empty())
      replaces_.emplace(vm->metadata.name, std::move(r));
    if (!scheduler::holds_place(*vm)) continue;
    auto node = node_at.find(vm->spec.nodeName);
    if (node == node_at.end()) continue;
    fill(in_.vms.emplace_back(), facts_.emplace_back(), *vm, node->second);
  }
  last_read_ = all.size();
}

void PlanInputKeeper::read_changed(const Source& source,
                                   const std::unordered_map<std::string_view, uint32_t>& node_at) {
  std::vector<std::string_view> names(changed_.names().begin(), changed_.names().end());
  std::sort(names.begin(), names.end());
  std::vector<size_t> gone;  // positions in in_.vms, ascending
  std::vector<VmState> added_vms;  // in name order
  std::vector<Facts> added_facts;
  for (std::string_view name : names) {
    const VM* vm = source.vm_named(name);
    replaces_.erase(std::string(name));
    if (vm) {
      if (std::string r = annotation(*vm, kReplacesAnnotation); !r.empty())
        replaces_.emplace(vm->metadata.name, std::move(r));
    }
    std::optional<uint32_t> node;
    if (vm && scheduler::holds_place(*vm)) {
      auto n = node_at.find(vm->spec.nodeName);
      if (n != node_at.end()) node = n->second;
    }
    auto it = std::lower_bound(in_.vms.begin(), in_.vms.end(), name, by_name);
    const size_t at = static_cast<size_t>(it - in_.vms.begin());
    const bool held = it != in_.vms.end() && it->name == name;
    if (held && node) {
      fill(*it, facts_[at], *vm, *node);
    } else if (held) {
      gone.push_back(at);
    } else if (node) {
      fill(added_vms.emplace_back(), added_facts.emplace_back(), *vm, *node);
    }
  }
  last_read_ = names.size();
  if (gone.empty() && added_vms.empty()) return;

  // In place, so no new memory is touched (a merge into fresh vectors of
  // 300,000 VmStates was mostly page faults): the gone are squeezed out
  // front to back, then the added merged in from the back.
  size_t kept = 0, next_gone = 0;
  for (size_t i = 0; i < in_.vms.size(); ++i) {
    if (next_gone < gone.size() && gone[next_gone] == i) {
      ++next_gone;
      continue;
    }
    if (kept != i) {
      in_.vms[kept] = std::move(in_.vms[i]);
      facts_[kept] = std::move(facts_[i]);
    }
    ++kept;
  }
  in_.vms.resize(kept + added_vms.size());
  facts_.resize(kept + added_vms.size());
  size_t from = kept, add = added_vms.size(), to = in_.vms.size();
  while (add > 0) {
    --to;
    if (from > 0 && added_vms[add - 1].name < in_.vms[from - 1].name) {
      --from;
      in_.vms[to] = std::move(in_.vms[from]);
      facts_[to] = std::move(facts_[from]);
    } else {
      --add;
      in_.vms[to] = std::move(added_vms[add]);
      facts_[to] = std::move(added_facts[add]);
    }
  }
}

void PlanInputKeeper::judge(const Pool& pool, const std::vector<VMSet>& vmsets,
                            std::chrono::system_clock::time_point now) {
  std::unordered_map<std::string_view, const VMSet*> sets;
  for (const VMSet& s : vmsets) sets.emplace(s.metadata.name, &s);
  std::unordered_set<std::string_view> being_moved;
  for (const auto& [vm, replaced] : replaces_) being_moved.insert(replaced);
  // A set's VMs lie together in name order: one lookup per run of them.
  const std::string* last_name = nullptr;
  const VMSet* last_set = nullptr;
  for (size_t i = 0; i < in_.vms.size(); ++i) {
    VmState& v = in_.vms[i];
    const Facts& f = facts_[i];
    if (!last_name || *last_name != v.vmset) {
      auto s = sets.find(v.vmset);
      last_set = s == sets.end() ? nullptr : s->second;
      last_name = &v.vmset;
    }
    v.not_movable_reason = not_movable_reason_in(
        v.vmset, last_set, !being_moved.empty() && being_moved.count(v.name) > 0, f.phase,
        f.running_now, f.replaces, f.moved_at, pool, now);
    v.movable = v.not_movable_reason.empty();
  }
}

}  // namespace corral::rebalance
