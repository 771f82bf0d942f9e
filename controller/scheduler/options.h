// Tunables of the scheduler's decision core. Every default is written next to
// its field and explained there; nothing in the pipeline hard-codes a weight or
// a threshold.
#pragma once

#include <cstddef>
#include <cstdint>

namespace corral::scheduler {

struct Options {
  // ---- score weights: total = Σ weight × score, each score in [0,1] ----------
  // The pool's placement strategy (spread | binpack | leastLoaded).
  double strategy_weight = 1.0;
  // PreferNoSchedule taints the VM does not tolerate. Equal to the strategy so
  // that one such taint outweighs any strategy preference short of a full
  // point, as "prefer not" means in Kubernetes.
  double prefer_no_schedule_weight = 1.0;
  // VMSet.spec.antiAffinity with mode "preferred": fewer replicas of the set
  // in the node's domain first.
  double preferred_anti_affinity_weight = 1.0;
  // VMSet.spec.spread: within what maxSkew allows, the emptiest domain first.
  // Lower than the strategy's weight: the filter already enforces maxSkew, this
  // only keeps the greedy choice from walking to the edge of it.
  double topology_spread_weight = 0.5;

  // ---- how many nodes to look at per VM (kube-scheduler's
  // percentageOfNodesToScore) ----------------------------------------------------
  // Filtering stops once this many feasible nodes are found, unless the
  // percentage below asks for more. A pool with fewer members is always
  // searched in full, so small clusters get exact answers.
  size_t min_feasible_nodes = 100;
  // Percentage of the pool's members to find feasible before scoring. 0 means
  // adaptive, as kube-scheduler: 50 − members/125, at least 5 — so 10% of a
  // 5,000-node pool. 100 means always search every member. Where the search
  // starts rotates per pool so that every node gets its turn.
  int percentage_of_nodes_to_score = 0;
  // The adaptive rule above, spelled out (kube-scheduler's constants).
  int adaptive_base_percentage = 50;
  int adaptive_nodes_per_percent = 125;
  int adaptive_min_percentage = 5;
  // Never look for more feasible nodes than this (0: no cap; a percentage of
  // 100 is not capped). Past a few
  // hundred candidates the best score barely improves — Nomad scores only a
  // handful — while the cost per VM grows linearly: on a loaded 2-core box,
  // 5,000 nodes, 100,000 VMs, the pure path places ~11k VMs/s at kube's 10%
  // (500 nodes) and ~25–50k/s at 200, well above the 10k/s the whole loop
  // (store writes included) must reach.
  size_t max_feasible_nodes = 200;

  // ---- the unschedulable message ----------------------------------------------
  // At most this many distinct reasons are listed (the most frequent); the rest
  // are summed into one "N other" entry. Reasons such as anti-affinity name a
  // replica, so a big set could otherwise produce a message per node.
  size_t max_summary_reasons = 8;
};

}  // namespace corral::scheduler
