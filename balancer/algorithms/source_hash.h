// sourceHash: a consistent-hash ring of the client address, so that one
// client keeps going to one backend (sessionAffinity: sourceIP uses it too,
// whatever the algorithm).
//
// The ring (ketama-like): each backend owns kPointsPerBackend points, point i
// at mix64(fnv1a64(endpoint.vm + "#" + i)). The points hash the VM's name,
// not its address, so a VM the controller re-places on another node (new
// address, new epoch) gets the same points and keeps its clients.
//
// A client goes to the owner of the first point at or after its hash,
// clockwise (wrapping). When that backend is unusable, or is the retry's
// `avoid`, the walk goes on clockwise to the next distinct usable backend, so
// a backend that fails moves only its own clients, spread over the others,
// and they come back when it recovers. Removing a backend from the set moves
// only its clients too; adding one takes about 1/(n+1) of everybody's.
//
// While a VM moves, the set holds its old (draining) and its new endpoint,
// with the same VM name and so the same points: the walk steps from the
// draining one to its successor at the same hash, and the clients follow the
// VM to its new node.
//
// Cost: building sorts n × kPointsPerBackend points; a pick is a binary
// search plus, only when backends are unusable, a short walk. No allocation
// per pick.
//
// Thread safety: not thread-safe (one picker per event loop; see picker.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "balancer/algorithms/picker.h"

namespace corral::balancer {

class SourceHashPicker : public Picker {
 public:
  // Points per backend: enough that each of 5 backends gets 20% of the
  // clients give or take ~1.6 points (one standard deviation; the spread
  // shrinks as 1/√points), few enough that building a ring of 100 backends
  // (16,000 points to sort, once per endpoint set and loop) takes a few
  // milliseconds.
  static constexpr size_t kPointsPerBackend = 160;

  explicit SourceHashPicker(std::vector<const Backend*> backends);
  const Backend* pick(const PickContext& ctx) override;

 private:
  struct Point {
    uint64_t hash;
    uint32_t backend;  // index into backends_
  };
  std::vector<const Backend*> backends_;
  std::vector<Point> ring_;  // sorted by (hash, backend)
  // Walk bookkeeping, sized once: checked_[i] == pick_seq_ when backend i was
  // already looked at (and refused) during the current pick.
  std::vector<uint64_t> checked_;
  uint64_t pick_seq_ = 0;
};

}  // namespace corral::balancer
