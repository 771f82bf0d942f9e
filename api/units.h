// How quantities are written for people (corralctl's tables, the API's
// Table answers for kubectl): cores and binary byte
// units for tables ("1.2/4 (30%)", "3.5Gi"), millicores and Mi as `kubectl top`
// prints them ("250m", "1024Mi"). Inputs are milli-units (api/quantity.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "api/json_fwd.h"

namespace corral {

// The quantity at a dotted path ("status.usage.cpu") in milli-units; nullopt
// when absent or malformed.
std::optional<int64_t> milli_at(const Json& object, std::string_view path);

// 1200 → "1.2", 4000 → "4", 250 → "0.25": cores, at most two decimals.
std::string format_cores(int64_t milli);
// 250 → "250m": kubectl top's CPU(cores).
std::string format_millicores(int64_t milli);
// CPU as Kubernetes writes a quantity: whole cores bare ("4"), anything else
// in millicores ("1200m") — so `get nodes -o wide` and `top` read alike.
std::string format_cpu(int64_t milli);
// Bytes (milli-units) in the largest binary unit that keeps the value ≥ 1, one
// decimal at most: "512Mi", "3.5Gi", "900" (bytes).
std::string format_bytes(int64_t milli);
// Bytes (milli-units) as whole mebibytes, rounded down: kubectl top's MEMORY(bytes).
std::string format_mebibytes(int64_t milli);

// "1.2/4 (30%)": used of total; "<none>" when the total is unknown.
std::string used_of(std::optional<int64_t> used, std::optional<int64_t> total,
                    std::string (*format)(int64_t));

}  // namespace corral
