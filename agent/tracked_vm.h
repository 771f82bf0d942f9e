// What the sync loop remembers of each VM it runs between rounds (restarts,
// back-off, last error, when the copy started), and the VmReport derived from
// it and the driver's view. Reports are compared with the last acknowledged
// ones so that a heartbeat carries only what changed.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/drivers/driver.h"
#include "agent/restart.h"
#include "api/heartbeat.h"

namespace corral::agent {

struct TrackedVm {
  // The binding from the controller's last answer; for an adopted VM not yet
  // confirmed by an answer only name and epoch are known (spec_known false),
  // so it is kept running but cannot be restarted.
  BoundVm binding;
  bool spec_known = false;

  int32_t restarts = 0;  // restarts of this binding (epoch) on this node
  RestartBackoff backoff;
  // Set when the copy ended and a restart is due at this (steady) time.
  std::optional<std::chrono::steady_clock::time_point> restart_at;
  // The copy ended and restartPolicy says it stays down.
  bool given_up = false;
  // A start the driver refused outright (an Error, so nothing is listed);
  // treated like an instance that failed to start.
  std::optional<InstanceStatus> refused_start;

  // Stopped by self-fencing (fencing: selfFence, lease not renewed); started
  // again only if an answer still binds it here at the same epoch.
  bool fenced = false;

  bool started = false;  // a copy was started or adopted
  std::chrono::steady_clock::time_point started_steady{};  // for the back-off reset
  std::chrono::system_clock::time_point started_wall{};    // reported startTime
  // lastError of the most recent ended copy; cleared by a clean exit (code 0).
  std::string last_error;
  std::string message;  // what happened last, in words ("restarting in 4s")
};

inline constexpr const char* kSelfFence = "selfFence";  // BoundVm::fencing

struct ReportContext {
  std::string vm_host = "127.0.0.1";  // address host of VMs that have a port
};

// The report of one VM. `instance` is the driver's view (null when the driver
// does not list it); `stats` its measured use (null when not running).
VmReport make_report(const TrackedVm& vm, const InstanceStatus* instance,
                     const InstanceStats* stats, const ReportContext& context);

// Whether `now` must be sent after `acked` was acknowledged: any field other
// than usage differs, or usage moved by more than `usage_change` (a fraction,
// 0.1 = 10 %) — measured use wobbles every second, and a full report every
// 30th heartbeat carries it anyway.
// The phase a report gives `vm` with its driver instance (null: none):
// Running, Starting (also while a restart is pending) or Failed (given up).
const char* phase_of(const TrackedVm& vm, const InstanceStatus* instance);

bool report_changed(const VmReport& acked, const VmReport& now, double usage_change);

}  // namespace corral::agent
