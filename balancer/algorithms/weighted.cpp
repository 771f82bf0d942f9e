#include "balancer/algorithms/weighted.h"

#include <algorithm>
#include <utility>

#include "balancer/algorithms/factories.h"

namespace corral::balancer {

namespace {

// What load_double returns for an EWMA nothing was observed into yet; no
// latency is negative.
constexpr double kNoMeasurement = -1;
// A measured latency below this (µs) counts as this, so that a 0 µs sample
// cannot make every other backend infinitely slow.
constexpr double kMinLatencyUs = 1;

}  // namespace

WeightedPicker::WeightedPicker(std::vector<const Backend*> backends, WeightedOptions options)
    : options_(options),
      backends_(std::move(backends)),
      usable_(backends_.size(), 0),
      effective_(backends_.size(), 0),
      current_(backends_.size(), 0),
      picks_since_recompute_(options_.recompute_every_picks) {}  // first pick recomputes

void WeightedPicker::recompute() {
  picks_since_recompute_ = 0;
  const size_t n = backends_.size();
  double fastest = 0;  // µs; 0: no usable backend has a measurement
  for (size_t i = 0; i < n; ++i) {
    if (!usable_[i]) continue;
    const double lat = load_double(backends_[i]->state->latency_ewma_us_bits, kNoMeasurement);
    if (lat == kNoMeasurement) continue;
    const double l = std::max(kMinLatencyUs, lat);
    if (fastest == 0 || l < fastest) fastest = l;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!usable_[i]) {
      effective_[i] = 0;
      continue;
    }
    const Backend& b = *backends_[i];
    // std::max(floor, x) is floor for a NaN x as well.
    const double headroom = std::max(options_.min_factor, b.endpoint.weight);
    double latency = 1;
    const double lat = load_double(b.state->latency_ewma_us_bits, kNoMeasurement);
    if (lat != kNoMeasurement && fastest > 0)
      latency = std::clamp(fastest / std::max(kMinLatencyUs, lat), options_.latency_floor, 1.0);
    const double err = load_double(b.state->error_ewma_bits, 0);
    const double errors = std::clamp(1 - err, options_.min_factor, 1.0);
    effective_[i] = headroom * latency * errors;
  }
}

const Backend* WeightedPicker::pick(const PickContext& ctx) {
  const size_t n = backends_.size();
  bool changed = false;
  for (size_t i = 0; i < n; ++i) {
    const char u = backends_[i]->usable(ctx.now) ? 1 : 0;
    if (u != usable_[i]) {
      usable_[i] = u;
      changed = true;
    }
  }
  if (changed) std::fill(current_.begin(), current_.end(), 0.0);
  if (changed || picks_since_recompute_ >= options_.recompute_every_picks) recompute();
  ++picks_since_recompute_;

  size_t best = n;
  double total = 0;
  bool avoid_usable = false;
  for (size_t i = 0; i < n; ++i) {
    if (!usable_[i]) continue;
    if (backends_[i] == ctx.avoid) {
      avoid_usable = true;
      continue;
    }
    current_[i] += effective_[i];
    total += effective_[i];
    if (best == n || current_[i] > current_[best]) best = i;
  }
  if (best == n) return avoid_usable ? ctx.avoid : nullptr;
  current_[best] -= total;
  return backends_[best];
}

std::unique_ptr<Picker> make_weighted_picker(std::vector<const Backend*> backends) {
  return std::make_unique<WeightedPicker>(std::move(backends));
}

}  // namespace corral::balancer
