#include "controller/scheduler/predicates.h"

namespace corral::scheduler {

bool pool_selects(const Labels& node_selector, const Labels& node_labels) {
  for (const auto& [key, value] : node_selector) {
    auto it = node_labels.find(key);
    if (it == node_labels.end() || it->second != value) return false;
  }
  return true;
}

bool tolerates(const Toleration& toleration, const Taint& taint) {
  if (!toleration.effect.empty() && toleration.effect != taint.effect) return false;
  if (toleration.op == "Exists") return toleration.key.empty() || toleration.key == taint.key;
  return toleration.key == taint.key && toleration.value == taint.value;
}

bool tolerated(const std::vector<Toleration>& tolerations, const Taint& taint) {
  for (const auto& t : tolerations)
    if (tolerates(t, taint)) return true;
  return false;
}

bool is_hard_effect(const std::string& effect) {
  return effect == "NoSchedule" || effect == "NoExecute";
}

const Taint* first_untolerated_hard_taint(const VmRequest& vm, const NodeInfo& node) {
  if (!node.has_hard_taints) return nullptr;
  for (const auto& taint : node.taints)
    if (is_hard_effect(taint.effect) && !tolerated(vm.tolerations, taint)) return &taint;
  return nullptr;
}

int untolerated_soft_taints(const VmRequest& vm, const NodeInfo& node) {
  int n = 0;
  for (const auto& taint : node.taints)
    if (taint.effect == "PreferNoSchedule" && !tolerated(vm.tolerations, taint)) ++n;
  return n;
}

std::string taint_text(const Taint& taint) {
  std::string out = taint.key;
  if (!taint.value.empty()) out += "=" + taint.value;
  return out + ":" + taint.effect;
}

bool schedulable_for(const VmRequest& vm, const NodeInfo& node) {
  return node.present && node.ready && !node.unschedulable &&
         first_untolerated_hard_taint(vm, node) == nullptr;
}

int64_t overcommitted(int64_t allocatable, double overcommit) {
  // The common case, and the hot path of every fit check: no overcommit.
  if (overcommit == 1.0) return allocatable;
  if (allocatable <= 0) return allocatable;
  // long double: memory in milli-bytes reaches 10^15 and more, past double's
  // exact integers once multiplied. Truncation is floor here (the product is
  // not negative), and much cheaper than floorl on this hot path.
  return static_cast<int64_t>(static_cast<long double>(allocatable) *
                              static_cast<long double>(overcommit));
}

}  // namespace corral::scheduler
