#include "controller/server/watch_limiter.h"

namespace corral::server {

std::shared_ptr<void> WatchLimiter::acquire(const std::string& identity, bool* server_full) {
  {
    std::lock_guard lock(mu_);
    if (total_ > 0 && sum_ >= total_) {
      if (server_full) *server_full = true;
      return nullptr;
    }
    size_t& n = open_[identity];
    if (n >= per_identity_) {
      if (n == 0) open_.erase(identity);
      return nullptr;
    }
    ++n;
    ++sum_;
  }
  // The deleter gives the slot back; the handle points at this limiter, which
  // outlives every watch (the server stops its watches before it goes).
  return std::shared_ptr<void>(this, [identity](WatchLimiter* self) {
    std::lock_guard lock(self->mu_);
    --self->sum_;
    auto it = self->open_.find(identity);
    if (it != self->open_.end() && --it->second == 0) self->open_.erase(it);
  });
}

size_t WatchLimiter::open(const std::string& identity) const {
  std::lock_guard lock(mu_);
  auto it = open_.find(identity);
  return it == open_.end() ? 0 : it->second;
}

}  // namespace corral::server
