#include "agent/restart.h"

#include <algorithm>

namespace corral::agent {

namespace {
constexpr int kSignalExitBase = 128;  // the driver's exit_code for "killed by signal N"
constexpr int kExitCodeUnknown = -1;  // an adopted process: not our child, no wait status
}  // namespace

RestartPolicy parse_restart_policy(const std::string& text) {
  if (text == "OnFailure") return RestartPolicy::kOnFailure;
  if (text == "Never") return RestartPolicy::kNever;
  return RestartPolicy::kAlways;
}

bool ended_in_failure(const InstanceStatus& status) {
  if (status.state == InstanceState::kFailedToStart) return true;
  return status.exit_code != 0;
}

bool should_restart(RestartPolicy policy, const InstanceStatus& status) {
  switch (policy) {
    case RestartPolicy::kAlways:
      return true;
    case RestartPolicy::kOnFailure:
      return ended_in_failure(status);
    case RestartPolicy::kNever:
      return false;
  }
  return false;
}

std::string last_error_of(const InstanceStatus& status) {
  switch (status.state) {
    case InstanceState::kRunning:
      return "";
    case InstanceState::kFailedToStart: {
      // The drivers already word it "failed to start: ..."; keep one prefix.
      const std::string prefix = "failed to start";
      if (status.message.rfind(prefix, 0) == 0) return status.message;
      return prefix + ": " + status.message;
    }
    case InstanceState::kExited:
      break;
  }
  if (status.exit_code == 0) return "";
  if (status.exit_code == kExitCodeUnknown) return "exit code unknown (" + status.message + ")";
  // exit_code alone cannot tell "exit 137" from SIGKILL; the message can.
  if (status.exit_code > kSignalExitBase && status.message.rfind("killed by signal", 0) == 0)
    return "killed by signal " + std::to_string(status.exit_code - kSignalExitBase);
  return "exit code " + std::to_string(status.exit_code);
}

std::chrono::milliseconds RestartBackoff::next_delay(std::chrono::steady_clock::time_point started,
                                                     std::chrono::steady_clock::time_point now) {
  if (now - started >= options_.reset_after) next_ = options_.initial;
  std::chrono::milliseconds delay = next_;
  next_ = std::min(next_ * 2, options_.max);
  return delay;
}

}  // namespace corral::agent
