#include "controller/reconcile/disruption.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "api/conditions.h"
#include "api/annotations.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {

int32_t DisruptionBudget::allowed() const {
  return std::max(0, max_unavailable - unavailable - in_flight);
}

std::string DisruptionBudget::describe() const {
  // "moving", as corralctl drain counts its node's VMs: the set's moves may
  // be of VMs on other nodes.
  return "vmset/" + vmset + " allows " + std::to_string(max_unavailable) + " unavailable: " +
         std::to_string(unavailable) + " unavailable, " + std::to_string(in_flight) + " of its VMs moving";
}

int32_t resolve_max_unavailable(const IntOrString& value, int32_t replicas) {
  if (!value.is_string) return static_cast<int32_t>(std::max<int64_t>(0, value.int_value));
  const std::string& s = value.str_value;
  if (s.empty() || s.back() != '%') return 0;  // validation refuses anything else
  int64_t pct = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return 0;
    pct = std::min<int64_t>(pct * 10 + (s[i] - '0'), 100);
  }
  const int64_t n = std::max<int32_t>(0, replicas);
  return static_cast<int32_t>((n * pct + 99) / 100);
}

bool in_service(const VM& vm) {
  if (vm.status.phase != vm_phase::kRunning || vm.status.epoch != vm.spec.epoch) return false;
  if (vm.spec.nodeName.empty() || vm.status.nodeName != vm.spec.nodeName) return false;
  return condition_is_true(vm.status.conditions, condition_type::kReady);
}

DisruptionBudget disruption_budget(const VMSet& set, const std::vector<const VM*>& owned) {
  DisruptionBudget b;
  b.vmset = set.metadata.name;
  b.replicas = std::max(0, set.spec.replicas);
  b.max_unavailable = resolve_max_unavailable(set.spec.disruption.maxUnavailable, b.replicas);

  // Runs for every set on every pass that may start a move (300,000 VMs):
  // while none of the set's VMs is a move's replacement, each VM is its own
  // slot and counting needs no index.
  const bool moving = std::any_of(owned.begin(), owned.end(), [](const VM* vm) {
    return vm->status.phase != vm_phase::kTerminating && !vm->metadata.annotations.empty() &&
           vm->metadata.annotations.count(std::string(kReplacesAnnotation));
  });
  if (!moving) {
    for (const VM* vm : owned)
      if (vm->status.phase != vm_phase::kTerminating && in_service(*vm)) ++b.in_service;
    b.unavailable = std::max(0, b.replicas - b.in_service);
    return b;
  }
  // Keyed by views of the VMs' own names: nothing is copied.
  std::unordered_map<std::string_view, const VM*> by_name;
  by_name.reserve(owned.size());
  for (const VM* vm : owned)
    if (vm->status.phase != vm_phase::kTerminating) by_name[vm->metadata.name] = vm;
  // Slot of a VM: the VM it replaces when that one still exists, else itself.
  std::unordered_set<std::string_view> slots_in_service;
  for (const auto& [name, vm] : by_name) {
    std::string_view slot = name;
    if (!vm->metadata.annotations.empty()) {
      auto it = vm->metadata.annotations.find(std::string(kReplacesAnnotation));
      if (it != vm->metadata.annotations.end() && by_name.count(it->second)) {
        slot = it->second;
        ++b.in_flight;
      }
    }
    if (in_service(*vm)) slots_in_service.insert(slot);
  }
  b.in_service = static_cast<int32_t>(slots_in_service.size());
  b.unavailable = std::max(0, b.replicas - b.in_service);
  return b;
}

std::map<std::string, DisruptionBudget> disruption_budgets(const std::vector<VMSet>& sets,
                                                           const std::vector<VM>& vms) {
  std::unordered_map<std::string, std::vector<const VM*>> by_uid;
  // The VMs of one set mostly lie next to each other (created together):
  // comparing with the last owner is cheaper than hashing its uid (300,000 VMs).
  const std::string* last_uid = nullptr;
  std::vector<const VM*>* last_bucket = nullptr;
  for (const VM& vm : vms)
    for (const OwnerReference& ref : vm.metadata.ownerReferences) {
      if (!ref.controller || ref.kind != VMSet::kKind) continue;
      if (!last_uid || *last_uid != ref.uid) {
        last_bucket = &by_uid[ref.uid];
        last_uid = &ref.uid;
      }
      last_bucket->push_back(&vm);
    }
  std::map<std::string, DisruptionBudget> out;
  for (const VMSet& set : sets) {
    auto it = by_uid.find(set.metadata.uid);
    static const std::vector<const VM*> kNone;
    out.emplace(set.metadata.name,
                disruption_budget(set, it == by_uid.end() ? kNone : it->second));
  }
  return out;
}

}  // namespace corral::reconcile
