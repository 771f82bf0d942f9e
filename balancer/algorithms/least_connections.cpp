#include "balancer/algorithms/least_connections.h"

#include <utility>

#include "balancer/algorithms/factories.h"

namespace corral::balancer {

LeastConnectionsPicker::LeastConnectionsPicker(std::vector<const Backend*> backends)
    : backends_(std::move(backends)) {}

const Backend* LeastConnectionsPicker::pick(const PickContext& ctx) {
  const size_t n = backends_.size();
  size_t best = n;
  int64_t best_active = 0;
  bool avoid_usable = false;
  for (size_t i = 0; i < n; ++i) {
    const size_t idx = (next_ + i) % n;
    const Backend* b = backends_[idx];
    if (!b->usable(ctx.now)) continue;
    if (b == ctx.avoid) {
      avoid_usable = true;
      continue;
    }
    const int64_t active = b->active();
    if (best == n || active < best_active) {
      best = idx;
      best_active = active;
    }
  }
  if (best == n) return avoid_usable ? ctx.avoid : nullptr;
  next_ = (best + 1) % n;
  return backends_[best];
}

std::unique_ptr<Picker> make_least_connections_picker(std::vector<const Backend*> backends) {
  return std::make_unique<LeastConnectionsPicker>(std::move(backends));
}

}  // namespace corral::balancer
