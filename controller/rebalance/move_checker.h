// Whether the scheduler would allow a move, asked of the scheduler's own
// filters (controller/scheduler) on the cluster snapshot, which it borrows:
// every change it makes is logged and undone by restore() (or the
// destructor), so the caller gets its snapshot back as it lent it. Copying a
// 5,000-node, 100,000-VM snapshot costs more than a whole round (bench/RESULTS.md).
//
// A move of v from a to b is made-before-broken: a new replica of v's VMSet is
// placed on b while v still runs on a, then v is stopped. So it is allowed
// only when both hold:
//   (1) in place   — the filters pass for a new replica of v's set on b with v
//                    still on a: what the scheduler checks when it places the
//                    replacement (anti-affinity sees v, b needs room for it);
//   (2) end state  — the filters pass for v on b with v gone from a: topology
//                    spread's min over domains can drop when v leaves its
//                    domain, which (1) does not see;
//   (3) spread kept — with v on b and gone from a, the set's skew (max − min
//                    replicas over the eligible domains, as the spread filter
//                    counts them) is ≤ maxSkew, or no larger than it was. The
//                    scheduler only ever adds replicas, so its filter checks
//                    the target's domain alone; a move also takes one away,
//                    and that can leave some third domain too far above the
//                    source's (a:1 b:3 c:1, maxSkew 2, v a→c gives b − a = 3).
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
  // REQUIRES: nobody else reads or writes `snapshot` until restore().
  explicit MoveChecker(scheduler::ClusterSnapshot& snapshot);
  ~MoveChecker() { restore(); }
  MoveChecker(const MoveChecker&) = delete;
  MoveChecker& operator=(const MoveChecker&) = delete;

  // Readies check (1) for `vm` (its request: set, pool, requests, tolerations).
  // REQUIRES: called again after apply() or end_state_fits().
  void prepare(const scheduler::VmRequest& vm);
  // Check (1) for the last prepared VM on `node` (a snapshot node index).
  bool fits_in_place(const scheduler::VmRequest& vm, uint32_t node) const;
  // Checks (2) and (3): keeps the targets where `vm`, taken off `from`, would fit.
  // The snapshot is left as it was found.
  void keep_end_state_fits(const scheduler::VmRequest& vm, uint32_t from,
                           std::vector<uint32_t>& targets);
  // Records the move: `vm` holds a place on `to` from now on, none on its old node.
  void apply(const scheduler::VmRequest& vm, uint32_t to);
  // Undoes every apply(), latest first: each VM back on its node, counted as
  // Running or expected as it was.
  void restore();

  const scheduler::ClusterSnapshot& snapshot() const { return snapshot_; }

 private:
  bool passes(const scheduler::Scheduler& chain, const scheduler::VmRequest& vm,
              uint32_t node) const;
  // Max − min replicas of `vm`'s set over the eligible domains of its spread
  // key; 0 when the set has no spread.
  int32_t spread_skew(const scheduler::VmRequest& vm) const;

  // Puts `vm` back on `node` as it was before a remove_vm().
  void put_back(const scheduler::VmRequest& vm, uint32_t node, bool expected);

  struct Undo {
    scheduler::VmRequest vm;
    uint32_t node = scheduler::kNoIndex;  // where it was
    bool expected = false;
  };
  scheduler::ClusterSnapshot& snapshot_;
  std::vector<Undo> undo_;
  // Two filter chains, so that each keeps its own prepare() state. A
  // Scheduler's filters() are the exact chain the scheduler runs.
  scheduler::Scheduler in_place_;
  scheduler::Scheduler end_state_;
  scheduler::PoolMembershipFilter membership_;
};

}  // namespace corral::rebalance
