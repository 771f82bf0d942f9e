// A lower bound on the number of moves that bring every node of a pool back
// inside the band, to judge a plan by (the bench prints moves / bound).
//
//   over-band node: its load must drop to T = min(highWatermark, L + maxImbalance
//       + slack) in CPU *and* memory. k_cpu = the fewest of its movable VMs,
//       largest CPU first, whose CPU covers cpu − T × allocatable; k_mem
//       likewise; it needs ≥ max(k_cpu, k_mem) departures (no k VMs carry more
//       than the k largest, and arrivals only add to what must leave).
//   under-band node: its load must rise to L − maxImbalance − slack in CPU *or*
//       memory; with the pool's movable VMs, largest first, it needs
//       ≥ min(k_cpu, k_mem) arrivals.
//   LB = max(Σ departures over the nodes, Σ arrivals over the nodes): one move
//       is one departure and one arrival. A node that all movable VMs cannot
//       fix counts all of them.
//
// The theorem: every plan that brings every node inside the band while moving
// the mean L by at most `slack` has ≥ LB moves. Moves shift L by
// (ΔRₐ + ΔR_b)/n — zero between nodes of one size, small in a large pool —
// and a node that is out of band by less than `slack` is not counted.
#pragma once

#include <cstdint>
#include <vector>

#include "controller/rebalance/load_model.h"

namespace corral::rebalance {

// `movable[v]`: whether VM v (index into the input's vms) may move.
// `slack` ≥ 0: how far the mean may move (Options::lower_bound_mean_slack).
int32_t lower_bound(const LoadModel& model, const std::vector<bool>& movable, double slack);

}  // namespace corral::rebalance
