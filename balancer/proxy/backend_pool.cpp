#include "balancer/proxy/backend_pool.h"

namespace corral::balancer {

std::unique_ptr<BackendConnection> BackendPool::take(const BackendState* backend) {
  auto it = idle_.find(backend);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  auto c = std::move(it->second.back());
  it->second.pop_back();
  return c;
}

void BackendPool::give(const BackendState* backend, std::unique_ptr<BackendConnection> connection) {
  auto& v = idle_[backend];
  if (v.size() >= kMaxIdlePerBackend) return;  // closed by its destructor
  v.push_back(std::move(connection));
}

void BackendPool::retain_only(const std::unordered_set<const BackendState*>& keep) {
  // Connections are keyed by a live state that keep's owners hold; a key not
  // in keep may be a dangling address after its set is gone, so compare only.
  for (auto it = idle_.begin(); it != idle_.end();) {
    if (keep.count(it->first)) ++it;
    else it = idle_.erase(it);
  }
}

size_t BackendPool::idle() const {
  size_t n = 0;
  for (const auto& [k, v] : idle_) n += v.size();
  return n;
}

}  // namespace corral::balancer
