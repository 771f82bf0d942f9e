#include "base/duration.h"

#include <cmath>
#include <cstdlib>

namespace corral {

namespace {

// Milliseconds per unit, or 0 when the unit is unknown.
double unit_ms(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1'000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return 0;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// What is wrong with `text`, or empty when `out` holds its value.
std::string parse(std::string_view text, std::chrono::milliseconds* out) {
  if (text.empty()) return "empty: write e.g. 500ms, 1s, 2m or 1h";
  if (text == "0") {
    *out = std::chrono::milliseconds(0);
    return "";
  }
  double total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) ++i;
    if (i == start) return "expected a number at \"" + std::string(text.substr(start)) + "\"";
    const std::string number(text.substr(start, i - start));
    if (number.find('.') != number.rfind('.') || number == ".")
      return "\"" + number + "\" is not a number";
    size_t unit_start = i;
    while (i < text.size() && !is_digit(text[i]) && text[i] != '.') ++i;
    std::string_view unit = text.substr(unit_start, i - unit_start);
    if (unit.empty()) return "missing unit after " + number + ": ms, s, m or h";
    const double per = unit_ms(unit);
    if (per == 0) return "unknown unit \"" + std::string(unit) + "\": ms, s, m or h";
    total += std::strtod(number.c_str(), nullptr) * per;
    if (total > 1e15) return "too long";
  }
  *out = std::chrono::milliseconds(std::llround(total));
  return "";
}

}  // namespace

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::chrono::milliseconds d{0};
  std::string why = parse(text, &d);
  if (!why.empty())
    return make_error(ErrorCode::kBadRequest,
                      "invalid duration \"" + std::string(text) + "\": " + why);
  return d;
}

Result<std::chrono::milliseconds> parse_duration_flag(std::string_view flag, std::string_view text,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max) {
  const std::string head = std::string(flag) + " " + std::string(text) + ": ";
  std::chrono::milliseconds d{0};
  std::string why = parse(text, &d);
  if (!why.empty()) return make_error(ErrorCode::kBadRequest, head + why);
  if (d < min || d > max)
    return make_error(ErrorCode::kBadRequest, head + "must be from " + format_duration(min) +
                                                  " to " + format_duration(max));
  return d;
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const int64_t h = ms / 3'600'000, m = ms / 60'000 % 60, s = ms / 1000 % 60, rest = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (rest) out += std::to_string(rest) + "ms";
  return out;
}

}  // namespace corral
