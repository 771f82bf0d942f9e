// Validation with field paths. Each function returns every problem it finds,
// one Cause per problem, with the field path and the rule broken
// ("spec.replicas: must be greater than or equal to 0").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"

namespace corral {

std::vector<Cause> validate(const Node& node);
std::vector<Cause> validate(const Pool& pool);
std::vector<Cause> validate(const VMSet& vmset);
std::vector<Cause> validate(const VM& vm);
std::vector<Cause> validate(const Balancer& balancer);
std::vector<Cause> validate(const Event& event);

// Building blocks, also used by the server and the CLI. Each returns the
// broken rule as a message, or nullopt when the value is fine.
std::optional<std::string> check_dns1123_subdomain(std::string_view name);  // object names
std::optional<std::string> check_dns1123_label(std::string_view name);
std::optional<std::string> check_label_key(std::string_view key);
std::optional<std::string> check_label_value(std::string_view value);

}  // namespace corral
