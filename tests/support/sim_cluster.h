// SimCluster: a whole Corral cluster in one process, on one FakeClock, with no
// threads and no sockets (Envoy's SimulatedTimeSystem, Nomad's scheduler
// Harness; CONVENTIONS.md 22).
//
//   FakeClock ──────────────────────────────────────────────────────────────┐
//   memory store ◄── ControllerManager::run_once()  (every loop, in order)   │
//        ▲     └──► HeartbeatService::handle(node, Json)  ◄── in-process     │
//        │                                                    ControlPlane   │
//        │                                                       ▲           │
//        │                          N × agent::SyncLoop::run_once() on its   │
//        └── apply(yaml | object)       own agent::SimDriver (the "host") ───┘
//
// step(d) advances the clock tick by tick (SimClusterOptions::tick). Each tick,
// in this fixed order: the clock moves; the heartbeat service takes the store's
// changes (sync()); the peer probes asked for in the last pass are answered;
// each host's fence watchdog looks at its deadline; every agent whose round is
// due runs one round (in the order the nodes were added); the controller runs
// one pass; the after-tick hooks run. Same inputs, same run: placements,
// names and timings are identical from one run to the next.
//
// What is real: the controller's loops, the heartbeat service, the agents'
// sync loops (heartbeat, converge, restart back-off, self-fencing), the JSON
// codecs of the heartbeat. What is simulated: the host (SimDriver), the
// transport (a function call), the peer probe (a probe reaches a node exactly
// when its agent runs), the fence watchdog (at the deadline the agent last
// renewed, it stops the host's selfFence VMs, whether or not the agent runs),
// and the controller's nudge of an agent that got new bindings (its round
// runs at the next tick, as a real agent beats when poked).
//
// Use it for cluster scenarios whose length is waiting (grace periods,
// back-offs, hold timers) and for scale; tests/e2e keeps what only real
// binaries show (processes, sockets, files, signals). See tests/README.md.
//
// Not thread-safe: one thread drives it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/drivers/sim_driver.h"
#include "api/json_fwd.h"
#include "api/types.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/metrics.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "controller/loops/controller_manager.h"
#include "controller/store/store.h"

namespace corral::agent {
class SyncLoop;
}

namespace corral::testing {

struct SimClusterOptions {
  // Time moves in steps of this much: 100 ms (agents' rounds and the
  // controller's passes happen at tick boundaries).
  std::chrono::milliseconds tick{100};
  // Every agent's round: 1 s, as corral-agent's default.
  std::chrono::milliseconds heartbeat_interval{1000};
  // The controller's loops. writer_threads is forced to 0 (writes inline, in
  // order: deterministic); the seeds are fixed here so names repeat.
  loops::ControllerManagerOptions manager = default_manager();
  // The heartbeat service. watch_in_background is forced to false (each tick
  // calls sync()); no persist jitter by default, so writes repeat exactly.
  heartbeat::HeartbeatOptions heartbeat = default_heartbeat();
  // Model each host's fence watchdog (agent/fence/watchdog.h): true.
  bool fence_watchdog = true;

  static loops::ControllerManagerOptions default_manager();
  static heartbeat::HeartbeatOptions default_heartbeat();
};

// A host and what its agent is started with.
struct SimNode {
  std::string name;
  Labels labels;              // applied when the first heartbeat registers the Node
  int64_t cpu_milli = 8000;   // capacity (the agent's --cpu): 8 cores
  int64_t memory_bytes = int64_t{32} << 30;  // capacity (--memory): 32 GiB
};

enum class SimAgentState {
  kRunning,  // beats every heartbeat_interval
  kFrozen,   // SIGSTOPped: keeps its state, does nothing until thawed
  kKilled,   // kill -9: gone; its host (SimDriver) keeps running its VMs
};

// One running copy of a VM, as a host's driver lists it.
struct SimCopy {
  std::string node;
  int64_t epoch = 0;
  bool agent_running = false;  // its host's agent is kRunning
};

class SimCluster {
 public:
  explicit SimCluster(SimClusterOptions options = {});
  ~SimCluster();
  SimCluster(const SimCluster&) = delete;
  SimCluster& operator=(const SimCluster&) = delete;

  // ---- building --------------------------------------------------------------
  // A host and its agent; the agent's first round comes within one interval
  // (rounds are spread over the interval by the order of addition), and it
  // registers the Node with its first heartbeat.
  void add_node(const SimNode& node);
  // Creates every object of a manifest (YAML, several documents) or replaces
  // it when it exists (spec and metadata; `kubectl apply` without the merge),
  // normalised and admitted as the API server does. Errors: the first
  // document that fails, with file:line.
  Result<void> apply_yaml(std::string_view yaml);
  Result<void> apply(const Json& object);
  Result<void> apply(const Pool& object);
  Result<void> apply(const VMSet& object);
  // Sets spec.replicas of a VMSet; spec.unschedulable of a Node (cordon).
  Result<void> scale(const std::string& vmset, int32_t replicas);
  Result<void> cordon(const std::string& node, bool on);

