// Parsers for corral-agent's flag values, each returning an Error that names
// the flag, so that main() only has to print it.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "base/duration.h"
#include "base/error.h"
#include "api/quantity.h"
#include "api/types.h"

namespace corral::agent {

// "k=v,k2=v2" (empty: none); keys and values checked as Kubernetes labels.
Result<Labels> parse_labels_flag(const std::string& flag, const std::string& text);

// A quantity ("4", "500m", "8Gi"); empty text: unset. Never negative.
Result<Quantity> parse_quantity_flag(const std::string& flag, const std::string& text);

// "HOST:PORT" or "[::1]:PORT"; port 0 picks a free one. Errors name `flag`.
Result<std::pair<std::string, int>> parse_listen_flag(const std::string& flag, const std::string& text);

}  // namespace corral::agent
