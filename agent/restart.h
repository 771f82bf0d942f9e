// Restart decisions for VMs that stopped running on their own: whether to
// start them again (restartPolicy), how long to wait first (back-off), and the
// lastError that is reported for them. Pure functions and a small value type,
// so that the sync loop's policy is tested without a loop.
#pragma once

#include <chrono>
#include <string>

#include "agent/drivers/driver.h"

namespace corral::agent {

enum class RestartPolicy { kAlways, kOnFailure, kNever };

// "Always" | "OnFailure" | "Never". Validation refuses anything else, so an
// unknown value (a newer controller) falls back to the API's default, Always.
RestartPolicy parse_restart_policy(const std::string& text);

// True when `status` ended in a failure: a non-zero exit code, a signal, an
// unknown exit code (an adopted process), or a failed start.
bool ended_in_failure(const InstanceStatus& status);

// Whether an instance that is no longer running is started again.
// REQUIRES: status.state != kRunning.
bool should_restart(RestartPolicy policy, const InstanceStatus& status);

// The VM's lastError for an ended instance: "exit code 1", "killed by signal 9",
// "failed to start: ...", "exit code unknown (...)"; EMPTY on a clean exit 0,
// which is what restartPolicy OnFailure is judged on by the controller.
std::string last_error_of(const InstanceStatus& status);

// Exponential back-off between restarts of one VM: initial, 2 × initial, ...
// capped at max; a copy that ran for reset_after before it ended starts the
// sequence over (CrashLoopBackOff's rule in the kubelet). Times are steady-clock
// times passed in by the caller.
class RestartBackoff {
 public:
  struct Options {
    std::chrono::milliseconds initial{1000};       // first delay: 1 s
    std::chrono::milliseconds max{60000};          // cap: 60 s
    std::chrono::milliseconds reset_after{60000};  // ran this long: back to `initial`
  };

  RestartBackoff() : RestartBackoff(Options{}) {}
  explicit RestartBackoff(Options options) : options_(options), next_(options.initial) {}

  // The delay before restarting a copy that started at `started` and was found
  // ended at `now`; the following call returns twice as much (up to max).
  std::chrono::milliseconds next_delay(std::chrono::steady_clock::time_point started,
                                       std::chrono::steady_clock::time_point now);

 private:
  Options options_;
  std::chrono::milliseconds next_;
};

}  // namespace corral::agent