  // ---- time ------------------------------------------------------------------
  // Advances the clock by `d` (rounded up to whole ticks), tick by tick.
  void step(std::chrono::milliseconds d);
  // Ticks until `done()` holds (checked after every tick, and once before the
  // first) or `limit` has passed. Returns whether it held.
  bool step_until(const std::function<bool()>& done, std::chrono::milliseconds limit);
  // Called after every tick, in the order added: invariant checks.
  void after_each_tick(std::function<void()> hook);
  // Simulated time since the cluster was made.
  std::chrono::milliseconds elapsed() const;

  // ---- faults ----------------------------------------------------------------
  // kill -9 of the agent: it stops beating; its VMs keep running on the host.
  void kill_agent(const std::string& node);
  void freeze_agent(const std::string& node);  // SIGSTOP
  void thaw_agent(const std::string& node);    // SIGCONT: the same agent goes on
  // A new agent process (new holder identity, fresh state) on the same host:
  // it finds the host's VMs in the driver, as a restarted corral-agent does.
  void restart_agent(const std::string& node);
  // The VM's copy on `node` ends with `exit_code` (SimDriver::crash).
  Result<void> crash_vm(const std::string& node, const std::string& vm, int exit_code = 1);
  // The controller process dies (heartbeats fail: connection refused) and,
  // with start_controller(), comes back over the same store with new leases
  // and caches, as corral-controller restarted on its data dir.
  void stop_controller();
  void start_controller();
  bool controller_running() const { return controller_ != nullptr; }

  // ---- queries ---------------------------------------------------------------
  // Every running copy of every VM on every host, by VM name.
  std::map<std::string, std::vector<SimCopy>> running_copies() const;
  // The "no VM runs twice" rules, broken now: two running copies of one VM
  // with the same epoch anywhere; two of a selfFence VM anywhere; two of any
  // VM on hosts whose agents run (a dead host's fencing:none copy may run on
  // until its agent returns and stops it). One line per breach; empty: none.
  std::vector<std::string> double_runs() const;
  // VMs as the store has them (the controller's cache when it runs, which
  // run_once() leaves in step with the store).
  std::vector<VM> vms() const;
  std::optional<VM> vm(const std::string& name) const;
  std::optional<Node> node(const std::string& name) const;
  // VM name → spec.nodeName ("" unbound).
  std::map<std::string, std::string> placements() const;
  // VMs that run where they are bound: phase Running, reported from the bound
  // node at the bound epoch. With `vmset`, only that set's.
  size_t running(const std::string& vmset = "") const;
  std::vector<std::string> node_names() const;
  SimAgentState agent_state(const std::string& node) const;

  FakeClock& clock() { return clock_; }
  store::Store& store() { return *store_; }
  agent::SimDriver& driver(const std::string& node);
  // The running controller's parts (the controller must be running).
  loops::ControllerManager& manager();
  heartbeat::HeartbeatService& heartbeats();
  metrics::Registry& controller_metrics();
  // Wall time spent in the controller's passes and in the agents' rounds
  // since the cluster was made: where a scale run spends its time.
  std::chrono::nanoseconds controller_wall() const { return controller_wall_; }
  std::chrono::nanoseconds agents_wall() const { return agents_wall_; }
  // What went wrong inside the harness itself (a controller pass or the
  // heartbeat service's sync that returned an error): tests expect none.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  struct Host;
  struct Controller;
  class ControlPlane;  // the in-process agent::ControlPlane
  class Prober;        // the simulated loops::PeerProber
  class Notifier;      // the simulated loops::AgentNotifier (the controller's nudge)

  void tick();
  void start_agent(Host& host);
  void run_watchdog(Host& host);
  Host& host(const std::string& node);
  const Host& host(const std::string& node) const;
  Result<Json> beat(const std::string& node, const Json& body);
  Result<void> create_or_replace(Json object);
  void fail(std::string what);

  SimClusterOptions options_;
  FakeClock clock_;
  const std::chrono::steady_clock::time_point started_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<Prober> prober_;
  std::unique_ptr<Notifier> notifier_;      // outlives the controller that calls it
  std::unique_ptr<Controller> controller_;  // null while stopped
  metrics::Registry agent_metrics_;         // shared by every agent (their sums)
  std::vector<std::unique_ptr<Host>> hosts_;  // in the order added: the order of rounds
  std::map<std::string, size_t> host_index_;
  std::vector<std::function<void()>> hooks_;
  std::chrono::nanoseconds controller_wall_{0};
  std::chrono::nanoseconds agents_wall_{0};
  std::vector<std::string> errors_;
};

}  // namespace corral::testing
