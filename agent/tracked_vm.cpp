#include "agent/tracked_vm.h"

#include <algorithm>
#include <cstdlib>

#include "base/clock.h"
#include "api/codec.h"

namespace corral::agent {

const char* phase_of(const TrackedVm& vm, const InstanceStatus* instance) {
  if (instance && instance->state == InstanceState::kRunning) return vm_phase::kRunning;
  // Failed only once the agent has given up. While a restart is pending the
  // VM is Starting: the controller's VMSet loop replaces Failed VMs
  // (replaces_failed), and it must not replace one this agent is about to
  // restart. lastError and restarts say that it is crash-looping.
  if (vm.given_up) return vm_phase::kFailed;
  // Ended, and the loop has not decided yet (it does after the heartbeat):
  // say now what it will decide, so the phase does not flap.
  if (instance && !vm.restart_at && vm.spec_known &&
      !should_restart(parse_restart_policy(vm.binding.restartPolicy), *instance))
    return vm_phase::kFailed;
  return vm_phase::kStarting;
}

namespace {

Condition limits_condition(const InstanceStatus& instance, const TrackedVm& vm) {
  Condition c;
  c.type = "LimitsEnforced";
  c.status = instance.limits_enforced ? condition_status::kTrue : condition_status::kFalse;
  c.reason = instance.limits_enforced ? "Enforced" : "NotEnforced";
  c.message = instance.limits_message;
  // Limits are settled when a copy starts, so that is when the condition last
  // changed; a stable time keeps the report from changing every round.
  if (vm.started) c.lastTransitionTime = format_time(vm.started_wall);
  return c;
}

bool moved(int64_t before, int64_t now, double fraction) {
  int64_t base = std::max(std::abs(before), std::abs(now));
  return static_cast<double>(std::abs(now - before)) > fraction * static_cast<double>(base);
}

}  // namespace

VmReport make_report(const TrackedVm& vm, const InstanceStatus* instance,
                     const InstanceStats* stats, const ReportContext& context) {
  VmReport r;
  r.name = vm.binding.name;
  r.epoch = instance ? instance->epoch : vm.binding.epoch;
  r.phase = phase_of(vm, instance);
  r.restarts = vm.restarts;
  // An ended copy speaks for itself (the loop decides about it after the
  // heartbeat); a running one carries the last failure until a clean exit.
  const bool ended = instance && instance->state != InstanceState::kRunning;
  r.lastError = ended ? last_error_of(*instance) : vm.last_error;
  r.message = vm.message;
  if (stats) {
    r.usage.cpu = Quantity::from_milli(std::max<int64_t>(0, stats->cpu_milli));
    r.usage.memory = Quantity::from_bytes(std::max<int64_t>(0, stats->memory_bytes));
  }
  if (instance && instance->state == InstanceState::kRunning) {
    if (instance->port > 0) r.address = context.vm_host + ":" + std::to_string(instance->port);
    r.pid = instance->pid;
    r.conditions.push_back(limits_condition(*instance, vm));
    for (Condition c : instance->conditions) {
      if (c.lastTransitionTime.empty() && vm.started)
        c.lastTransitionTime = format_time(vm.started_wall);
      r.conditions.push_back(std::move(c));
    }
    // Ready: the VM runs. There are no readiness probes yet, so running is
    // the best the agent knows; VMSet.status.ready counts this condition.
    Condition ready;
    ready.type = condition_type::kReady;
    ready.status = condition_status::kTrue;
    ready.reason = vm_phase::kRunning;
    if (vm.started) ready.lastTransitionTime = format_time(vm.started_wall);
    r.conditions.push_back(ready);
  }
  if (vm.started) r.startTime = format_time(vm.started_wall);
  return r;
}

bool report_changed(const VmReport& acked, const VmReport& now, double usage_change) {
  VmReport a = acked;
  VmReport b = now;
  a.usage = {};
  b.usage = {};
  if (!same_json(a, b)) return true;
  return moved(acked.usage.cpu.milli, now.usage.cpu.milli, usage_change) ||
         moved(acked.usage.memory.milli, now.usage.memory.milli, usage_change);
}

}  // namespace corral::agent
