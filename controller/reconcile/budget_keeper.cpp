#include "controller/reconcile/budget_keeper.h"

#include <algorithm>

#include "api/annotations.h"

namespace corral::reconcile {

DisruptionBudgetKeeper::Facts DisruptionBudgetKeeper::facts_of(const VM& vm) {
  Facts f;
  for (const OwnerReference& ref : vm.metadata.ownerReferences)
    if (ref.controller && ref.kind == VMSet::kKind) {
      f.owner_uid = ref.uid;  // the first, as disruption_budgets() groups them
      break;
    }
  f.terminating = vm.status.phase == vm_phase::kTerminating;
  f.in_service = in_service(vm);
  if (!vm.metadata.annotations.empty()) {
    auto it = vm.metadata.annotations.find(std::string(kReplacesAnnotation));
    if (it != vm.metadata.annotations.end()) f.replaces = it->second;
  }
  return f;
}

void DisruptionBudgetKeeper::add(const std::string& name, const Facts& f) {
  if (f.owner_uid.empty() || f.terminating) return;
  Counts& c = counts_[f.owner_uid];
  if (!f.replaces.empty()) {
    c.replacements.insert(name);
  } else if (f.in_service) {
    ++c.plain_in_service;
  }
}

void DisruptionBudgetKeeper::subtract(const std::string& name, const Facts& f) {
  if (f.owner_uid.empty() || f.terminating) return;
  auto it = counts_.find(f.owner_uid);
  if (it == counts_.end()) return;
  if (!f.replaces.empty()) {
    it->second.replacements.erase(name);
  } else if (f.in_service) {
    --it->second.plain_in_service;
  }
  if (it->second.plain_in_service == 0 && it->second.replacements.empty()) counts_.erase(it);
}

std::map<std::string, DisruptionBudget> DisruptionBudgetKeeper::budgets(
    const std::vector<VMSet>& sets, const Source& source) {
  if (changed_.all()) {
    vms_.clear();
    counts_.clear();
    for (const VM& vm : source.all()) {
      // A duplicate name (not from the cache, whose names are unique): the last wins.
      if (auto old = vms_.find(vm.metadata.name); old != vms_.end()) subtract(old->first, old->second);
      Facts f = facts_of(vm);
      add(vm.metadata.name, f);
      vms_[vm.metadata.name] = std::move(f);
    }
  } else {
    for (const std::string& name : changed_.names()) {
      auto old = vms_.find(name);
      if (old != vms_.end()) {
        subtract(name, old->second);
        vms_.erase(old);
      }
      if (const VM* vm = source.vm_named(name)) {
        Facts f = facts_of(*vm);
        add(name, f);
        vms_.emplace(name, std::move(f));
      }
    }
  }
  changed_.read();
  std::map<std::string, DisruptionBudget> out;
  for (const VMSet& set : sets) out.emplace(set.metadata.name, budget_of(set));
  return out;
}

DisruptionBudget DisruptionBudgetKeeper::budget_of(const VMSet& set) const {
  DisruptionBudget b;
  b.vmset = set.metadata.name;
  b.replicas = std::max(0, set.spec.replicas);
  b.max_unavailable = resolve_max_unavailable(set.spec.disruption.maxUnavailable, b.replicas);
  auto counts = counts_.find(set.metadata.uid);
  if (counts != counts_.end()) {
    const Counts& c = counts->second;
    // A VM's slot (disruption.h): the VM it replaces when that one is a
    // non-terminating VM of the set, else itself. Replacing nothing, each
    // in-service VM is a slot of its own (plain_in_service); the
    // replacements' slots are the few below, counted unless an in-service
    // VM that replaces nothing holds the same slot already.
    auto of_set = [&](const std::string& name) -> const Facts* {
      auto it = vms_.find(name);
      if (it == vms_.end() || it->second.terminating || it->second.owner_uid != set.metadata.uid)
        return nullptr;
      return &it->second;
    };
    std::set<std::string_view> slots;
    for (const std::string& name : c.replacements) {
      const Facts* r = of_set(name);
      if (!r) continue;
      std::string_view slot = name;
      if (of_set(r->replaces)) {
        slot = r->replaces;
        ++b.in_flight;
      }
      if (r->in_service) slots.insert(slot);
    }
    int32_t extra = 0;
    for (std::string_view slot : slots) {
      const Facts* holder = of_set(std::string(slot));
      const bool counted = holder && holder->replaces.empty() && holder->in_service;
      if (!counted) ++extra;
    }
    b.in_service = c.plain_in_service + extra;
  }
  b.unavailable = std::max(0, b.replicas - b.in_service);
  return b;
}

}  // namespace corral::reconcile
