// SchedulerLoop: keeps a scheduler::ClusterSnapshot current from the cache,
// places the VMs that need it in batches, and writes the decisions.
//
//   CacheDelta ─► observe(): upsert/remove nodes and VMs in the snapshot;
//                 VMs that need_placement → pending; Pool/VMSet spec change → rebuild
//   run_once(): pending (≤ max_batch, by priority) ─► Scheduler::schedule_batch
//        bound ─────────► update spec.nodeName + spec.epoch (resourceVersion)
//                         then /status phase Scheduled, message "", nodeName/epoch reset
//        unschedulable ─► /status message (+ phase Pending) when it changed,
//                         Event FailedScheduling per new message; parked
//   all writes of a batch run concurrently on the WriterPool (group commit)
//
// Conflict on a binding: the snapshot was wrong about that VM. It is re-read,
// upserted into the snapshot (undoing the batch's bind) and retried next pass.
//
// Unschedulable VMs are parked, not retried every pass: they come back when
// something that could make room happens — a node added, removed or changed in
// what the filters read, a VM deleted, Lost or no longer holding its place —
// or after `unschedulable_retry`.
//
// Thread safety: one owner thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "api/clock.h"
#include "controller/loops/agent_notifier.h"
#include "controller/loops/events.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/writer_pool.h"
#include "controller/scheduler/options.h"
#include "controller/scheduler/scheduler.h"
#include "controller/scheduler/snapshot.h"
#include "controller/store/store.h"

namespace corral::loops {

struct SchedulerLoopOptions {
  scheduler::Options scheduler;  // filters' sampling, scorers' weights
  // VMs placed per pass at most (highest priority first): bounds one pass's
  // latency when a flood arrives; the rest go in the next pass, at once.
  size_t max_batch = 10'000;
  // Parked unschedulable VMs are retried at least this often even when
  // nothing seems to have changed (a safety net for changes not noticed).
  std::chrono::milliseconds unschedulable_retry{5000};
};

struct SchedulerPassStats {
  size_t attempted = 0;
  size_t bound = 0;
  size_t unschedulable = 0;
  size_t conflicts = 0;
  size_t write_errors = 0;
  bool rebuilt = false;
};

class SchedulerLoop {
 public:
  SchedulerLoop(store::Store& store, ObjectCache& cache, EventRecorder& events, WriterPool& writers,
                const Clock& clock, SchedulerLoopOptions options = {});

  // Nudges the agents of nodes that got new bindings (may be null: none).
  // Not owned; set before the first pass.
  void set_notifier(AgentNotifier* notifier) { notifier_ = notifier; }

  void observe(const CacheDelta& delta);
  SchedulerPassStats run_once();
  // VMs waiting to be tried (not parked).
  size_t pending() const { return pending_.size(); }
  size_t parked() const { return parked_.size(); }
  bool has_work() const { return rebuild_ || !pending_.empty(); }

 private:
  AgentNotifier* notifier_ = nullptr;
  void rebuild();
  void unpark_all();
  // True when the Pool/VMSet changes in `delta` change what the snapshot
  // holds of them (spec, or added/removed) — not mere status writes.
  bool specs_changed(const CacheDelta& delta);
  void observe_node(const std::string& name, bool& room_changed);
  void observe_vm(const std::string& name, bool& room_changed);

  store::Store& store_;
  ObjectCache& cache_;
  EventRecorder& events_;
  WriterPool& writers_;
  const Clock& clock_;
  const SchedulerLoopOptions options_;
  scheduler::Scheduler scheduler_;
  scheduler::ClusterSnapshot snapshot_;
  bool rebuild_ = true;
  std::unordered_set<std::string> pending_;
  std::unordered_set<std::string> parked_;
  std::chrono::steady_clock::time_point last_retry_{};
  // uid + generation of every Pool and VMSet the snapshot was built from.
  std::unordered_map<std::string, std::string> pool_specs_;
  std::unordered_map<std::string, std::string> vmset_specs_;
};

}  // namespace corral::loops
