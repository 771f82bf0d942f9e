// Whether the scheduler would allow a move, asked of the scheduler's own
// filters (controller/scheduler) on a private copy of the cluster snapshot.
//
// A move of v from a to b is made-before-broken: a new replica of v's VMSet is
// placed on b while v still runs on a, then v is stopped. So it is allowed
// only when both hold:
//   (1) in place   — the filters pass for a new replica of v's set on b with v
//                    still on a: what the scheduler checks when it places the
//                    replacement (anti-affinity sees v, b needs room for it);
//   (2) end state  — the filters pass for v on b with v gone from a: topology
//                    spread's min over domains can drop when v leaves its
//                    domain, which (1) does not see.
// Pool membership is checked too (the scheduler walks the pool's member index
// instead). Once a move is planned, apply() records it in the snapshot — v off
// a, on b — so that later moves of the same plan see it.
//
// Thread safety: none; one planner owns it.
#pragma once

#include <cstdint>
#include <vector>

#include "controller/scheduler/node_filters.h"
#include "controller/scheduler/scheduler.h"
#include "controller/scheduler/snapshot.h"

namespace corral::rebalance {

class MoveChecker {
 public:
  explicit MoveChecker(scheduler::ClusterSnapshot snapshot);

  // Readies check (1) for `vm` (its request: set, pool, requests, tolerations).
  // REQUIRES: called again after apply() or end_state_fits().
  void prepare(const scheduler::VmRequest& vm);
  // Check (1) for the last prepared VM on `node` (a snapshot node index).
  bool fits_in_place(const scheduler::VmRequest& vm, uint32_t node) const;
  // Check (2): keeps the targets where `vm`, taken off `from`, would fit.
  // The snapshot is left as it was found.
  void keep_end_state_fits(const scheduler::VmRequest& vm, uint32_t from,
                           std::vector<uint32_t>& targets);
  // Records the move: `vm` holds a place on `to` from now on, none on its old node.
  void apply(const scheduler::VmRequest& vm, uint32_t to);

  const scheduler::ClusterSnapshot& snapshot() const { return snapshot_; }

 private:
  bool passes(const scheduler::Scheduler& chain, const scheduler::VmRequest& vm,
              uint32_t node) const;

  scheduler::ClusterSnapshot snapshot_;
  // Two filter chains, so that each keeps its own prepare() state. A
  // Scheduler's filters() are the exact chain the scheduler runs.
  scheduler::Scheduler in_place_;
  scheduler::Scheduler end_state_;
  scheduler::PoolMembershipFilter membership_;
};

}  // namespace corral::rebalance
