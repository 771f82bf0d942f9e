// HA admission control for VMSets, run by the API server on every VMSet
// create and update (Server::set_admission) after normalisation and before
// the store write: a change that would leave the set's pool unable to absorb
// failover.tolerateNodeFailures node failures is refused with 422 Invalid
// naming the numbers (reconcile::check_ha_admission has the rule).
//
// Cost: one Pool read; when the pool tolerates failures, its member Nodes
// (label selector) and the VMs bound to them (the store's spec.nodeName
// index). Everything is served from the store's memory.
//
// Thread safety: stateless; safe from any thread.
#pragma once

#include "base/error.h"
#include "api/json_fwd.h"
#include "api/kinds.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

// `normalized` is the VMSet as it would be stored; `old` the stored version
// (null on create). Other kinds are admitted at once. A VMSet naming a pool
// that does not exist is admitted (the scheduler reports it unschedulable).
// Errors: Invalid with a cause at spec.replicas; the store's.
Result<void> admit_vmset(store::Store& store, const KindInfo& kind, const Json& normalized,
                         const store::RecordPtr& old);

}  // namespace corral::heartbeat
