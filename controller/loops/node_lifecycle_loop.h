// NodeLifecycleLoop: judges nodes by their heartbeat leases and writes the
// verdicts — the wiring of reconcile::decide_node_lifecycle (see
// controller/reconcile/README.md for the rules).
//
//   LeaseTable (renewals, controller steady time) ─┐
//   peer-probe answers (PeerProber callbacks) ─────┼─► decide_node_lifecycle ─► Node.status phase +
//   Ready cache: Nodes, Pools, VMs; start; now ──────────┘        │                    condition,
//   Event
//                                                            ├─► probe requests ─► PeerProber
//                                                            ├─► Lost VMs ─► VM.status phase Lost
//                                                            ├─► fencing VMs ─► one Event per wait
//                                                            ├─► disruptions ─► Pool Disrupted
//                                                            │                   condition, Event
//                                                            └─► verdicts ─► AvailabilityTracker
//                                                                            ─►
//                                                                            Node.status.availability
//
// Field ownership in Node.status: this loop writes phase, the Ready condition
// (other conditions are kept) and availability; the heartbeat service writes
// the rest. In Pool.status it writes the Disrupted condition only. Every write is a read-modify-write with resourceVersion, retried on
// Conflict (status_update.h).
//
// Thread safety: run_once()/observe() on the owner thread; probe answers
// arrive from the prober's threads into a mutex-guarded map.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/peer_prober.h"
#include "controller/loops/writer_pool.h"
#include "controller/reconcile/node_lifecycle.h"
#include "controller/store/store.h"

namespace corral::loops {

struct NodeLifecycleLoopOptions {
  reconcile::NodeLifecycleOptions decide;  // grace default, probers per node, probe timeout
  // How long each peer may try to reach the suspect: 300 ms, leaving the
  // peer's answer time to arrive within decide.probe_timeout (500 ms).
  std::chrono::milliseconds peer_timeout{300};
  // Node.status.availability is written when it moved by at least this much
  // (0.001 of a 1 h window is 3.6 s of lease): precise enough, and no write
  // per node per pass.
  double availability_epsilon = 0.001;
  // A node's availability alone is written at most this often (with a
  // transition it is written at once). R_i moves slowly; after many nodes
  // missed beats together (a controller restart, a network blip) every one of
  // them would otherwise write on every pass while its R_i recovers.
  std::chrono::milliseconds availability_write_interval{10'000};
};

struct NodeLifecyclePassStats {
  size_t transitions = 0;
  size_t probes_sent = 0;
  size_t vms_lost = 0;
  size_t vms_fencing = 0;  // selfFence VMs waiting for their node's fence
  size_t availability_writes = 0;
  size_t pools_disrupted = 0;  // pools the mass-failure guard holds this pass
  size_t write_errors = 0;
};

class NodeLifecycleLoop {
 public:
  NodeLifecycleLoop(store::Store& store, ObjectCache& cache, const heartbeat::LeaseTable& leases,
                    PeerProber& prober, events::EventRecorder& events, WriterPool& writers,
                    const Clock& clock, NodeLifecycleLoopOptions options = {});

  // The controller's start, on the steady clock, taken after the cache
  // synced: no node is judged before one full grace after it.
  void set_controller_started(reconcile::SteadyTime started) { started_ = started; }
  void observe(const CacheDelta& delta);
  NodeLifecyclePassStats run_once();
  // True once after a peer-probe answer arrived: the owner runs a pass at
  // once instead of waiting for the next period (the verdict it unblocks is
  // on the fail-over clock).
  bool take_fresh_answer();

 private:
  // Probe bookkeeping shared with the prober's callbacks; held by shared_ptr
  // so a late answer after the loop is gone writes into nothing harmful.
  struct ProbeState {
    std::mutex mu;
    std::map<std::string, reconcile::PeerProbe> answers;  // guarded by mu
    std::set<std::string> in_flight;                      // guarded by mu
    bool fresh_answer = false;                            // guarded by mu
  };
  struct NodeWrite {
    const reconcile::NodeTransition* transition = nullptr;
    bool write_availability = false;
    double availability = 1.0;
  };
  // A status write of one node, and one VM to mark Lost: copies taken on the
  // owner thread, so the writer threads never read the cache.
  struct NodeTask {
    Node node;
    NodeWrite write;
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  // A pool whose Disrupted condition is to change.
  struct PoolTask {
    Pool pool;
    const reconcile::PoolDisruption* disruption = nullptr;  // null: the disruption ended
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  struct VmTask {
    VM vm;
    const reconcile::LostVM* lost = nullptr;
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  // Leases and probe answers → decide_node_lifecycle.
  reconcile::NodeLifecycleResult decide(reconcile::SteadyTime now);
  // On a writer thread: the node's phase, Ready condition and availability
  // (read-modify-write), then its transition's log line and Event.
  void write_node(NodeTask& task, const std::string& timestamp);
  // On a writer thread: the VM's phase Lost, unless it moved meanwhile; Event VMLost.
  void write_lost(VmTask& task);
  // The pools whose Disrupted condition differs from this pass's disruptions
  // (level-triggered: a stale condition left by an earlier controller is
  // cleared too); logs the guard of the nodes in no pool once per change.
  std::vector<PoolTask> pool_changes(const std::vector<reconcile::PoolDisruption>& disruptions);
  // On a writer thread: the Disrupted condition, and an Event when it flips.
  void write_pool(PoolTask& task, const std::string& timestamp);
  // Adds a WaitingForFence Event task for each fence wait not yet announced.
  void announce_fences(const std::vector<reconcile::FencingVM>& fencing,
                       std::vector<std::function<void()>>& tasks);
  void send_probes(const std::vector<reconcile::ProbeRequest>& requests,
                   NodeLifecyclePassStats& stats);
  // Feeds the trackers with this pass's verdicts; returns the nodes whose
  // availability is to be written: moved by availability_epsilon, and either
  // in `transitioning` or not written for availability_write_interval.
  std::map<std::string, double> track_availability(
      const std::vector<reconcile::NodeVerdict>& verdicts,
      const std::vector<reconcile::NodeTransition>& transitioning, reconcile::SteadyTime now);

  store::Store& store_;
  ObjectCache& cache_;
  const heartbeat::LeaseTable& leases_;
  PeerProber& prober_;
  events::EventRecorder& events_;
  WriterPool& writers_;
  const Clock& clock_;
  const NodeLifecycleLoopOptions options_;
  reconcile::SteadyTime started_{};
  std::shared_ptr<ProbeState> probes_ = std::make_shared<ProbeState>();
  std::map<std::string, reconcile::AvailabilityTracker> trackers_;  // by node
  std::map<std::string, reconcile::SteadyTime> availability_written_;  // by node
  // selfFence VMs whose fence wait was announced (one Event per wait): "vm@node#epoch".
  std::set<std::string> fence_announced_;
  bool no_pool_disrupted_ = false;  // the guard holds the nodes in no pool
  std::map<std::string, reconcile::SteadyTime> guarded_at_;  // by node: last pass the guard held it
  std::vector<size_t> name_order_;  // decide_node_lifecycle's name order, kept between passes
};

}  // namespace corral::loops
