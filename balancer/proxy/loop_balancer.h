// What the event loops share about one Balancer, and what one loop keeps of it.
//
//   InstalledSet   an EndpointSet plus what the proxy derives from it once:
//                  resolved backend addresses and metric children. Immutable;
//                  every loop holds the same one.
//   SharedBalancer per Balancer, all loops: connection count (maxConnections),
//                  connections per client address (maxConnectionsPerClient),
//                  its metrics.
//   LoopBalancer   per Balancer and loop: the current set, this loop's pickers
//                  (pickers keep cursors, so each loop has its own); the loop
//                  accepts for it from the Balancer's one listening socket.
//
// Pooled backend connections belong to a LoopBalancer, keyed by the live state
// of backends in its current set, so one Balancer's swap never touches
// another's connections.
//
// Thread safety: LoopBalancer is touched only on its loop's thread.
// SharedBalancer is atomics plus immutable fields, and the per-client counts
// under their own mutex (taken once when a connection opens and once when it
// closes, never per request).
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <string>
#include <vector>

#include "balancer/algorithms/picker.h"
#include "balancer/core/endpoint_set.h"
#include "balancer/proxy/backend_pool.h"
#include "balancer/proxy/proxy_metrics.h"

namespace corral::balancer {

struct InstalledSet {
  std::shared_ptr<const EndpointSet> set;
  std::vector<boost::asio::ip::tcp::endpoint> addresses;  // by Backend::index
  std::vector<BackendMetrics> metrics;                     // by Backend::index
};

struct SharedBalancer {
  std::string name;
  BalancerMetrics metrics;
  std::atomic<int64_t> connections{0};
  std::mutex clients_mu;
  // Open connections by client address, counted only while
  // spec.maxConnectionsPerClient is set. Guarded by clients_mu.
  std::unordered_map<std::string, int32_t> clients;
};

class LoopBalancer {
 public:
  explicit LoopBalancer(std::shared_ptr<SharedBalancer> shared) : shared_(std::move(shared)) {}

  // Installs a new set: new pickers; idle pooled connections to backends that
  // left the set or are draining are closed. Connections in flight keep the
  // set they started with.
  void install(std::shared_ptr<const InstalledSet> set);
  const std::shared_ptr<const InstalledSet>& current() const { return set_; }
  SharedBalancer& shared() { return *shared_; }
  const std::shared_ptr<SharedBalancer>& shared_handle() const { return shared_; }

  // Idle keep-alive connections: take one for `b`, or give one back. A
  // connection is kept only while its backend is in the current set and not
  // draining (a session that started on an older set may finish after a swap).
  std::unique_ptr<BackendConnection> take_idle(const Backend& b) { return pool_.take(b.state.get()); }
  void give_idle(const Backend& b, std::unique_ptr<BackendConnection> c);

  // route: RouteTable::kDefaultRoute or a rule index. nullptr: nothing usable.
  const Backend* pick(int route, const PickContext& ctx);

 private:
  std::shared_ptr<SharedBalancer> shared_;
  BackendPool pool_;
  std::unordered_set<const BackendState*> poolable_;  // in the set, not draining
  std::shared_ptr<const InstalledSet> set_;
  std::unique_ptr<Picker> default_picker_;
  std::vector<std::unique_ptr<Picker>> rule_pickers_;
};

// Steady-clock nanoseconds now.
SteadyNanos steady_now();

// Passive ejection after a failed connect: out for 1 s × consecutive failures
// (at most 30 s). A successful connect ends it.
void record_connect_failure(BackendState& state, SteadyNanos now);
void record_connect_success(BackendState& state);

}  // namespace corral::balancer
