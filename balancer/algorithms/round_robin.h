// roundRobin: each usable backend in turn.
//
// The cursor moves past the backend it returned, so unusable backends are
// skipped without disturbing the turn of the others, and a backend that comes
// back simply rejoins the rotation.
//
// Thread safety: not thread-safe (one picker per event loop; see picker.h).
#pragma once

#include <cstddef>
#include <vector>

#include "balancer/algorithms/picker.h"

namespace corral::balancer {

class RoundRobinPicker : public Picker {
 public:
  explicit RoundRobinPicker(std::vector<const Backend*> backends);
  const Backend* pick(const PickContext& ctx) override;

 private:
  std::vector<const Backend*> backends_;
  size_t next_ = 0;  // index the next turn starts at
};

}  // namespace corral::balancer
