// ControllerManager: owns the watch cache and the control loops and runs them
// — on one background thread in the controller, or one deterministic pass at
// a time in tests (run_once() with a FakeClock, no thread, no sleeps).
//
//   store ──watch──► ObjectCache ──CacheDelta──► NodeLifecycleLoop  every node_monitor_period
//                         ▲                      VmSetLoop          on changes (+ every 10 s)
//                         │                      MoveLoop           on changes (+ every 1 s)
//                         │ write-through        SchedulerLoop      on changes
//                         │                      EndpointsLoop      on Balancer/VM/Node changes
//                         └───────────────────── PoolStatusLoop     every pool_status_period
//   store ──list──► EventTtlLoop (deletes Events past --event-ttl)   every event_ttl.period
//                                                    │
//                              WriterPool (concurrent store writes, group commit)
//
// Every loop reads the cache only; the cache is synced (and the delta handed
// to every loop) before each loop runs, so a VM created by the VMSet loop is
// placed by the scheduler in the same pass, and a VM marked Lost is re-placed
// in the pass that found its node dead.
//
// Thread safety: run_once() and start()/stop() from one thread; do not mix
// run_once() with a started manager.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

#include "base/clock.h"
#include "base/error.h"
#include "base/metrics.h"
#include "controller/events/event_recorder.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/loops/endpoints_loop.h"
#include "controller/loops/event_ttl_loop.h"
#include "controller/loops/move_loop.h"
#include "controller/loops/node_lifecycle_loop.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/peer_prober.h"
#include "controller/loops/pillar_gauges.h"
#include "controller/loops/pool_status_loop.h"
#include "controller/loops/scheduler_loop.h"
#include "controller/loops/vmset_loop.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/store.h"

namespace corral::loops {

struct ControllerManagerOptions {
  // How often nodes are judged: 250 ms, well under the 2 s grace, so a dead
  // node is declared at most 250 ms after its grace (+ the probe) ran out.
  std::chrono::milliseconds node_monitor_period{250};
  // The longest the loop thread sleeps when no watch event arrives (it wakes
  // at once on events): 20 ms, the worst added latency of a timed check.
  std::chrono::milliseconds loop_tick{20};
  // How often Pool status is recomputed: 1 s (each pass scans every VM).
  std::chrono::milliseconds pool_status_period{1000};
  // Threads that issue one pass's writes concurrently so the store's group
  // commit merges them (a write is acknowledged only once durable, so the
  // writes in flight are the batch size). 128: measured on SQLite with 5,000
  // nodes, 24 threads bound 941 VMs/s, 128 → 2,057/s, 256 → 2,400–2,700/s,
  // 512 no better, while CPU per binding grows with the thread count.
  size_t writer_threads = 128;
  NodeLifecycleLoopOptions node_lifecycle;
  SchedulerLoopOptions scheduler;
  VmSetLoopOptions vmset;
  MoveLoopOptions moves;
  // Back-off of the endpoints and pool status loops' failing writes (the
  // VMSet and move loops have theirs in their options): 5 ms doubling to 30 s.
  WriteBatchOptions writes;
  events::EventRecorderOptions events;
  // Events expire after event_ttl.ttl (1 h; --event-ttl), swept every
  // event_ttl.period (1 min).
  EventTtlOptions event_ttl;
  // Where the loops' metrics go (the API server's registry); null: none.
  metrics::Registry* metrics = nullptr;
};

class ControllerManager {
 public:
  // `store`, `clock`, `leases` and `prober` must outlive the manager.
  ControllerManager(store::Store& store, const Clock& clock, const heartbeat::LeaseTable& leases,
                    PeerProber& prober, ControllerManagerOptions options = {});
  ~ControllerManager();
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  // Loads the cache (blocking) and records the controller's start on the
  // steady clock — nodes get one full grace from here. run_once() and start()
  // call it when it has not run.
  Result<void> init();
  // One pass of every loop, in order: node lifecycle, VMSets, moves, scheduler,
  // endpoints, pool status; then the Event TTL sweep when its period is due.
  Result<void> run_once();
  // Runs the loops on a background thread until stop().
  Result<void> start();
  void stop();

  ObjectCache& cache() { return cache_; }
  SchedulerLoop& scheduler() { return scheduler_; }
  VmSetLoop& vmsets() { return vmsets_; }
  NodeLifecycleLoop& node_lifecycle() { return node_lifecycle_; }
  MoveLoop& moves() { return moves_; }
  EndpointsLoop& endpoints() { return endpoints_; }
  EventTtlLoop& event_ttl() { return event_ttl_; }
  events::EventRecorder& events() { return events_; }

 private:
  struct Metrics;
  void dispatch();  // cache.sync() and hand the delta to every loop
  void run_node_lifecycle();
  void run_vmsets();
  void run_moves();
  void run_scheduler();
  void run_endpoints();
  // The loops that run on every pass, in this order, each after the cache has
  // taken the writes of the one before: VMSets, moves, scheduler, endpoints.
  void run_every_pass();
  void run_pool_status();
  // Pool status when a Pool spec changed (urgent) or pool_status_period has
  // passed since the last: as often in run_once() as on the loop thread.
  void run_pool_status_if_due();
  void run_event_ttl_if_due();
  void update_pillar_gauges();
  void thread_loop();

  const Clock& clock_;
  const ControllerManagerOptions options_;
  events::EventRecorder events_;
  WriterPool writers_;
  ObjectCache cache_;
  NodeLifecycleLoop node_lifecycle_;
  SchedulerLoop scheduler_;
  VmSetLoop vmsets_;
  MoveLoop moves_;
  EndpointsLoop endpoints_;
  PoolStatusLoop pool_status_;
  EventTtlLoop event_ttl_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<PillarGauges> pillars_;  // with metrics: pools, VMSets and nodes as gauges
  bool initialized_ = false;
  std::chrono::steady_clock::time_point next_pool_status_{};  // the owner thread's
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace corral::loops
