// EndpointsLoop: writes each Balancer's status — its endpoints (the VMs it
// sends traffic to, with weights and draining marks), L and spread over their
// nodes, and the Ready condition — from reconcile::compute_balancer_status.
//
//   CacheDelta (Balancers, VMs, Nodes) ──► dirty ──► every Balancer:
//     compute_balancer_status(b, all VMs, all Nodes, now)
//       == stored status (encoded) → nothing
//       else update_status_rmw (re-computed on the fresh copy after a 409,
//            so the data plane's concurrent report is kept), Event
//            NoEndpoints (Warning) when Ready turns False
//
// Runs after the scheduler in each ControllerManager pass, on any change of a
// Balancer, VM or Node (O(B × (V + N)) per such pass; Balancers are few). An
// endpoint leaves the set in the pass that sees its node NotReady or its VM
// Lost. Nothing here depends on time passing, so there is no period — except
// a status write that failed: it backs off per Balancer (write_batch.h) and the
// loop runs again when it is due. A Conflict is recomputed in the next pass.
//
// Field ownership in Balancer.status: this loop writes observedGeneration,
// endpoints (vm, node, address, epoch, labels, weight, draining,
// drainingSince), meanLoad, loadSpread and the Ready condition; the data plane
// writes health, activeConnections, drained, lastReportTime, reportedBy and
// the Serving condition. Each keeps the other's fields on read-modify-write.
//
// Thread safety: one owner thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "base/clock.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/store.h"

namespace corral::loops {

struct EndpointsPassStats {
  size_t balancers = 0;     // computed
  size_t writes = 0;        // statuses written
  size_t no_endpoints = 0;  // Ready turned False (Events recorded)
  size_t errors = 0;
};

class EndpointsLoop {
 public:
  EndpointsLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
                WriterPool& writers, const Clock& clock, WriteBatchOptions writes = {});

  void observe(const CacheDelta& delta);
  // Recomputes every Balancer when a Balancer, VM or Node changed since the
  // last pass (and on the first pass), or a failed write is due again;
  // otherwise does nothing.
  EndpointsPassStats run_once();

 private:
  // A status was written: the log line, and Event NoEndpoints when Ready
  // turned False.
  void note_written(const Balancer& before, const BalancerStatus& st, EndpointsPassStats& stats);

  store::Store& store_;
  ObjectCache& cache_;
  events::EventRecorder& events_;
  const Clock& clock_;
  WriteBatch writes_;
  bool dirty_ = true;
  // When a backed-off status write is due again (nullopt: none waits).
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
};

}  // namespace corral::loops
