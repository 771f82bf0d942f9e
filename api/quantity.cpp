#include "api/quantity.h"

#include <cmath>
#include <limits>

namespace corral {

namespace {
struct Suffix {
  const char* text;
  long double factor;
};
// Longest suffixes first so that "Mi" wins over "M" and "m".
constexpr Suffix kSuffixes[] = {
    {"Ki", 1024.0L},
    {"Mi", 1024.0L * 1024},
    {"Gi", 1024.0L * 1024 * 1024},
    {"Ti", 1024.0L * 1024 * 1024 * 1024},
    {"Pi", 1024.0L * 1024 * 1024 * 1024 * 1024},
    {"Ei", 1024.0L * 1024 * 1024 * 1024 * 1024 * 1024},
    {"n", 1e-9L}, {"u", 1e-6L}, {"m", 1e-3L}, {"k", 1e3L}, {"M", 1e6L},
    {"G", 1e9L},  {"T", 1e12L}, {"P", 1e15L}, {"E", 1e18L},
};
}  // namespace

Result<Quantity> parse_quantity(const std::string& text) {
  auto bad = [&](const std::string& why) -> Result<Quantity> {
    return make_error(ErrorCode::kInvalid, "invalid quantity \"" + text + "\": " + why);
  };
  if (text.empty()) return bad("must not be empty");
  size_t i = 0;
  bool negative = false;
  if (text[i] == '+' || text[i] == '-') negative = text[i++] == '-';
  size_t digits_start = i;
  long double number = 0;
  bool any_digit = false;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    number = number * 10 + (text[i++] - '0');
    any_digit = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    long double scale = 0.1L;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      number += (text[i++] - '0') * scale;
      scale /= 10;
      any_digit = true;
    }
  }
  if (!any_digit || i == digits_start) return bad("must start with a number, like 500m, 2, 1.5 or 4Gi");
  std::string rest = text.substr(i);
  long double factor = 1;
  if (!rest.empty()) {
    bool matched = false;
    if ((rest[0] == 'e' || rest[0] == 'E') && rest.size() > 1) {
      size_t j = 1;
      bool exp_neg = false;
      if (rest[j] == '+' || rest[j] == '-') exp_neg = rest[j++] == '-';
      if (j < rest.size() && rest.find_first_not_of("0123456789", j) == std::string::npos) {
        // Accumulate with a cap: stoi on a 4-digit prefix read "1e00019" as 1e0.
        int e = 0;
        for (size_t k = j; k < rest.size() && e <= 18; ++k) e = e * 10 + (rest[k] - '0');
        if (e > 18) return bad("exponent too large");
        factor = std::pow(10.0L, exp_neg ? -e : e);
        matched = true;
      }
    }
    for (const auto& s : kSuffixes) {
      if (!matched && rest == s.text) {
        factor = s.factor;
        matched = true;
      }
    }
    if (!matched)
      return bad("unknown suffix \"" + rest +
                 "\" (use m, k, M, G, T, P, E or Ki, Mi, Gi, Ti, Pi, Ei)");
  }
  long double milli = std::ceil(number * factor * 1000.0L - 1e-9L);
  if (milli > static_cast<long double>(std::numeric_limits<int64_t>::max() / 2))
    return bad("too large");
  Quantity q;
  q.text = text;
  q.milli = static_cast<int64_t>(milli) * (negative ? -1 : 1);
  return q;
}

Quantity Quantity::from_milli(int64_t milli) {
  Quantity q;
  q.milli = milli;
  q.text = milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
  return q;
}

Quantity Quantity::from_bytes(int64_t bytes) {
  Quantity q;
  q.milli = bytes * 1000;
  static const char* kBin[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
  for (int k = 0; k < 6; ++k) {
    int64_t unit = int64_t{1} << (10 * (6 - k));
    if (bytes != 0 && bytes % unit == 0) {
      q.text = std::to_string(bytes / unit) + kBin[k];
      return q;
    }
  }
  q.text = std::to_string(bytes);
  return q;
}

}  // namespace corral
