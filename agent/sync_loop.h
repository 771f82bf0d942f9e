// SyncLoop: the agent's one loop. Every round (heartbeat interval, 1 s):
//
//   measure host ──► heartbeat ──► converge the driver ──► write state file
//   (HostUsage:       (capacity,      to the last answer:
//    /proc deltas,     usage, VM      stop unlisted / stale-epoch copies first,
//    Ewma)             reports; the   start missing ones, restart ended ones
//                      answer lists   per restartPolicy with back-off)
//                      the bindings)
//
// Level-triggered: each round compares the last answer with Driver::list(), so a
// lost round is harmless. The controller unreachable: every VM keeps running
// and the loop keeps converging to the last answer (restarts go on); the
// heartbeat is retried with back-off (interval, doubling, capped at
// max_retry_interval) and the first answer after an error gets a full report.
// 409 (another live agent holds the node): logged as an error, retried with
// the same back-off, and nothing is started or restarted meanwhile.
//
// Self-fencing: a VM whose binding says `fencing: selfFence` must not run
// here once the controller may have re-placed it. The controller judges the
// lease by when it *received* the last heartbeat; this loop measures from when
// it *sent* the last heartbeat that was answered (its steady clock), which is
// no later. Once that send is `grace` old (HeartbeatResponse::
// leaseDurationSeconds, the last answer's value kept), the Fencer
// (agent/fence/fencer.h), on a thread of its own, stops every selfFence VM in
// one Driver::stop_all (SIGTERM to all, SIGKILL at the end of one stop grace)
// and destroys them, whatever this loop is doing then; this loop starts a
// selfFence VM only while the lease holds (Fencer::while_lease_holds, checked
// under the fence's lock while converging) and none until a heartbeat is
// answered again; the answer's bindings then decide (still bound here at the
// same epoch, in an answer to the next round's beat: started again;
// re-placed: not). `fencing: none` VMs keep running. Each renewal also goes
// to SyncOptions::fence_lease, the fence watchdog's guard file, so that the
// VMs are fenced on time even when this agent is dead or frozen
// (agent/fence/watchdog.h).

// After an outage: the first answered beat reports no VM; its bindings are
// converged to (stale-epoch and no-longer-bound copies stopped first), and
// the full report follows in the same round — a copy the controller moved
// while it could not hear us is never reported as running.
//
// Startup: VMs in the state file are adopt()ed through the driver and kept
// until the first answer says otherwise (a controller down at startup does
// not stop anything). A corrupt state file is logged, kept beside as
// <file>.corrupt, and the view is rebuilt from Driver::list().
//
// Time: intervals and back-off on the Clock's steady time, so a wall-clock
// jump changes nothing; wall time only for timestamps in reports.
// Not thread-safe: run() or run_once() from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/control_plane.h"
#include "agent/drivers/driver.h"
#include "agent/fence/fencer.h"
#include "agent/host_usage.h"
#include "agent/metrics/metrics_source.h"
#include "agent/restart.h"
#include "agent/state_file.h"
#include "agent/tracked_vm.h"
#include "base/clock.h"
#include "base/metrics.h"

namespace corral::agent {

struct SyncOptions {
  std::string node;  // this node's name (DNS-1123), required
  // The lease holder; empty: "<node>/<pid>-<hex drawn from seed>", new at
  // every start.
  std::string holder_identity;
  // Seeds the random part of a generated holder identity. 0 by default, so
  // tests are reproducible; agent/main.cpp draws one from std::random_device
  // at every start (a restarted agent must not pass for the one before it).
  uint64_t seed = 0;
  Labels labels;              // applied when the first heartbeat creates the Node
  std::string address;        // host:port of the local endpoint
  std::string agent_version = "dev";
  HostUsageOptions host;      // capacity overrides, reserved, smoothing
  std::chrono::milliseconds heartbeat_interval{1000};  // 1 s
  // The longest wait between heartbeat attempts while they fail: 1 s, so
  // that a returning controller hears from every live node well within its
  // startup grace (reconcile::NodeLifecycleOptions::startup_grace, 10 s),
  // whatever the outage's length. A refused connection costs the controller
  // nothing; 5 s here once let a restarted controller judge live nodes.
  std::chrono::milliseconds max_retry_interval{1000};
  // A graceful stop (run() returning) sends one last beat saying "stopped for
  // a restart: keep my VMs for up to this long" (the controller grants at
  // most its pools' failover.restartWindowSeconds). 5 min; 0: say nothing,
  // and the node is judged as if the agent had died.
  std::chrono::milliseconds restart_window{300'000};
  // The lease grace assumed for self-fencing until an answer names one: 2 s,
  // the controller's default (FailoverPolicy::nodeGraceSeconds). Before the
  // first answer nothing is started, so it only matters in tests.
  std::chrono::milliseconds default_lease_grace{2000};
  int full_report_every = 30;  // every 30th heartbeat carries every VM
  // A VM's usage is resent when it moved by more than this fraction (10 %).
  double usage_report_change = 0.1;
  RestartBackoff::Options restart_backoff;  // 1 s doubling to 60 s, reset after 60 s
  std::filesystem::path state_file;         // empty: none (tests that do not care)
  std::string vm_host = "127.0.0.1";        // VmReport.address host for process VMs
  metrics::Registry* metrics = nullptr;     // not owned; null: a private registry
  // The host's use is the Σ of the driver's running instances' load instead of
  // /proc: for the sim driver standing in for a host (the agent sets it for
  // --driver sim), so that rebalancing sees the simulated load. Default false.
  bool simulated_host = false;
  // Where each fence deadline is also written for the fence watchdog (the
  // guard file); null: none (the sim driver, tests). Not owned.
  FenceLease* fence_lease = nullptr;
};

class SyncLoop {
 public:
  SyncLoop(ControlPlane& control_plane, Driver& driver, MetricsSource& source, const Clock& clock,
           SyncOptions options);
  ~SyncLoop();

