// One duration syntax for every flag and option of every binary, as Go's
// time.ParseDuration (what kubectl's --timeout takes): a sequence of numbers,
// each with a unit, "500ms", "1s", "1.5s", "2m", "1h", "1m30s". Units: ms, s,
// m, h. A number without a unit is an error, except "0".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/error.h"

namespace corral {

// Errors: BadRequest saying what is wrong ("missing unit", "unknown unit").
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// For a flag: the error names the flag and its value, and the value must lie
// in [min, max] ("--stop-grace 2h: must be from 1ms to 1h").
Result<std::chrono::milliseconds> parse_duration_flag(
    std::string_view flag, std::string_view text,
    std::chrono::milliseconds min = std::chrono::milliseconds(0),
    std::chrono::milliseconds max = std::chrono::hours(24 * 365));

// The shortest text parse_duration reads back as the same value: "1m30s",
// "250ms", "0s".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace corral
