// The rebalancer's move planner: which VMs to move where so that every node of
// a pool comes back inside the band around the mean load. A pure function of
// (PlanInput, ClusterSnapshot, Options): no store, no clock, no I/O. The loop
// that wires it to the store creates the replacements; `corralctl rebalance
// plan` prints the same plan. See README.md in this folder for the pipeline.
//
// Definitions (load_model.h has Rᵢ, L, dᵢ and the band):
//   gain of moving v: a → b  =  max(|dₐ|, |d_b|) before − max(|dₐ'|, |d_b'|) after,
//       the "after" deviations taken from the recomputed mean L'. A move is
//       planned only when gain > 0, gain ≥ policy.minGain, and the pool's
//       max |dᵢ| (over every node, with L') does not increase.
//   a move is allowed only when the scheduler's filters allow it in place and
//       in its end state (move_checker.h), v is movable (plan_input.h) and v's
//       VMSet has budget left (PlanInput::budget_left).
//
// The greedy, one move per step:
//   1. If no node is actionable (PlanInput::actionable and out of band now, or
//      above highWatermark), plan nothing; node loads are still reported.
//   2. Take the node with the worst excess (load_model.h: LoadModel::excess),
//      ties to the name that sorts first.
//      - above the band: candidates are its movable VMs, each on targets from
//        the least loaded node upwards;
//      - below it: candidates are the movable VMs of the most loaded nodes,
//        onto it.
//   3. Rank candidates: first those that bring the worst node inside the band
//      in this one move without pushing the other node out (or further out)
//      of it, largest VM first (its share of the worst node's capacity); then
//      the rest by gain. Ties: larger VM, then VM name, then node name.
//   4. Ask the filters best first; the first that passes (and has budget) is
//      planned and applied to the model and the snapshot, so later moves see
//      it. A candidate that passes but whose set's budget is spent, ranked
//      above the chosen one, is reported in Plan::blocked_by_budget — once per
//      set: after that the set's VMs are no longer candidates in this plan.
//   5. A node with no valid move is set aside until the next move changes the
//      loads. Stop when every node is in band, when no out-of-band node has a
//      move that gains minGain, or after max_moves.
// A VM moves at most once per plan: its replacement is not Running yet. Known
// gap: the plan can stop where a second hop of a just-moved VM would still
// gain; a later round (after cooldown) takes it.
//
// Cost: O(nodes) to index the snapshot and build the model, then per step
// O(VMs on the worst node × max_targets_scanned) or O(max_sources_scanned × VMs
// per node) load evaluations, plus the filters on the best few candidates.
//
// Thread safety: a pure function of its inputs; the borrowed snapshot is
// written during the call and restored.
#pragma once

#include "controller/rebalance/options.h"
#include "controller/rebalance/plan.h"
#include "controller/scheduler/snapshot.h"

namespace corral::rebalance {

// REQUIRES: `snapshot` was built from the same objects as `input` (it must
// know the pool, the VMSets and where each VM is); a VM the snapshot places
// elsewhere than the input is not moved.
//
// The snapshot is borrowed: the planned moves are applied to it while
// planning and undone before returning, so it comes back as it was (the
// loop keeps one snapshot for the scheduler and the rebalancer). REQUIRES:
// nobody else uses it during the call.
Plan plan_moves(const PlanInput& input, scheduler::ClusterSnapshot& snapshot,
                const Options& options = {});
// The same on a copy, for callers that cannot lend theirs (a copy of a
// 5,000-node, 100,000-VM snapshot costs more than the round itself).
Plan plan_moves_on_copy(const PlanInput& input, const scheduler::ClusterSnapshot& snapshot,
                        const Options& options = {});

}  // namespace corral::rebalance
