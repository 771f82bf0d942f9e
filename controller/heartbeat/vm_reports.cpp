#include "controller/heartbeat/vm_reports.h"

#include <cstdlib>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::heartbeat {

namespace {

// Usage within `fraction` of the VM's requests of what is stored is not worth
// a durable write; a resource without a request is compared exactly.
bool small_drift(const Quantity& stored, const Quantity& next, const Quantity& request,
                 double fraction) {
  if (stored == next) return true;
  if (stored.empty() != next.empty() || request.milli <= 0) return false;
  return static_cast<double>(std::llabs(next.milli - stored.milli)) <=
         fraction * static_cast<double>(request.milli);
}

VMStatus merged(const VM& vm, const std::string& node, const VmReport& r) {
  VMStatus st = vm.status;
  if (st.phase != vm_phase::kTerminating) st.phase = r.phase;
  st.nodeName = node;
  st.epoch = r.epoch;
  st.usage = r.usage;
  st.restarts = r.restarts;
  st.lastError = r.lastError;
  st.address = r.address;
  st.pid = r.pid;
  st.startTime = r.startTime;
  st.message = r.message;
  st.conditions = r.conditions;
  st.observedGeneration = vm.metadata.generation;
  return st;
}

}  // namespace

Result<ReportOutcome> apply_vm_report(store::Store& store, events::EventRecorder& events,
                                      const std::string& node, const VmReport& report,
                                      const ReportOptions& options) {
  auto log = logger("heartbeat");
  for (int attempt = 0;; ++attempt) {
    auto record = store.get("VM", report.name);
    if (!record) {
      if (record.error().code != ErrorCode::kNotFound) return record.take_error();
      log->debug("node/{} reports vm/{}, which does not exist: ignored", node, report.name);
      return ReportOutcome::kIgnored;
    }
    auto vm = from_json<VM>((*record)->parse());
    if (!vm) {
      log->error("BUG: stored vm/{} does not decode: {}", report.name, vm.error().message);
      return make_error(ErrorCode::kInternal, "stored vm " + report.name + " does not decode");
    }
    if (vm->spec.nodeName != node || vm->spec.epoch != report.epoch ||
        vm->status.phase == vm_phase::kLost) {
      log->debug("node/{} reports vm/{} epoch {}, bound to node/{} epoch {} ({}): ignored", node,
                 report.name, report.epoch, vm->spec.nodeName, vm->spec.epoch,
                 vm->status.phase.empty() ? "no phase" : vm->status.phase);
      return ReportOutcome::kIgnored;
    }
    VMStatus next = merged(*vm, node, report);
    const ResourceList& req = vm->spec.resources;
    if (small_drift(vm->status.usage.cpu, next.usage.cpu, req.cpu,
                    options.usage_change_fraction) &&
        small_drift(vm->status.usage.memory, next.usage.memory, req.memory,
                    options.usage_change_fraction)) {
      next.usage = vm->status.usage;
    }
    if (same_json(next, vm->status)) return ReportOutcome::kUnchanged;

    const std::string before = vm->status.phase;
    const int32_t restarts_before = vm->status.restarts;
    const std::string uid = vm->metadata.uid;
    vm->status = std::move(next);
    // Validated like a PUT /status (a report's conditions, say): Invalid is
    // the agent's to fix, and the heartbeat answers it as 422.
    auto normalized = normalize_object(to_json(*vm));
    if (!normalized) return normalized.take_error();
    auto written = store.update_status("VM", std::move(*normalized));
    if (!written) {
      if (written.error().code == ErrorCode::kConflict && attempt < options.conflict_retries)
        continue;
      return written.take_error();
    }
    if (vm->status.phase != before)
      log->info("vm/{} on node/{}: {} → {}", report.name, node,
                before.empty() ? "(none)" : before, vm->status.phase);
    if (vm->status.phase == vm_phase::kFailed && before != vm_phase::kFailed) {
      std::string message = "vm " + report.name + " failed on node " + node;
      if (!report.lastError.empty()) message += ": " + report.lastError;
      // The status is written; a lost Event is logged by the recorder and
      // does not fail the heartbeat.
      (void)events.record({"VM", report.name, uid}, event_type::kWarning, "VMFailed", message, node);
    }
    if (report.restarts > restarts_before) {
      // The agent restarts only VMs that ended (restartPolicy), so a restart
      // is a failure it recovered from: Warning, as Kubernetes' BackOff.
      std::string message = "vm/" + report.name + " restarted on node/" + node + " (restart " +
                            std::to_string(report.restarts) + ")";
      if (!report.lastError.empty()) message += " after: " + report.lastError;
      (void)events.record({"VM", report.name, uid}, event_type::kWarning, "Restarted", message, node);
    }
    return ReportOutcome::kWritten;
  }
}

}  // namespace corral::heartbeat
