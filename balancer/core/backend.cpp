#include "balancer/core/backend.h"

#include <bit>

namespace corral::balancer {

double load_double(const std::atomic<uint64_t>& bits, double unset) {
  uint64_t b = bits.load(std::memory_order_relaxed);
  return b == kEwmaUnset ? unset : std::bit_cast<double>(b);
}

void store_double(std::atomic<uint64_t>& bits, double value) {
  bits.store(std::bit_cast<uint64_t>(value), std::memory_order_relaxed);
}

void observe_ewma(std::atomic<uint64_t>& bits, double sample, double alpha) {
  // A lost update between two loops costs one sample of smoothing, never a
  // torn value: the CAS loop keeps the read-modify-write whole.
  uint64_t old_bits = bits.load(std::memory_order_relaxed);
  for (;;) {
    double old_value = std::bit_cast<double>(old_bits);
    double next = old_bits == kEwmaUnset ? sample : old_value + alpha * (sample - old_value);
    if (bits.compare_exchange_weak(old_bits, std::bit_cast<uint64_t>(next),
                                   std::memory_order_relaxed))
      return;
  }
}

}  // namespace corral::balancer
