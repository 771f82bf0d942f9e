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
std::vector<Cause> validate(const Secret& secret);
// A Secret's type, data and stringData: keys, base64, the size bound
// (kMaxSecretBytes). api/validate_secret.cpp.
std::vector<Cause> validate_secret_data(const Secret& secret);

// A VM's env (api/types/env.h), under `path` ("spec.runtime.env"): names
// required, printable and unique; a value or a valueFrom.secretKeyRef with a
// Secret name and a key, not both. api/validate_secret.cpp.
std::vector<Cause> validate_env(const std::string& path, const EnvList& env);
// A Secret data key: [-._a-zA-Z0-9]+, at most 253 characters, not "." or "..".
std::optional<std::string> check_secret_key(std::string_view key);

// Building blocks, also used by the server and the CLI. Each returns the
// broken rule as a message, or nullopt when the value is fine.
std::optional<std::string> check_dns1123_subdomain(std::string_view name);  // object names
std::optional<std::string> check_dns1123_label(std::string_view name);
std::optional<std::string> check_label_key(std::string_view key);
std::optional<std::string> check_label_value(std::string_view value);

}  // namespace corral
