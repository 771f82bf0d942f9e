// The columns each kind shows in a table, and how their values are written:
// one definition for `corralctl get` and for the API's Table answers, so that
// `kubectl get` prints the same columns as corralctl
// (controller/server/table.h).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/json_fwd.h"
#include "api/kinds.h"

namespace corral {

using TableRow = std::vector<std::string>;

// The headers ("NAME", "STATUS", ...); `wide` adds the -o wide columns after
// the others.
std::vector<std::string> table_headers(const KindInfo& kind, bool wide);
// One row; `name_prefix` ("pool/") prefixes the NAME cell when several kinds
// are printed together.
TableRow table_row(const KindInfo& kind, const Json& object, bool wide,
                   std::chrono::system_clock::time_point now, const std::string& name_prefix = "");

// "<none>" for an empty value, as kubectl prints one.
std::string or_none(const std::string& value);
// "5m" for an RFC 3339 timestamp `now` minus it; "<unknown>" when malformed or empty.
std::string age_since(const std::string& timestamp, std::chrono::system_clock::time_point now);
// 0.423 → "42%"; `decimals` > 0 keeps that many digits, trailing zeros dropped.
std::string format_percent(double fraction, int decimals = 0);
// Availability R in [0,1] as a fraction: 0.999, 1, 0; at most six decimals,
// rounded down so that it never overstates.
std::string format_availability(double r);
// An overcommit ratio: 4 → "4", 1.5 → "1.5"; absent (0) reads as the default 1.
std::string format_ratio(double ratio);

}  // namespace corral
