// EndpointSet: one Balancer as the data plane runs it at one moment — its spec,
// its published endpoints as Backends, and the content-rule routes over them.
// Immutable once built; a new one is built for every change the controller
// publishes, and sessions keep the set they started with (shared_ptr), so a
// swap never drops a connection.
//
// Thread safety: immutable after build_endpoint_set(); share freely.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/types.h"
#include "balancer/core/backend.h"
#include "balancer/core/rules.h"

namespace corral::balancer {

struct ListenAddress {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const ListenAddress&) const = default;
};

// "address:port" (IPv4, a name, or [IPv6]) → host and port.
// Errors: Invalid naming `field` and what is wrong.
Result<ListenAddress> parse_listen(const std::string& text, const std::string& field);

struct EndpointSet {
  std::string name;       // the Balancer's name
  BalancerSpec spec;
  ListenAddress listen;
  uint64_t version = 0;   // grows with every set built for this Balancer
  std::vector<std::unique_ptr<Backend>> owned;
  std::vector<const Backend*> backends;  // == owned, in published order
  RouteTable routes;

  // The backend for (vm, epoch, address), or nullptr.
  const Backend* find(const std::string& vm, int64_t epoch, const std::string& address) const;
};

// Builds the set for `balancer` (spec and status.endpoints). A backend keeps
// the live state (connections, health, ejection, observed latency) of the one
// in `previous` with the same (vm, epoch, address); others start fresh.
// Endpoints without a parseable address are skipped (the controller never
// publishes one). Errors: Invalid for a bad spec.listen or rule selector.
Result<std::shared_ptr<const EndpointSet>> build_endpoint_set(const Balancer& balancer,
                                                              const EndpointSet* previous,
                                                              uint64_t version);

}  // namespace corral::balancer
