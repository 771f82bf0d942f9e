// Open watches per identity and in total: each watch holds a thread of its
// own for as long as it streams (http_core.h: long-lived streams), so one
// client opening watches without end would take the server's threads. A
// client past its share, or anyone once the server holds its total, gets 429
// with Retry-After, as the Kubernetes apiserver's priority and fairness
// answers a flow over its share.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace corral::server {

class WatchLimiter {
 public:
  // `total` 0: no cap on the sum.
  explicit WatchLimiter(size_t per_identity, size_t total = 0)
      : per_identity_(per_identity), total_(total) {}

  // A slot for one more watch of `identity`, released when the returned
  // handle is destroyed; null when `identity` already holds per_identity, or
  // the server `total` (then *server_full is set, when given).
  std::shared_ptr<void> acquire(const std::string& identity, bool* server_full = nullptr);
  size_t open(const std::string& identity) const;
  size_t per_identity() const { return per_identity_; }
  size_t total() const { return total_; }

 private:
  const size_t per_identity_;
  const size_t total_;
  mutable std::mutex mu_;
  size_t sum_ = 0;  // guarded by mu_
  std::unordered_map<std::string, size_t> open_;  // guarded by mu_; no zero entries
};

}  // namespace corral::server
