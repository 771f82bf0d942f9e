#include "controller/reconcile/vmset_reconcile.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <string_view>

#include "api/conditions.h"
#include "api/annotations.h"
#include "controller/reconcile/common.h"
#include "controller/reconcile/scale_down.h"
#include "controller/reconcile/set_topology.h"
#include "controller/reconcile/spread_condition.h"

namespace corral::reconcile {
namespace {

bool running_current(const VM& vm) {
  return vm.status.phase == vm_phase::kRunning && vm.status.epoch == vm.spec.epoch;
}

}  // namespace

bool replaces_failed(const VM& vm) {
  if (vm.status.phase != vm_phase::kFailed) return false;
  const std::string& policy = vm.spec.restartPolicy;
  if (policy == "Always") return true;
  if (policy == "OnFailure") return !vm.status.lastError.empty();
  return false;  // Never (and anything validation would refuse)
}

VM new_vm_for(const VMSet& vmset, const std::string& name) {
  VM vm;
  vm.metadata.name = name;
  vm.metadata.labels = vmset.spec.templ.metadata.labels;
  vm.metadata.labels[std::string(kVMSetLabel)] = vmset.metadata.name;
  vm.metadata.annotations = vmset.spec.templ.metadata.annotations;
  OwnerReference owner;
  owner.kind = VMSet::kKind;
  owner.name = vmset.metadata.name;
  owner.uid = vmset.metadata.uid;
  owner.controller = true;
  vm.metadata.ownerReferences.push_back(std::move(owner));
  vm.spec = vmset.spec.templ.spec;
  vm.spec.nodeName.clear();
  vm.spec.epoch = 0;
  vm.spec.priority = vmset.spec.restartPriority;
  vm.spec.fencing = vmset.spec.fencing;
  return vm;
}

double vmset_availability(const std::vector<const VM*>& running,
                          const std::vector<const Node*>& nodes) {
  std::unordered_set<std::string_view> hosts;
  hosts.reserve(running.size());
  for (const VM* vm : running)
    if (!vm->spec.nodeName.empty()) hosts.insert(vm->spec.nodeName);
  if (hosts.empty()) return 0.0;
  // Π(1 − Rᵢ) over the distinct hosts: the chance that every one is down at
  // once. A host missing from `nodes` has Rᵢ = 0 (a factor of 1).
  double all_down = 1.0;
  for (const Node* n : nodes)  // erased once counted: a node listed twice counts once
    if (hosts.erase(n->metadata.name)) all_down *= 1.0 - std::clamp(n->status.availability, 0.0, 1.0);
  return 1.0 - all_down;
}

double vmset_availability(const std::vector<const VM*>& running, const std::vector<Node>& nodes) {
  return vmset_availability(running, pointers_to(nodes));
}

VmSetPlan reconcile_vmset(const VmSetInput& in, const VmSetOptions& options) {
  const VMSet& set = *in.vmset;
  VmSetPlan plan;

  std::vector<const VM*> owned;
  bool any_replacement = false;
  for (const VM* vm : in.vms) {
    if (owned_by(*vm, set) && vm->status.phase != vm_phase::kTerminating) {
      owned.push_back(vm);
      any_replacement = any_replacement || (!vm->metadata.annotations.empty() &&
                                             vm->metadata.annotations.count(std::string(kReplacesAnnotation)));
    }
  }
  // A move's replacement and the VM it replaces are one replica until the
  // move ends (api/annotations.h): the move loop owns the replacement, so it
  // is neither counted, scaled down nor replaced here.
  if (any_replacement) {
    std::unordered_set<std::string_view> names;
    for (const VM* vm : owned) names.insert(vm->metadata.name);
    std::erase_if(owned, [&](const VM* vm) {
      auto it = vm->metadata.annotations.find(std::string(kReplacesAnnotation));
      return it != vm->metadata.annotations.end() && names.count(it->second) > 0;
    });
  }
  // Copies of the nodes for the parts that judge topology (spread, scale-down):
  // made only when one of them runs.
  std::optional<std::vector<Node>> node_copies;
  auto nodes_copied = [&]() -> const std::vector<Node>& {
    if (!node_copies) {
      node_copies.emplace();
      node_copies->reserve(in.nodes.size());
      for (const Node* n : in.nodes) node_copies->push_back(*n);
    }
    return *node_copies;
  };

  // ---- status: what is observed now ---------------------------------------------
  VMSetStatus& st = plan.status;
  st = set.status;
  st.observedGeneration = set.metadata.generation;
  st.replicas = static_cast<int32_t>(owned.size());
  st.scheduled = st.running = st.ready = 0;
  std::vector<const VM*> running;
  for (const VM* vm : owned) {
    if (!vm->spec.nodeName.empty() && vm->status.phase != vm_phase::kLost) ++st.scheduled;
    if (running_current(*vm)) {
      ++st.running;
      running.push_back(vm);
      if (condition_is_true(vm->status.conditions, condition_type::kReady)) ++st.ready;
    }
  }
  st.availability = vmset_availability(running, in.nodes);

  // ---- spread: does what is placed keep it? ------------------------------------
  if (set.spec.spread) {
    SetTopology topology(set, owned, nodes_copied(), in.pool);
    if (auto c = spread_condition(set, topology, in.now)) {
      set_condition(st.conditions, std::move(*c));
    } else {
      std::erase_if(st.conditions, [](const Condition& c) { return c.type == kSpreadSatisfied; });
    }
  } else {
    std::erase_if(st.conditions, [](const Condition& c) { return c.type == kSpreadSatisfied; });
  }

  // ---- scale-down: spread first, then the worst (scale_down.h) -------------------
  const size_t want = static_cast<size_t>(std::max(0, set.spec.replicas));
  std::vector<const VM*> kept = owned;
  size_t keep = kept.size();
  if (keep > want) {
    const std::string scale = "scale-down " + std::to_string(keep) + " → " + std::to_string(want);
    ScaleDownInput down{&set, owned, &nodes_copied(), in.pool, keep - want};
    for (const Victim& v : choose_victims(down)) {
      plan.remove.push_back(VmDeletion{v.vm->metadata.name, scale + ": " + v.why});
      std::erase(kept, v.vm);
    }
    keep = want;
  }

  // ---- new names --------------------------------------------------------------------
  uint64_t state = in.seed;
  std::set<std::string> generated;  // by this plan
  std::unordered_set<std::string_view> existing;  // names a new one must not take: built when one is
  auto next_name = [&] {
    if (existing.empty())
      for (const VM* vm : in.vms) existing.insert(vm->metadata.name);
    for (;;) {
      std::string name = generate_name(set.metadata.name, options.name_suffix_length, state, generated);
      if (!existing.count(name)) return name;
    }
  };

  // ---- replacements of Failed VMs, per restartPolicy -----------------------------
  // In scale-down's order among Failed VMs: the more loaded node, the newest, the name.
  std::vector<const VM*> failed;
  for (const VM* vm : kept)
    if (replaces_failed(*vm)) failed.push_back(vm);
  if (failed.size() > 1) {
    std::map<std::string_view, double> load_of;
    for (const Node* n : in.nodes) load_of[n->metadata.name] = node_load(*n);
    auto load = [&](const VM* vm) {
      auto it = load_of.find(vm->spec.nodeName);
      return it == load_of.end() ? 0.0 : it->second;
    };
    std::sort(failed.begin(), failed.end(), [&](const VM* a, const VM* b) {
      if (load(a) != load(b)) return load(a) > load(b);
      const std::string& ta = a->metadata.creationTimestamp;
      const std::string& tb = b->metadata.creationTimestamp;
      if (ta != tb) return ta.empty() || (!tb.empty() && ta > tb);
      return a->metadata.name > b->metadata.name;
    });
  }
  for (const VM* vm : failed) {
    std::string reason = "replaced: Failed";
    if (!vm->status.lastError.empty()) reason += " (" + vm->status.lastError + ")";
    reason += ", restartPolicy " + vm->spec.restartPolicy;
    std::string name = next_name();
    plan.remove.push_back(VmDeletion{vm->metadata.name, reason});
    plan.replacements.push_back(VmReplacement{vm->metadata.name, name, reason});
    plan.create.push_back(new_vm_for(set, name));
    plan.create_reasons.push_back(reason);
  }

  // ---- scale-up ---------------------------------------------------------------------
  if (keep < want) {
    const std::string scale = "scale-up " + std::to_string(keep) + " → " + std::to_string(want);
    for (size_t k = keep; k < want; ++k) {
      plan.create.push_back(new_vm_for(set, next_name()));
      plan.create_reasons.push_back(scale);
    }
  }
  return plan;
}

}  // namespace corral::reconcile
