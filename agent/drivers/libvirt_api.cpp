#include "agent/drivers/libvirt_api.h"

#include <libvirt/virterror.h>

#include <mutex>

namespace corral::agent {

namespace {

// Exit codes reported for domains, in the process driver's terms so that the
// agent's restart policy reads them the same way: 0 for a clean end, 128 + 9
// for a forced power-off (as SIGKILL), 1 for a failure, -1 when unknown.
constexpr int kExitClean = 0;
constexpr int kExitFailure = 1;
constexpr int kExitForced = 128 + 9;

void ignore_error(void* /*user_data*/, virErrorPtr /*error*/) {}

}  // namespace

void install_libvirt_error_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    virInitialize();
    virSetErrorFunc(nullptr, &ignore_error);
  });
}

std::string libvirt_last_message() {
  const char* m = virGetLastErrorMessage();  // never null: "no error" when none
  return m ? m : "unknown libvirt error";
}

bool libvirt_no_domain() { return virGetLastErrorCode() == VIR_ERR_NO_DOMAIN; }

Error libvirt_error(const std::string& what) {
  ErrorCode code = ErrorCode::kUnavailable;
  switch (virGetLastErrorCode()) {
    case VIR_ERR_NO_DOMAIN:
      code = ErrorCode::kNotFound;
      break;
    case VIR_ERR_OPERATION_INVALID:
      code = ErrorCode::kConflict;
      break;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_CONFIG_UNSUPPORTED:
    case VIR_ERR_INVALID_ARG:
      code = ErrorCode::kBadRequest;
      break;
    case VIR_ERR_OPERATION_TIMEOUT:
      code = ErrorCode::kTimeout;
      break;
    default:
      break;
  }
  return make_error(code, what + ": " + libvirt_last_message());
}

void apply_domain_state(InstanceStatus& status, int state, int reason) {
  auto exited = [&](int code, const char* message) {
    status.state = InstanceState::kExited;
    status.exit_code = code;
    status.message = message;
  };
  switch (state) {
    case VIR_DOMAIN_SHUTOFF:
      switch (reason) {
        case VIR_DOMAIN_SHUTOFF_SHUTDOWN:
          return exited(kExitClean, "shut down");
        case VIR_DOMAIN_SHUTOFF_DESTROYED:
          return exited(kExitForced, "destroyed (forced off)");
        case VIR_DOMAIN_SHUTOFF_CRASHED:
          return exited(kExitFailure, "crashed");
        case VIR_DOMAIN_SHUTOFF_MIGRATED:
          return exited(kExitClean, "migrated to another host");
        case VIR_DOMAIN_SHUTOFF_SAVED:
          return exited(kExitClean, "saved to a file");
        case VIR_DOMAIN_SHUTOFF_FAILED:
          return exited(kExitFailure, "failed");
        case VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT:
          return exited(kExitClean, "shut off by a snapshot restore");
        case VIR_DOMAIN_SHUTOFF_DAEMON:
          return exited(kExitForced, "killed by the libvirt daemon");
        default:
          return exited(kExitUnknown, "shut off");
      }
    case VIR_DOMAIN_CRASHED:
      return exited(kExitFailure, "crashed");
    default:
      // NOSTATE, RUNNING, BLOCKED, PAUSED, SHUTDOWN (in progress), PMSUSPENDED:
      // the domain exists and holds its memory, so it counts as running.
      status.state = InstanceState::kRunning;
      status.exit_code = 0;
      status.message = state == VIR_DOMAIN_PAUSED ? "paused" : "";
      return;
  }
}

}  // namespace corral::agent
