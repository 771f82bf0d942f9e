// Resource quantities as Kubernetes writes them: "500m", "2", "1.5", "4Gi",
// "512Mi", "1e3", "10k". Stored as an integer number of milli-units so that sums
// and comparisons are exact: 1 CPU = 1000, 1 byte of memory = 1000.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace corral {

// Milli-units in one unit: one core is 1000 milli-CPU.
inline constexpr int64_t kMilliPerUnit = 1000;
// Bytes in a kibibyte: /proc/meminfo, cgroups and libvirt count memory in KiB.
inline constexpr int64_t kBytesPerKiB = 1024;

struct Quantity {
  std::string text;       // as written (canonical form for numbers: "2"); "" = unset
  int64_t milli = 0;      // value × 1000, rounded up to the next milli-unit

  bool empty() const { return text.empty(); }
  double value() const { return static_cast<double>(milli) / 1000.0; }
  int64_t whole() const { return (milli + 999) / 1000; }  // rounded up: bytes, cores
  bool operator==(const Quantity& o) const { return milli == o.milli && text.empty() == o.text.empty(); }

  static Quantity from_milli(int64_t milli);        // "500m", "2"
  static Quantity from_bytes(int64_t bytes);        // "4Gi" when exact, else "123456"
};

// Sums and products of milli-units that stop at the int64 limits instead of
// overflowing (undefined behaviour). Quantities come from nodes and users: a
// pool's sums over thousands of hosts must never wrap to a negative capacity.
inline int64_t saturating_add(int64_t a, int64_t b) {
  int64_t out;
  if (!__builtin_add_overflow(a, b, &out)) return out;
  return b > 0 ? INT64_MAX : INT64_MIN;
}
inline int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t out;
  if (!__builtin_mul_overflow(a, b, &out)) return out;
  return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

// Parses a quantity; the error message says which rule was broken.
Result<Quantity> parse_quantity(const std::string& text);

}  // namespace corral
