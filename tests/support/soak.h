// The churn soak of issue 17 §4, shared by bench/soak.cpp (60 minutes) and
// tests/e2e/soak_test.cpp (5 minutes).
//
// run_soak() starts a real corral-controller on a SQLite file in a temp dir
// (127.0.0.1, a free port kept across its restarts), `real_agents`
// corral-agents with the process driver (each VM a real `/bin/sleep` process)
// and `sim_agents` corral-agents with the sim driver (real agent processes
// whose VMs are simulated: the agent code under test is the one that ships,
// only the driver is simulated). Then, until `duration` has passed:
//
//   churn        every churn_period: create a VMSet, scale one, or delete one
//                (a VMSet name is never reused), in two pools sized so that
//                every set fits even with one real agent down
//   agent kills  every agent_kill_period: kill -9 a random real agent, wait
//                agent_down (its VMs are failed over), start it again on the
//                same data dir (it adopts or stops its old copies)
//   controller   every controller_restart_period: kill -9 the controller and
//                start it again on the same file and port
//   checker      every check_period: (a) no VM runs twice (soak_invariants.h:
//                copy_violations) — process VMs counted in /proc by the
//                environment the process driver gives them, sim VMs from
//                their agents' state files; (b) every VM of a set created or
//                scaled up is bound (spec.nodeName) within placement_deadline
//                of the write's acknowledgement, the controller's outages
//                (kill to ready file) taken out; (c) after every controller
//                restart and at the end, every acknowledged create and update
//                is there (resourceVersion >= the acknowledged one, replicas
//                as acknowledged) and every acknowledged delete stays deleted
//   resources    every resource_period: the controller's RSS, open fds and
//                threads, the database's size (file + WAL), and the same
//                three for one sim agent that is never killed
//
// Bounded: at most max_sets VMSets live at once, every wait has a deadline,
// and everything started is stopped at the end (even on failure: RAII over
// the processes, and the VM processes and fence watchdogs the agents leave
// behind by design are found by this run's marker and killed). Traffic goes to
// 127.0.0.1 only. Not thread-safe: one run_soak() per process at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tests/support/soak_invariants.h"

namespace corral::testing {

struct SoakOptions {
  std::chrono::seconds duration{3600};                 // 60 min, the soak
  std::chrono::seconds agent_kill_period{30};          // kill -9 a real agent every 30 s
  std::chrono::seconds agent_down{5};                  // before it is started again: past the 2 s grace
  std::chrono::seconds controller_restart_period{600};  // kill -9 the controller every 10 min
  std::chrono::milliseconds churn_period{3000};        // one VMSet write every 3 s
  int sim_agents = 50;
  int real_agents = 5;
  std::chrono::milliseconds check_period{1000};       // the invariant checker's sample
  std::chrono::seconds resource_period{5};             // RSS, fds, threads, database size
  std::chrono::seconds placement_deadline{5};          // (b): every VM bound within 5 s
  // While a write waits for its VMs to be bound, the VMs are listed this
  // often: the resolution of the placement latency. 250 ms.
  std::chrono::milliseconds placement_poll{250};
  // Resource growth: the median of the first growth_window of the samples
  // after the warm-up against the median of the last growth_window.
  double warmup_fraction = 0.1;                        // the first 10 % of the run
  double growth_window = 0.1;
  double growth_limit_percent = 5;                     // flagged above 5 %
  int max_sets = 12;                                   // VMSets live at once
  int max_real_replicas = 4;                           // per set on the process agents
  int max_sim_replicas = 20;                           // per set on the sim agents
  uint64_t seed = 17;
  // More corral-controller flags, e.g. {"--event-ttl", "5m"}: Events are kept
  // for --event-ttl (1 h by default), so within the first hour the store
  // grows by design with every Event the churn causes; a TTL shorter than the
  // warm-up lets the growth figures show leaks alone. None by default.
  std::vector<std::string> controller_args;
  // Progress lines (one per event worth knowing: restarts, kills, violations,
  // a minute's summary); null: none.
  std::function<void(const std::string&)> log;
};

struct ResourceReport {
  std::string name;  // "controller RSS", ...
  std::string unit;  // "MiB", "fds", ...
  Growth growth;
  bool flagged = false;  // growth.percent > growth_limit_percent
  // Judged (flagged fails the soak), or shown for information: the median
  // windows of the controller's resources once lives are compared at their
  // ends (SoakReport::lives).
  bool target = true;
};

struct SoakReport {
  std::string error;  // non-empty: the soak could not run (set-up or a restart failed)
  double seconds = 0;
  std::vector<std::string> violations;  // the first 50, each with its time
  int violation_count = 0;
  int copy_samples = 0;       // checker samples of every VM copy
  int max_copies_seen = 0;    // VM copies (process + sim) in the largest sample
  // Samples × VMs seen with a stale unfenced copy beside a dead or unsettled
  // agent (allowed): the fail-over path the copy rule judges was exercised.
  int stale_copies_tolerated = 0;
  int placements_checked = 0;
  int placements_late = 0;
  double max_placement_s = 0; // outages excluded; polled (placement_poll), so an upper bound
  int objects_checked = 0;    // acknowledged objects compared after restarts and at the end
  int controller_restarts = 0;
  int agent_kills = 0;
  int creates = 0, scales = 0, deletes = 0;
  int unacknowledged_writes = 0;  // failed writes (mostly while the controller was down)
  std::vector<ResourceReport> resources;
  // The controller between its restarts: RSS (MiB), fds, threads and the
  // database's size (MiB) at the first and last sample of each life (-1: no
  // sample). The first life is the warm-up: growth "at life ends" runs from
  // the end of the second to the end of the last full one.
  struct Life {
    double from_s = 0, to_s = 0;
    std::vector<double> first, last;  // RSS, fds, threads, database
  };
  std::vector<Life> lives;
  bool resources_ok() const;
  bool ok() const { return error.empty() && violation_count == 0 && resources_ok(); }
  // The report as printed by bench/soak.cpp, one figure per line.
  std::string format(double growth_limit_percent) const;
};

SoakReport run_soak(const SoakOptions& options);

}  // namespace corral::testing
