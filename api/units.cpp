#include "api/units.h"

#include <cstdio>

#include "api/json.h"
#include "api/kinds.h"
#include "api/quantity.h"
#include "api/table_columns.h"

namespace corral {

namespace {

// "%.*f" with trailing zeros (and a bare point) dropped.
std::string trimmed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  std::string s = buf;
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

}  // namespace

std::optional<int64_t> milli_at(const Json& object, std::string_view path) {
  std::string text = field_value(object, path);
  if (text.empty()) return std::nullopt;
  auto q = parse_quantity(text);
  if (!q) return std::nullopt;
  return q->milli;
}

std::string format_cores(int64_t milli) { return trimmed(static_cast<double>(milli) / 1000.0, 2); }

std::string format_millicores(int64_t milli) { return std::to_string(milli) + "m"; }

std::string format_cpu(int64_t milli) {
  return milli % 1000 == 0 ? std::to_string(milli / 1000) : format_millicores(milli);
}

std::string format_bytes(int64_t milli) {
  static constexpr const char* kUnits[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};
  double value = static_cast<double>(milli) / 1000.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  return trimmed(value, unit == 0 ? 0 : 1) + kUnits[unit];
}

std::string format_mebibytes(int64_t milli) { return std::to_string(milli / 1000 / (1024 * 1024)) + "Mi"; }

std::string used_of(std::optional<int64_t> used, std::optional<int64_t> total,
                    std::string (*format)(int64_t)) {
  if (!total) return "<none>";
  int64_t u = used.value_or(0);
  std::string out = format(u) + "/" + format(*total);
  if (*total > 0) out += " (" + format_percent(static_cast<double>(u) / static_cast<double>(*total)) + ")";
  return out;
}

}  // namespace corral
