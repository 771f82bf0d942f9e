// The soak's judgements (tests/support/soak.h), kept pure so that the rules
// themselves are tested (tests/unit/soak_invariants_test.cpp): which copies
// of a VM may run at once, how long a placement took once the controller's
// outages are taken out, and how much a sampled resource grew.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace corral::testing {

// One running copy of a VM, as a host shows it: a process-driver VM is a
// process-group leader whose environment names it (CORRAL_VM_NAME,
// CORRAL_NODE, CORRAL_EPOCH, set by agent/drivers/process_driver.h); a sim
// VM is an entry of its agent's state file.
struct VmCopy {
  std::string vm;
  std::string node;
  int64_t epoch = 0;
};

// What the product promises about copies (agent/sync_loop.h, "Self-fencing";
// ARCHITECTURE.md "Split-brain"), checked against one sample of every copy:
//  - never two copies of a VM on one node, nor two copies of one epoch;
//  - a `fencing: selfFence` VM never runs twice, not even for a moment: the
//    copy on a dead agent's host is stopped by its fence watchdog before the
//    controller re-places the VM;
//  - a `fencing: none` VM may keep a stale copy on a host whose agent is
//    dead, or back but not yet `settled` (it has not yet converged to an
//    answer of the controller: the agent stops stale-epoch copies in the
//    round of its first answered heartbeat, before reporting them). Two
//    copies on settled hosts are a violation.
// `settled(node)`: that node's agent runs and has converged since it started
// (the soak asks for >= 2 answered heartbeats, read before the copies were).
// `self_fence(vm)`: the VM's fencing is selfFence.
// Returns one line per violation, naming the VM and where its copies run.
// `tolerated` (optional): incremented per VM that runs twice within the rules
// (a stale unfenced copy beside a dead or unsettled agent), so a caller can
// tell that the rule was exercised.
std::vector<std::string> copy_violations(const std::vector<VmCopy>& copies,
                                         const std::function<bool(const std::string&)>& settled,
                                         const std::function<bool(const std::string&)>& self_fence,
                                         int* tolerated = nullptr);

using SoakClock = std::chrono::steady_clock;

// [down, up) intervals during which the controller was dead or restarting
// (from its kill to its ready file). An interval still open has up == max().
using Outages = std::vector<std::pair<SoakClock::time_point, SoakClock::time_point>>;

// How long of [from, to) the controller was up: to - from minus every
// outage's overlap with it. A placement's latency, outages excluded.
std::chrono::duration<double> up_time_between(SoakClock::time_point from, SoakClock::time_point to,
                                              const Outages& outages);

// A resource's growth over the run: the median of the first `fraction` of
// the samples taken after `warmup` against the median of the last `fraction`
// of all samples. `samples`: (seconds since the start, value), in time order.
struct Growth {
  double early = 0;   // median of the first window after the warm-up
  double late = 0;    // median of the last window
  double percent = 0; // (late - early) / early × 100; 0 when early is 0
  int early_samples = 0;
  int late_samples = 0;
};
Growth growth_after_warmup(const std::vector<std::pair<double, double>>& samples, double warmup_s,
                           double fraction);

}  // namespace corral::testing
