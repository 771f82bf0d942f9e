#include "api/conditions.h"

namespace corral {

const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const Condition& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

Condition* find_condition(std::vector<Condition>& conditions, std::string_view type) {
  for (Condition& c : conditions)
    if (c.type == type) return &c;
  return nullptr;
}

bool condition_is_true(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = find_condition(conditions, type);
  return c && c->status == condition_status::kTrue;
}

void set_condition(std::vector<Condition>& conditions, Condition c) {
  if (Condition* old = find_condition(conditions, c.type)) {
    if (old->status == c.status && !old->lastTransitionTime.empty())
      c.lastTransitionTime = old->lastTransitionTime;
    *old = std::move(c);
    return;
  }
  conditions.push_back(std::move(c));
}

bool node_ready(const Node& node) {
  const Condition* ready = find_condition(node.status.conditions, condition_type::kReady);
  const std::string& phase = node.status.phase;
  if (ready)
    return ready->status == condition_status::kTrue && (phase.empty() || phase == node_phase::kReady);
  return phase == node_phase::kReady;
}

}  // namespace corral