  // One round, deterministic (the first also adopts from the state file).
  void run_once();
  // Rounds every heartbeat_interval until `stop`, then announces the restart
  // (restart_window) and writes the state file. VMs are left running: the
  // agent exits, its VMs stay.
  void run(std::stop_token stop);
  // Asks for a heartbeat now rather than at the next interval (the controller
  // nudges an agent whose bindings changed). Thread-safe.
  void poke();

  const std::string& holder_identity() const { return options_.holder_identity; }
  // True while the controller refuses the node to this agent (409).
  bool conflicted() const { return conflicted_; }
  // True once the controller has answered at least once.
  bool has_answer() const { return has_answer_; }
  // True while selfFence VMs are stopped because the lease could not be renewed.
  bool fenced() const { return fencer_.fenced(); }
  // The grace self-fencing is measured with: the last answer's leaseDurationSeconds.
  std::chrono::milliseconds lease_grace() const { return lease_grace_; }
  // When selfFence VMs will be stopped unless a heartbeat is answered first;
  // nullopt when none runs here, before the first answer, or once fenced.
  std::optional<std::chrono::steady_clock::time_point> fence_deadline() const;

 private:
  std::atomic<bool> poked_{false};
  std::mutex wake_mu_;
  std::condition_variable_any wake_;
  void recover();
  // Σ of the driver's running instances' load (SyncOptions::simulated_host).
  ResourceList simulated_host_use();
  // Whether something scheduled `at` is due in the round at `now`. A round may
  // wake a little early (timer slack, a wait measured on another clock);
  // without a tolerance of a tenth of the interval, a heartbeat or a restart
  // due then would slip a whole round (beats every 2 s instead of every 1 s).
  bool due(std::chrono::steady_clock::time_point at,
           std::chrono::steady_clock::time_point now) const {
    return now + options_.heartbeat_interval / 10 >= at;
  }
  void track_adopted(const InstanceStatus& instance, std::chrono::steady_clock::time_point now);
  void heartbeat(std::chrono::steady_clock::time_point now);
  // What every beat says about the host; VM reports are the caller's.
  HeartbeatRequest host_request() const;
  // The last beat of a graceful stop (SyncOptions::restart_window). Once: a
  // failure is logged, and the controller then judges the node by its lease.
  void announce_restart();
  // Fences now if the deadline has passed (the Fencer's thread usually has
  // already), and marks the tracked selfFence VMs fenced. Idempotent.
  void fence_if_due(std::chrono::steady_clock::time_point now);
  // Tells the Fencer which VMs are selfFence: bound (desired_) or tracked.
  void update_guarded();
  void on_heartbeat_error(const Error& error, std::chrono::steady_clock::time_point now);
  std::vector<VmReport> current_reports();
  static const InstanceStatus* reported_instance(const TrackedVm& vm,
                                                 const std::vector<InstanceStatus>& instances);
  // Whether some VM's phase differs from what the controller last acknowledged.
  bool phase_changed_since_ack();
  void converge(std::chrono::steady_clock::time_point now);
  void stop_unwanted(const std::vector<InstanceStatus>& instances);
  void converge_one(TrackedVm& vm, const InstanceStatus* instance,
                    std::chrono::steady_clock::time_point now);
  void start(TrackedVm& vm, bool restart, std::chrono::steady_clock::time_point now);
  void write_state_if_changed();

  ControlPlane& control_plane_;
  Driver& driver_;
  const Clock& clock_;
  SyncOptions options_;
  HostUsage host_;
  ReportContext report_context_;

  bool recovered_ = false;
  bool has_answer_ = false;
  bool conflicted_ = false;
  bool last_heartbeat_ok_ = false;
  // The last answered beat withheld the VM reports (the first after an
  // outage): the next one, in the same round, carries all of them.
  bool full_report_pending_ = false;
  int64_t heartbeats_attempted_ = 0;
  std::chrono::steady_clock::time_point next_heartbeat_{};
  std::chrono::milliseconds retry_delay_{0};  // 0: the last heartbeat succeeded
  // Self-fencing: the send time of the last answered heartbeat (nullopt
  // before the first), the grace the last answer named, and the Fencer that
  // stops the selfFence VMs at send + grace.
  std::optional<std::chrono::steady_clock::time_point> last_ack_sent_;
  std::chrono::milliseconds lease_grace_;
  Fencer fencer_;
  // The send of the first answered beat after a fence. A fenced VM starts
  // again only on an answer to a beat sent half an interval later or more
  // (in practice the next round's beat, as due() may fire a tenth early): the first
  // answer may have been built just before the controller marked the VM Lost
  // (its pass and our renewal raced), the later one is not.
  std::optional<std::chrono::steady_clock::time_point> fence_lifted_at_;

  std::map<std::string, BoundVm> desired_;    // the last answer's bindings
  std::map<std::string, TrackedVm> tracked_;  // every VM this agent runs or should
  std::map<std::string, VmReport> acked_;     // reports the controller acknowledged
  std::optional<AgentState> written_;         // the state file's content; nullopt: rewrite

  std::unique_ptr<metrics::Registry> own_metrics_;
  metrics::Counter* heartbeats_;
  metrics::CounterFamily* heartbeat_failures_;
  metrics::Histogram* heartbeat_seconds_;
  metrics::Gauge* vms_running_;
  metrics::Counter* restarts_;
};

}  // namespace corral::agent
