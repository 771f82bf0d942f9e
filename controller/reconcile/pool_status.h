// Pool status and HA admission control: pure functions of (Pool, Nodes, VMs).
//
//   members          nodes whose labels include the pool's nodeSelector
//   capacity V       Σ Pᵢ over Ready members, Pᵢ = ⌊allocatable × overcommit⌋
//                    per resource (the scheduler's ResourceFit bound)
//   allocated        Σ requests of VMs bound (spec.nodeName) to any member and
//                    not Failed or Lost (a Lost VM is being re-placed and a
//                    Failed one holds nothing running; Terminating still holds)
//   used             Σ measured usage (status.usage) of Ready members; a
//                    NotReady node's last report is stale
//   load Rᵢ          max(cpu usage / allocatable, memory usage / allocatable)
//   mean L           Σ Rᵢ / n over the n Ready members; loadSpread = max |Rᵢ − L|
//   tolerableFailures the largest N ≤ Ready members such that, for CPU and for
//                    memory, V minus the N largest Pᵢ still holds `allocated`
//
// Why the largest *capacities*: whatever nodes die, every allocated request
// must fit on the survivors (the VMs on survivors stay, those on the dead are
// re-placed), i.e. Σ Pᵢ over survivors ≥ allocated. The survivors' capacity
// is smallest when the N largest Pᵢ are the ones lost, which is therefore the
// worst case; with equal-sized nodes it is the same as losing the N most
// allocated. CPU and memory are checked separately (each its own worst N).
// This is an aggregate bound, like vSphere's "cluster resource percentage"
// policy: necessary for re-placement, not sufficient when fragmentation
// keeps a large VM from fitting in scattered free space.
//
// Thread safety: pure functions.
#pragma once

#include <vector>

#include "base/error.h"
#include "api/types.h"

namespace corral::reconcile {

// The pool's status, observedGeneration and conditions copied from `pool`.
PoolStatus compute_pool_status(const Pool& pool, const std::vector<Node>& nodes,
                               const std::vector<VM>& vms);

// HA admission for a VMSet create or update: `proposed` is the VMSet as it
// would be after the change. Its demand is counted as replicas × template
// requests (every replica placed, the worst case), replacing what its current
// VMs hold (found by the corral.io/vmset label or an ownerReference to its
// uid). Admits when the pool has no tolerateNodeFailures, when the VMSet is in
// another pool, or when the change adds no CPU and no memory demand (scaling
// down is always allowed, even in a pool already short). Otherwise refuses with
// Invalid, naming the numbers:
//   "pool web tolerates 1 node failure(s): after losing the 1 largest node(s),
//    6 CPU would remain for 8 CPU requested"
Result<void> check_ha_admission(const Pool& pool, const std::vector<Node>& nodes,
                                const std::vector<VM>& vms, const VMSet& proposed);

}  // namespace corral::reconcile
