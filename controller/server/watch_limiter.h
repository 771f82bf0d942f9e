// Open watches per identity: each watch holds one of the API's worker
// threads for as long as it streams (cpp-httplib: a thread per connection),
// so one client opening watches without end would take them all. A client
// past its share gets 429 with Retry-After, as the Kubernetes apiserver's
// priority and fairness answers a flow over its share.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace corral::server {

class WatchLimiter {
 public:
  explicit WatchLimiter(size_t per_identity) : per_identity_(per_identity) {}

  // A slot for one more watch of `identity`, released when the returned
  // handle is destroyed; null when `identity` already holds per_identity.
  std::shared_ptr<void> acquire(const std::string& identity);
  size_t open(const std::string& identity) const;
  size_t per_identity() const { return per_identity_; }

 private:
  const size_t per_identity_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, size_t> open_;  // guarded by mu_; no zero entries
};

}  // namespace corral::server
