#include "controller/reconcile/moves.h"

#include <algorithm>
#include <unordered_map>

#include "api/annotations.h"
#include "base/clock.h"
#include "controller/reconcile/vmset_reconcile.h"

namespace corral::reconcile {
namespace {

std::string owning_set(const VM& vm) {
  for (const OwnerReference& ref : vm.metadata.ownerReferences)
    if (ref.controller && ref.kind == VMSet::kKind) return ref.name;
  return "";
}

// Holds a place on its node for a drain: anything that may still run there.
bool on_node(const VM& vm) {
  const std::string& phase = vm.status.phase;
  if (vm.spec.nodeName.empty() || phase == vm_phase::kLost || phase == vm_phase::kTerminating) return false;
  return !(phase == vm_phase::kFailed && vm.spec.restartPolicy == "Never");
}

}  // namespace

const std::string& annotation(const VM& vm, std::string_view key) {
  static const std::string kEmpty;
  if (vm.metadata.annotations.empty()) return kEmpty;  // most VMs: no key built per VM per pass
  auto it = vm.metadata.annotations.find(std::string(key));
  return it == vm.metadata.annotations.end() ? kEmpty : it->second;
}

bool is_replacement(const VM& vm) { return !annotation(vm, kReplacesAnnotation).empty(); }

bool move_in_flight(const VM& vm) { return vm.status.phase != vm_phase::kTerminating && is_replacement(vm); }

std::set<std::string> vms_being_moved(const std::vector<VM>& vms) {
  std::set<std::string> out;
  for (const VM& vm : vms)
    if (move_in_flight(vm)) out.insert(annotation(vm, kReplacesAnnotation));
  return out;
}

const char* move_step_name(MoveStepKind kind) {
  switch (kind) {
    case MoveStepKind::kComplete: return "complete";
    case MoveStepKind::kCancel: return "cancel";
    case MoveStepKind::kFinish: return "finish";
  }
  return "?";
}

std::vector<MoveStep> progress_moves(const std::vector<VM>& vms, WallTime now,
                                     const MoveOptions& options) {
  // Moves in flight are few; the VMs are many (300,000): index only the VMs
  // a replacement names, not every VM of every pass.
  std::vector<const VM*> replacements;
  for (const VM& vm : vms)
    if (move_in_flight(vm)) replacements.push_back(&vm);
  if (replacements.empty()) return {};
  std::unordered_map<std::string_view, const VM*> by_name;
  for (const VM* r : replacements) by_name.emplace(annotation(*r, kReplacesAnnotation), nullptr);
  for (const VM& vm : vms)
    if (auto it = by_name.find(vm.metadata.name); it != by_name.end()) it->second = &vm;
  return progress_moves(
      replacements,
      [&by_name](std::string_view name) -> const VM* {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : it->second;
      },
      now, options);
}

std::vector<MoveStep> progress_moves(const std::vector<const VM*>& replacements,
                                     const std::function<const VM*(std::string_view)>& vm_named,
                                     WallTime now, const MoveOptions& options) {
  std::vector<MoveStep> out;
  for (const VM* replacement : replacements) {
    const VM& r = *replacement;
    MoveStep step;
    step.replacement = r.metadata.name;
    step.replacement_uid = r.metadata.uid;
    step.old_vm = annotation(r, kReplacesAnnotation);
    step.vmset = owning_set(r);
    const std::string& target = annotation(r, kTargetNodeAnnotation);
    step.to = r.spec.nodeName.empty() ? target : r.spec.nodeName;
    const VM* old = vm_named(step.old_vm);
    if (old == nullptr || old->status.phase == vm_phase::kTerminating) {
      step.kind = MoveStepKind::kFinish;
      step.message = "vm/" + step.old_vm + " is gone";
      out.push_back(std::move(step));
      continue;
    }
    step.old_uid = old->metadata.uid;
    step.from = old->spec.nodeName;
    const std::string& reason = annotation(r, kMoveReasonAnnotation);
    const std::string what = "vm/" + step.old_vm + " on node/" +
                             (step.from.empty() ? std::string("-") : step.from);
    if (in_service(r)) {
      step.kind = MoveStepKind::kComplete;
      step.message = what + " replaced by vm/" + r.metadata.name + " on node/" + step.to +
                     (reason.empty() ? "" : " (" + reason + ")");
      out.push_back(std::move(step));
      continue;
    }
    std::string cancel;
    if (r.status.phase == vm_phase::kFailed || r.status.phase == vm_phase::kLost) {
      cancel = "its replacement vm/" + r.metadata.name + " is " + r.status.phase;
      if (!r.status.lastError.empty()) cancel += " (" + r.status.lastError + ")";
    } else if (!target.empty() && r.spec.nodeName.empty() && !r.status.message.empty()) {
      cancel = "its replacement could not be placed: " + r.status.message;
    } else if (!r.spec.nodeName.empty()) {
      WallTime started{};
      if (parse_time(annotation(r, kMovedAtAnnotation), &started) &&
          now - started > options.timeout) {
        cancel = "its replacement vm/" + r.metadata.name + " on node/" + r.spec.nodeName +
                 " was not Running and Ready within " + std::to_string(options.timeout.count()) +
                 "s (phase " + (r.status.phase.empty() ? std::string(vm_phase::kPending) : r.status.phase) + ")";
      }
    }
    if (cancel.empty()) continue;  // wait
    step.kind = MoveStepKind::kCancel;
    step.message = "move of " + what + " given up: " + cancel;
    out.push_back(std::move(step));
  }
  std::sort(out.begin(), out.end(),
            [](const MoveStep& a, const MoveStep& b) { return a.replacement < b.replacement; });
  return out;
}

DrainPlan plan_drains(const std::vector<Node>& nodes, const std::vector<VM>& vms,
                      std::map<std::string, DisruptionBudget>& budgets, size_t max_start) {
  DrainPlan plan;
  std::set<std::string_view> draining;
  for (const Node& n : nodes)
    if (n.spec.drain) {
      draining.insert(n.metadata.name);
      plan.remaining[n.metadata.name] = 0;
    }
  if (draining.empty()) return plan;
  const std::set<std::string> moving = vms_being_moved(vms);

  std::vector<const VM*> candidates;
  for (const VM& vm : vms) {
    if (!on_node(vm) || !draining.count(vm.spec.nodeName)) continue;
    ++plan.remaining[vm.spec.nodeName];
    if (moving.count(vm.metadata.name) || is_replacement(vm)) continue;
    candidates.push_back(&vm);
  }
  std::sort(candidates.begin(), candidates.end(), [](const VM* a, const VM* b) {
    if (a->spec.priority != b->spec.priority) return a->spec.priority > b->spec.priority;
    return a->metadata.name < b->metadata.name;
  });
  for (const VM* vm : candidates) {
    const std::string set = owning_set(*vm);
    const std::string& node = vm->spec.nodeName;
    if (set.empty()) {
      plan.waiting.push_back(DrainWait{vm->metadata.name, node, "",
                                       "not owned by a VMSet, so it cannot be re-created "
                                       "elsewhere: delete it to finish the drain"});
      continue;
    }
    auto b = budgets.find(set);
    if (b == budgets.end()) {
      plan.waiting.push_back(DrainWait{vm->metadata.name, node, set, "vmset/" + set + " not found"});
      continue;
    }
    const bool serving = in_service(*vm);
    if (serving && b->second.allowed() <= 0) {
      plan.waiting.push_back(DrainWait{vm->metadata.name, node, set,
                                       "waiting for the disruption budget: " + b->second.describe()});
      continue;
    }
    if (plan.start.size() >= max_start) {
      plan.waiting.push_back(
          DrainWait{vm->metadata.name, node, set, "waiting: too many moves in flight"});
      continue;
    }
    if (serving) ++b->second.in_flight;
    plan.start.push_back(DrainStart{vm->metadata.name, node, set, "drain node/" + node});
  }
  return plan;
}

VM replacement_for(const VMSet& set, const VM& old, const std::string& name,
                   const std::string& target_node, const std::string& reason, WallTime now) {
  VM r = new_vm_for(set, name);
  auto& a = r.metadata.annotations;
  a[std::string(kReplacesAnnotation)] = old.metadata.name;
  a[std::string(kMovedAtAnnotation)] = format_time(now);
  if (!reason.empty()) a[std::string(kMoveReasonAnnotation)] = reason;
  if (!target_node.empty()) a[std::string(kTargetNodeAnnotation)] = target_node;
  return r;
}

}  // namespace corral::reconcile
