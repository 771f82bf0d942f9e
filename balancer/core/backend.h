// A Backend is one published endpoint as the data plane sees it: what the
// controller said about it (immutable for the life of one endpoint set) and
// its live state (BackendState), which every event loop reads and updates.
//
// The live state is shared by all loops and survives endpoint-set swaps for
// the same (vm, epoch, address), so a new set from the controller neither
// forgets that an endpoint is unhealthy nor loses its connection count.
//
// Thread safety: Backend is immutable once published; BackendState is atomics
// only, read and written from any loop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "api/types.h"

namespace corral::balancer {

// Nanoseconds on the steady clock (the data plane's only time base).
using SteadyNanos = int64_t;

// The bits of an EWMA nothing was observed into yet (a NaN no arithmetic makes).
inline constexpr uint64_t kEwmaUnset = ~uint64_t{0};

struct BackendState {
  std::atomic<int64_t> active{0};            // connections (tcp) or requests in flight (http)
  std::atomic<bool> healthy{true};           // active health checks; true until they say otherwise
  std::atomic<bool> health_known{false};     // a check has reached a verdict (rise or fall)
  std::atomic<SteadyNanos> ejected_until{0}; // passive ejection after connect errors
  std::atomic<int32_t> consecutive_failures{0};
  // Observed by the proxy: exponentially weighted averages, stored as the bits
  // of a double so that they can be atomics (see load_double/store_double).
  std::atomic<uint64_t> latency_ewma_us_bits{kEwmaUnset};  // response (http) or connect (tcp) time, µs
  std::atomic<uint64_t> error_ewma_bits{0};  // share of failed attempts, 0..1 (0.0's bits are 0)
  // Totals for /metrics.
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors{0};
};

// The value, or `unset` when nothing was observed (bits == kEwmaUnset).
double load_double(const std::atomic<uint64_t>& bits, double unset = 0);
void store_double(std::atomic<uint64_t>& bits, double value);

// Folds one observation into an EWMA stored as bits (alpha: weight of the new
// sample). Into an unset EWMA the first observation is taken as is.
void observe_ewma(std::atomic<uint64_t>& bits, double sample, double alpha);

struct Backend {
  Endpoint endpoint;       // as published (vm, node, address, epoch, labels, weight, draining)
  std::string host;        // endpoint.address split for connecting
  std::string port;
  size_t index = 0;        // position in its EndpointSet (for per-backend tables)
  std::shared_ptr<BackendState> state;

  // May receive new connections or requests now: healthy, not draining, not ejected.
  bool usable(SteadyNanos now) const {
    return !endpoint.draining && state->healthy.load(std::memory_order_relaxed) &&
           state->ejected_until.load(std::memory_order_relaxed) <= now;
  }
  int64_t active() const { return state->active.load(std::memory_order_relaxed); }
};

}  // namespace corral::balancer
