// Turning an agent's VmReport into VM.status.
//
// A report is written only for the copy the controller wants on that node:
// the VM exists, spec.nodeName is the reporting node, spec.epoch is the
// report's epoch (a stale copy of a re-placed VM is fenced by its epoch), and
// the VM is not Lost (its node was declared dead; the scheduler re-places it).
// Anything else is ignored (debug log): the heartbeat's answer already tells
// the agent to stop such a copy.
//
// The write is a merge of the report's fields into the stored status, and is
// skipped when nothing but small usage drift differs. A Terminating phase is
// kept (deletion is the controller's decision, not the agent's).
//
// Thread safety: pure functions over the (thread-safe) store.
#pragma once

#include <string>

#include "base/error.h"
#include "api/heartbeat.h"
#include "controller/events/event_recorder.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

enum class ReportOutcome {
  kWritten,    // VM.status changed
  kUnchanged,  // nothing (or only small usage drift) differed
  kIgnored,    // not this node's copy: missing VM, other node, stale epoch, Lost
};

struct ReportOptions {
  double usage_change_fraction = 0.05;  // of the VM's requests; see HeartbeatOptions
  int conflict_retries = 5;
};

// Errors: Conflict after the retries, the store's. A transition into Failed
// also writes a Warning Event VMFailed naming lastError; a report whose
// restart count is above the stored one a Warning Event Restarted
// "vm/x restarted on node/y (restart 3) after: exit code 1".
Result<ReportOutcome> apply_vm_report(store::Store& store, events::EventRecorder& events,
                                      const std::string& node, const VmReport& report,
                                      const ReportOptions& options);

}  // namespace corral::heartbeat
