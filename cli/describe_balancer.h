// `corralctl describe lb NAME`: a Balancer's spec as a summary and its
// endpoints as a table, between describe's common header and its Conditions
// and Events sections (cli/describe.cpp).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "api/json_fwd.h"

namespace corral::cli {

// The Spec and Status part of a Balancer's description: what it selects,
// listen and mode, algorithm, affinity, rules, health check, timeouts,
// maxConnections; the endpoints (VM NODE ADDRESS EPOCH WEIGHT HEALTH DRAINING
// ACTIVE); L and spread; the data plane's last report. nullopt when the
// object does not decode as a Balancer (describe then prints it as YAML).
std::optional<std::string> describe_balancer(const Json& object,
                                             std::chrono::system_clock::time_point now);

}  // namespace corral::cli
