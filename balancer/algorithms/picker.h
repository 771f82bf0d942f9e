// Picker: how a new connection (tcp) or request (http) chooses one backend of
// a set. One small file per algorithm behind this interface:
//
//   roundRobin        round_robin.h        each usable backend in turn
//   leastConnections  least_connections.h  fewest active, ties in turn
//   sourceHash        source_hash.h        consistent-hash ring of the client
//                                          address (sessionAffinity: sourceIP
//                                          uses it too, whatever the algorithm)
//   weighted          weighted.h           smooth weighted round-robin over
//                                          measured headroom × observed latency
//                                          and errors
//
// A picker is built once per endpoint set (and content rule) and per event
// loop, so it may keep state (a cursor, a ring) without locks; the backends'
// live state is shared atomics (backend.h).
//
// Thread safety: one picker per event loop; not thread-safe.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "balancer/core/backend.h"

namespace corral::balancer {

struct PickContext {
  uint64_t client_hash = 0;         // hash of the client address (sourceHash)
  const Backend* avoid = nullptr;   // a retry: anything but this one, if possible
  SteadyNanos now = 0;              // for ejection deadlines
};

class Picker {
 public:
  virtual ~Picker() = default;
  // A usable backend (Backend::usable), or nullptr when none is. `avoid` is
  // returned only when it is the one usable backend left.
  virtual const Backend* pick(const PickContext& ctx) = 0;
};

// `backends` must outlive the picker (they belong to the endpoint set).
// `algorithm` is validated upstream; an unknown one falls back to roundRobin.
// `source_affinity` (sessionAffinity: sourceIP) makes it a sourceHash picker.
std::unique_ptr<Picker> make_picker(std::string_view algorithm, bool source_affinity,
                                    std::vector<const Backend*> backends);

// A 64-bit hash of a client address (its bytes, without the port), stable
// across processes so that several balancer copies agree.
uint64_t hash_client_address(std::string_view address_bytes);

}  // namespace corral::balancer
