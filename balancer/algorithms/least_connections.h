// leastConnections: the usable backend with the fewest active connections
// (tcp) or requests in flight (http), Backend::active().
//
// Ties are broken in turn: the scan starts one past the last backend returned
// and keeps the first of the least loaded it meets, so backends with equal
// counts (an idle set, short requests) share evenly instead of the first one
// in the list taking every tie.
//
// Thread safety: not thread-safe (one picker per event loop; see picker.h).
// The counts are shared atomics, so another loop may change them between the
// scan and the connection: least-connections is a heuristic, not a lock.
#pragma once

#include <cstddef>
#include <vector>

#include "balancer/algorithms/picker.h"

namespace corral::balancer {

class LeastConnectionsPicker : public Picker {
 public:
  explicit LeastConnectionsPicker(std::vector<const Backend*> backends);
  const Backend* pick(const PickContext& ctx) override;

 private:
  std::vector<const Backend*> backends_;
  size_t next_ = 0;  // where the next scan starts (ties go to the first met)
};

}  // namespace corral::balancer
