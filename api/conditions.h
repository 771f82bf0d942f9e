// Conditions as Kubernetes reads and writes them (apimachinery's
// meta.FindStatusCondition and meta.SetStatusCondition), and what "Ready"
// means for a Node: the rules every loop, the scheduler and the CLI share.
#pragma once

#include <string_view>
#include <vector>

#include "api/types.h"

namespace corral {

// The condition of `type`, or nullptr.
const Condition* find_condition(const std::vector<Condition>& conditions, std::string_view type);
Condition* find_condition(std::vector<Condition>& conditions, std::string_view type);

// True only when the condition is there and its status is "True".
bool condition_is_true(const std::vector<Condition>& conditions, std::string_view type);

// Replaces the condition of c.type, or appends it. While the status stays the
// same the old lastTransitionTime is kept: it says when the status last
// changed, not when the condition was last written.
void set_condition(std::vector<Condition>& conditions, Condition c);

// A Node is Ready when its Ready condition is True and its phase does not say
// otherwise, or, without the condition, when its phase is Ready. Conservative
// on purpose: binding a VM to a dead host is the one mistake the scheduler must
// never make, so any signal that says "not Ready" wins.
bool node_ready(const Node& node);

}  // namespace corral
