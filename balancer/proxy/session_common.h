// What both session kinds (tcp, http) need: the client's address and hash, and
// connecting to a picked backend with retries on another one.
//
// Thread safety: used on one loop's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>

#include "balancer/proxy/loop_balancer.h"

namespace corral::balancer {

struct ClientInfo {
  std::string ip;        // textual, for X-Forwarded-For
  uint64_t hash = 0;     // hash_client_address of its bytes
};
ClientInfo describe_client(const boost::asio::ip::tcp::socket& socket);

// Holds one client connection's slot against spec.maxConnections and
// spec.maxConnectionsPerClient; releases it when destroyed.
class ConnectionSlot {
 public:
  enum class Refused { kNone, kMaxConnections, kMaxConnectionsPerClient };
  ConnectionSlot() = default;
  ~ConnectionSlot();
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  // Takes a slot when fewer than `limit` connections are open and fewer than
  // `per_client_limit` (0: no cap) from `client_ip`. Once per slot.
  Refused take(std::shared_ptr<SharedBalancer> shared, int64_t limit, const std::string& client_ip,
               int32_t per_client_limit);

 private:
  std::shared_ptr<SharedBalancer> shared_;  // set once a slot is held
  std::string client_;                      // counted in shared_->clients when not empty
};

// Counts one connection (tcp) or request (http) in flight on a backend for
// leastConnections and for the status report.
class ActiveGuard {
 public:
  ActiveGuard() = default;
  explicit ActiveGuard(std::shared_ptr<BackendState> state) : state_(std::move(state)) {
    state_->active.fetch_add(1, std::memory_order_relaxed);
  }
  ~ActiveGuard() { reset(); }
  ActiveGuard(ActiveGuard&& o) noexcept : state_(std::move(o.state_)) {}
  ActiveGuard& operator=(ActiveGuard&& o) noexcept {
    reset();
    state_ = std::move(o.state_);
    return *this;
  }
  void reset() {
    if (state_) state_->active.fetch_sub(1, std::memory_order_relaxed);
    state_.reset();
  }

 private:
  std::shared_ptr<BackendState> state_;
};

// Attempts per request or connection: the first pick plus retries on another
// endpoint after a failed connect.
inline constexpr int kMaxAttempts = 3;

}  // namespace corral::balancer
