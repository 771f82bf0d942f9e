// A lower bound on the number of moves that bring every node of a pool back
// inside the band, to judge a plan by (the bench prints moves / bound).
//
//   over-band node  (dᵢ > maxImbalance or Rᵢ > highWatermark): its load must
//       drop to T = min(highWatermark, L + maxImbalance) in CPU *and* memory.
//       k_cpu = the fewest of its movable VMs, largest CPU first, whose CPU
//       covers cpu − T × allocatable; k_mem likewise; it needs ≥ max(k_cpu,
//       k_mem) departures (no k VMs carry more than the k largest).
//   under-band node (dᵢ < −maxImbalance): its load must rise to L − maxImbalance
//       in CPU *or* memory; with the pool's movable VMs, largest first, it
//       needs ≥ min(k_cpu, k_mem) arrivals.
//   LB = max(Σ over over-band nodes, Σ over under-band nodes): one move is one
//       departure and one arrival, so neither sum can be beaten.
// A node that all movable VMs cannot fix counts all of them.
//
// It holds with the mean L held at its current value. Moves shift L by
// (ΔRₐ + ΔR_b)/n — zero when both nodes have the same allocatable and the
// same resource dominates — so with mixed node sizes it is a bound in
// practice rather than a theorem; the property tests check it against every
// plan that converges.
#pragma once

#include <cstdint>
#include <vector>

#include "controller/rebalance/load_model.h"

namespace corral::rebalance {

// `movable[v]`: whether VM v (index into the input's vms) may move.
int32_t lower_bound(const LoadModel& model, const std::vector<bool>& movable);

}  // namespace corral::rebalance
