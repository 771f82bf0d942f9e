#include "controller/reconcile/vmset_reconcile.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "api/conditions.h"
#include "api/annotations.h"
#include "controller/reconcile/common.h"

namespace corral::reconcile {
namespace {

// Worst-first rank for scale-down; lower is removed first.
enum Rank { kLost = 0, kFailed, kUnscheduled, kNodeNotReady, kHealthy };

const char* rank_name(int rank) {
  static constexpr const char* kNames[] = {
      vm_phase::kLost, vm_phase::kFailed, "unscheduled", "on a node that is not Ready", "on the most loaded node"};
  return kNames[rank];
}

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

double vmset_availability(const std::vector<const VM*>& running, const std::vector<Node>& nodes) {
  std::map<std::string_view, double> r_of;
  for (const Node& n : nodes) r_of[n.metadata.name] = std::clamp(n.status.availability, 0.0, 1.0);
  std::set<std::string_view> hosts;
  for (const VM* vm : running)
    if (!vm->spec.nodeName.empty()) hosts.insert(vm->spec.nodeName);
  if (hosts.empty()) return 0.0;
  double all_down = 1.0;  // Π(1 − Rᵢ): the chance that every host is down at once
  for (std::string_view h : hosts) {
    auto it = r_of.find(h);
    all_down *= 1.0 - (it == r_of.end() ? 0.0 : it->second);
  }
  return 1.0 - all_down;
}

VmSetPlan reconcile_vmset(const VmSetInput& in, const VmSetOptions& options) {
  const VMSet& set = *in.vmset;
  VmSetPlan plan;

  std::map<std::string_view, const Node*> node_of;
  for (const Node& n : *in.nodes) node_of[n.metadata.name] = &n;

  std::vector<const VM*> owned;
  std::set<std::string> taken;  // every VM name, so new ones never collide
  for (const VM& vm : *in.vms) {
    taken.insert(vm.metadata.name);
    if (owned_by(vm, set) && vm.status.phase != vm_phase::kTerminating) owned.push_back(&vm);
  }
  // A move's replacement and the VM it replaces are one replica until the
  // move ends (api/annotations.h): the move loop owns the replacement, so it
  // is neither counted, scaled down nor replaced here.
  {
    std::set<std::string_view> names;
    for (const VM* vm : owned) names.insert(vm->metadata.name);
    std::erase_if(owned, [&](const VM* vm) {
      auto it = vm->metadata.annotations.find(std::string(kReplacesAnnotation));
      return it != vm->metadata.annotations.end() && names.count(it->second) > 0;
    });
  }

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
  st.availability = vmset_availability(running, *in.nodes);

  // ---- scale-down: worst first ----------------------------------------------------
  auto rank_of = [&](const VM& vm) {
    if (vm.status.phase == vm_phase::kLost) return kLost;
    if (vm.status.phase == vm_phase::kFailed) return kFailed;
    if (vm.spec.nodeName.empty()) return kUnscheduled;
    auto it = node_of.find(vm.spec.nodeName);
    if (it == node_of.end() || !node_ready(*it->second)) return kNodeNotReady;
    return kHealthy;
  };
  auto load_of = [&](const VM& vm) {
    auto it = node_of.find(vm.spec.nodeName);
    return it == node_of.end() ? 0.0 : node_load(*it->second);
  };
  std::vector<const VM*> sorted = owned;
  std::sort(sorted.begin(), sorted.end(), [&](const VM* a, const VM* b) {
    const int ra = rank_of(*a), rb = rank_of(*b);
    if (ra != rb) return ra < rb;
    const double la = load_of(*a), lb = load_of(*b);
    if (la != lb) return la > lb;
    // Newest first; an empty timestamp (not yet stamped by the server) is newest.
    const std::string& ta = a->metadata.creationTimestamp;
    const std::string& tb = b->metadata.creationTimestamp;
    if (ta != tb) return ta.empty() || (!tb.empty() && ta > tb);
    return a->metadata.name > b->metadata.name;
  });

  const size_t want = static_cast<size_t>(std::max(0, set.spec.replicas));
  size_t keep = sorted.size();
  if (keep > want) {
    const size_t excess = keep - want;
    const std::string scale = "scale-down " + std::to_string(keep) + " → " + std::to_string(want);
    for (size_t k = 0; k < excess; ++k)
      plan.remove.push_back(
          VmDeletion{sorted[k]->metadata.name, scale + ": " + rank_name(rank_of(*sorted[k]))});
    sorted.erase(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(excess));
    keep = want;
  }

  // ---- new names --------------------------------------------------------------------
  uint64_t state = in.seed;
  auto next_name = [&] {
    return generate_name(set.metadata.name, options.name_suffix_length, state, taken);
  };

  // ---- replacements of Failed VMs, per restartPolicy -----------------------------
  for (const VM* vm : sorted) {
    if (!replaces_failed(*vm)) continue;
    std::string reason = "replaced: Failed";
    if (!vm->status.lastError.empty()) reason += " (" + vm->status.lastError + ")";
    reason += ", restartPolicy " + vm->spec.restartPolicy;
    std::string name = next_name();
    plan.remove.push_back(VmDeletion{vm->metadata.name, reason});
    plan.replacements.push_back(VmReplacement{vm->metadata.name, name, reason});
    plan.create.push_back(new_vm_for(set, name));
  }

  // ---- scale-up ---------------------------------------------------------------------
  for (size_t k = keep; k < want; ++k) plan.create.push_back(new_vm_for(set, next_name()));
  return plan;
}

}  // namespace corral::reconcile
