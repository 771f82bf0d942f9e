#include "balancer/algorithms/source_hash.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <utility>

#include "balancer/algorithms/factories.h"
#include "balancer/algorithms/hash.h"

namespace corral::balancer {

SourceHashPicker::SourceHashPicker(std::vector<const Backend*> backends)
    : backends_(std::move(backends)), checked_(backends_.size(), 0) {
  ring_.reserve(backends_.size() * kPointsPerBackend);
  for (size_t b = 0; b < backends_.size(); ++b) {
    const uint64_t name_state = fnv1a64("#", fnv1a64(backends_[b]->endpoint.vm));
    for (size_t i = 0; i < kPointsPerBackend; ++i) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, i).ptr;
      const uint64_t h = mix64(fnv1a64(std::string_view(digits, end - digits), name_state));
      ring_.push_back({h, static_cast<uint32_t>(b)});
    }
  }
  // Ties (the same VM twice while it moves, or a true collision) are ordered
  // by position in the set, so every loop and every copy builds the same ring.
  std::sort(ring_.begin(), ring_.end(), [](const Point& a, const Point& b) {
    return a.hash != b.hash ? a.hash < b.hash : a.backend < b.backend;
  });
}

const Backend* SourceHashPicker::pick(const PickContext& ctx) {
  if (ring_.empty()) return nullptr;
  ++pick_seq_;
  const size_t n = backends_.size();
  const auto first = std::lower_bound(ring_.begin(), ring_.end(), ctx.client_hash,
                                      [](const Point& p, uint64_t h) { return p.hash < h; });
  size_t pos = static_cast<size_t>(first - ring_.begin());
  const Backend* fallback = nullptr;  // `avoid`, if usable
  size_t refused = 0;                 // distinct backends looked at and passed over
  for (size_t step = 0; step < ring_.size() && refused < n; ++step, ++pos) {
    if (pos == ring_.size()) pos = 0;
    const uint32_t idx = ring_[pos].backend;
    if (checked_[idx] == pick_seq_) continue;
    checked_[idx] = pick_seq_;
    const Backend* b = backends_[idx];
    if (b->usable(ctx.now)) {
      if (b != ctx.avoid) return b;
      fallback = b;
    }
    ++refused;
  }
  return fallback;
}

std::unique_ptr<Picker> make_source_hash_picker(std::vector<const Backend*> backends) {
  return std::make_unique<SourceHashPicker>(std::move(backends));
}

}  // namespace corral::balancer
