// Tunables of the move planner's search. The policy itself (band, watermark,
// minimum gain, moves per round) comes from the Pool's spec.rebalance; these
// only bound how much of the pool one planning step looks at, so that a round
// costs O(moves × VMs per node × candidates) rather than O(nodes × VMs).
#pragma once

#include <cstddef>

namespace corral::rebalance {

struct Options {
  // Relieving an over-loaded node: each of its movable VMs is tried on targets
  // from the least loaded node upwards, at most this many targets per VM
  // (the walk also stops at the first target as loaded as the source: no gain
  // is possible from there on). 64: the least loaded nodes give the largest
  // gains, and the walk must still get past a run of cordoned or full ones.
  size_t max_targets_scanned = 64;
  // Filling an under-loaded node: sources are tried from the most loaded node
  // downwards, every movable VM of each, at most this many sources.
  size_t max_sources_scanned = 32;
  // Candidates are ranked by load alone (cheap), then the scheduler's filters
  // are asked about them best first until one passes; a node whose best this
  // many candidates all fail is given up on for now. 512: every VM of a
  // well-packed node on several targets, yet bounded when a VMSet's
  // anti-affinity or spread rules it out almost everywhere.
  size_t max_candidates_checked = 512;
  // Plan::lower_bound holds for plans that move the mean load by at most this
  // (lower_bound.h). 0.01: a hundredth of a node's capacity, more than a
  // round moves the mean of any pool but a handful of mixed-size nodes.
  double lower_bound_mean_slack = 0.01;
};

}  // namespace corral::rebalance
