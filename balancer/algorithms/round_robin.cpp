#include "balancer/algorithms/round_robin.h"

#include <utility>

#include "balancer/algorithms/factories.h"

namespace corral::balancer {

RoundRobinPicker::RoundRobinPicker(std::vector<const Backend*> backends)
    : backends_(std::move(backends)) {}

const Backend* RoundRobinPicker::pick(const PickContext& ctx) {
  const size_t n = backends_.size();
  size_t fallback = n;  // the index of `avoid` when it is usable
  for (size_t i = 0; i < n; ++i) {
    const size_t idx = (next_ + i) % n;
    const Backend* b = backends_[idx];
    if (!b->usable(ctx.now)) continue;
    if (b == ctx.avoid) {
      fallback = idx;
      continue;
    }
    next_ = (idx + 1) % n;
    return b;
  }
  if (fallback == n) return nullptr;
  next_ = (fallback + 1) % n;
  return backends_[fallback];
}

std::unique_ptr<Picker> make_round_robin_picker(std::vector<const Backend*> backends) {
  return std::make_unique<RoundRobinPicker>(std::move(backends));
}

}  // namespace corral::balancer
