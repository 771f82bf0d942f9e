// weighted: smooth weighted round-robin (nginx's algorithm) over the usable
// backends, with weights that follow load.
//
// Each pick: every candidate's current += effective; the largest current is
// picked; its current -= the sum of the effective weights. Over any window the
// shares follow the weights, and a heavy backend's turns are spread out
// (weights 4:1 give a a b a a, not a a a a b).
//
// Effective weight of a usable backend:
//
//   max(0.05, endpoint.weight)                      the node's measured headroom
//                                                   as the controller published it
//                                                   (0.05..1; ≤ 0 counts as 0.05)
//   × clip(lowest latency / own latency, 0.1, 1)    the latency EWMA against the
//                                                   fastest usable backend with a
//                                                   measurement; none yet: 1
//   × max(0.05, 1 − error EWMA)                     its share of failed attempts
//
// The floors keep every usable backend in the rotation, so that it goes on
// being measured and can earn its share back.
//
// When: effective weights are recomputed on the first pick, whenever the
// usable set changes (checked on every pick: it decides who may be picked at
// all) and otherwise at most every kRecomputeEveryPicks picks. The EWMAs move
// slowly, so reading n latency and error atomics and dividing on every pick
// would buy nothing; 64 picks is a fraction of a second on a busy loop, and
// on an idle one a stale weight costs nothing. A change of the usable set also
// resets the `current` counters, so a backend that returns starts level.
//
// Thread safety: not thread-safe (one picker per event loop; see picker.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "balancer/algorithms/picker.h"

namespace corral::balancer {

struct WeightedOptions {
  // Effective weights are recomputed at least this often (in picks).
  uint32_t recompute_every_picks = 64;
  // The lowest factor each of headroom, latency and errors can bring a
  // usable backend's weight to (latency: latency_floor below).
  double min_factor = 0.05;
  // The latency factor's floor: a backend 10× slower than the fastest, or
  // more, still gets a tenth of its weight.
  double latency_floor = 0.1;
};

class WeightedPicker : public Picker {
 public:
  explicit WeightedPicker(std::vector<const Backend*> backends, WeightedOptions options = {});
  const Backend* pick(const PickContext& ctx) override;

  // The effective weight backend i got at the last recompute (0 when it was
  // unusable then). For tests and the admin page.
  double effective_weight(size_t i) const { return effective_[i]; }

 private:
  void recompute();

  WeightedOptions options_;
  std::vector<const Backend*> backends_;
  std::vector<char> usable_;  // the usable set effective_ was computed for
  std::vector<double> effective_;
  std::vector<double> current_;
  uint32_t picks_since_recompute_;
};

}  // namespace corral::balancer
