// SchedulerLoop: keeps a scheduler::ClusterSnapshot current from the cache,
// places the VMs that need it in batches, and writes the decisions.
//
//   CacheDelta ─► observe(): upsert/remove nodes and VMs in the snapshot;
//                 VMs that need_placement → pending; Pool/VMSet spec change → rebuild
//   run_once(): pending (≤ max_batch, by priority) ─► Scheduler::schedule_batch,
//               in slices of decide_slice, each written while the next is decided
//        scheduler::decision_outcome (scheduler/outcome.h) says what each
//        decision writes:
//        bound ─────────► one write of spec.nodeName + spec.epoch and status
//                         (phase Scheduled, message "", nodeName/epoch reset),
//                         with the resourceVersion the decision was made on;
//                         once landed, Event Scheduled "Successfully assigned
//                         vm/x to node/y"
//        unschedulable ─► /status message (+ phase Pending) when it changed,
//                         Event FailedScheduling per new message; parked
//   the writes go in Store::write_batch chunks of `write_batch`, the chunks
//   concurrently on the WriterPool: one commit per chunk, not per VM
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
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.h"
#include "controller/loops/agent_notifier.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/writer_pool.h"
#include "controller/scheduler/options.h"
#include "controller/scheduler/outcome.h"
#include "controller/scheduler/scheduler.h"
#include "controller/scheduler/snapshot.h"
#include "controller/store/store.h"

namespace corral::loops {

struct SchedulerLoopOptions {
  scheduler::Options scheduler;  // filters' sampling, scorers' weights
  // VMs placed per pass at most (highest priority first): bounds one pass's
  // latency when a flood arrives; the rest go in the next pass, at once.
  // Half the store's watch buffer (StoreOptions::watch_buffer, 10,000): the
  // loops' own cache watch is read between passes, and a pass that wrote more
  // than the buffer holds would make it fall behind and re-list everything.
  size_t max_batch = 5'000;
  // Writes per Store::write_batch call. A chunk holds the store's write lock
  // while it is checked and encoded, so it bounds how long other writers (a
  // heartbeat persisting a Node) wait behind the scheduler.
  size_t write_batch = 256;
  // VMs decided at a time: each slice's writes run while the next is decided.
  size_t decide_slice = 1000;
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
  SchedulerLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
                WriterPool& writers, const Clock& clock, SchedulerLoopOptions options = {});

  // Nudges the agents of nodes that got new bindings (may be null: none).
  // Not owned; set before the first pass.
  void set_notifier(AgentNotifier* notifier) { notifier_ = notifier; }

  void observe(const CacheDelta& delta);
  SchedulerPassStats run_once();
  // VMs waiting to be tried (not parked).
  size_t pending() const { return pending_.size(); }
  size_t parked() const { return parked_.size(); }
  bool has_work() const { return rebuild_ || !pending_.empty(); }
  // The cluster as of the last observe() (rebuilt first when a delta asked
  // for that). The move loop's planner borrows it instead of building its
  // own at 300,000 VMs; plan_moves restores every change it tries.
  scheduler::ClusterSnapshot& snapshot() {
    if (rebuild_) rebuild();
    return snapshot_;
  }

 private:
  // One decision of a pass and its write.
  struct Task {
    const scheduler::Decision* decision = nullptr;
    scheduler::DecisionOutcome outcome;  // the VM to store, the Event to record
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  struct Pass {
    std::deque<scheduler::Decision> decisions;  // stable addresses for Task::decision
    std::vector<Task> tasks;  // reserved up front: a slice's writes read it meanwhile
    std::chrono::steady_clock::duration deciding{};  // for the log line
  };

  AgentNotifier* notifier_ = nullptr;
  void rebuild();
  // The pending VMs still needing a node, in the order they are decided.
  std::vector<const VM*> take_batch();
  // Decides `batch` in slices of decide_slice and writes each slice while the
  // next is decided. The cache is not touched until every write is back.
  void decide_and_write(const std::vector<const VM*>& batch, Pass& pass,
                        SchedulerPassStats& stats);
  // The decisions [first, end) of `pass` of one slice → tasks (parks the unschedulable).
  void add_tasks(Pass& pass, size_t first_decision,
                 const std::unordered_map<std::string_view, const VM*>& by_name,
                 SchedulerPassStats& stats);
  // The store's answer for one task: cache, snapshot, pending/parked, Events.
  void apply_unschedulable(Task& task, SchedulerPassStats& stats,
                           std::vector<events::EventWrite>& events);
  void apply_binding(Task& task, SchedulerPassStats& stats,
                     std::vector<events::EventWrite>& events);
  // Writes entries [begin, end) (`make(i)`) in chunks on the writer pool and
  // hands each result to `done(i, ...)`.
  void write_batches(size_t begin, size_t end,
                     const std::function<store::BatchWrite(size_t)>& make,
                     const std::function<void(size_t, Result<store::RecordPtr>)>& done);
  void unpark_all();
  // True when the Pool/VMSet changes in `delta` change what the snapshot
  // holds of them (spec, or added/removed) — not mere status writes.
  bool specs_changed(const CacheDelta& delta);
  void observe_node(const std::string& name, bool& room_changed);
  void observe_vm(const std::string& name, bool& room_changed);

  store::Store& store_;
  ObjectCache& cache_;
  events::EventRecorder& events_;
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
