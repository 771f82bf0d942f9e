// SyncLoop's convergence: make the driver run exactly the bound VMs, with
// their epochs, restarting ended ones per restartPolicy with back-off.
#include "agent/sync_loop.h"
#include "agent/sync_internal.h"

namespace corral::agent {

using sync_internal::agent_log;
using sync_internal::format_delay;
using sync_internal::find_instance;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

std::string describe_end(const InstanceStatus& s) {
  if (!s.message.empty()) return s.message;
  return s.state == InstanceState::kFailedToStart ? "failed to start"
                                                  : "exited with code " + std::to_string(s.exit_code);
}

}  // namespace

// ---- converge --------------------------------------------------------------------

void SyncLoop::converge(SteadyTime now) {
  // Before anything starts: the Fencer must know every selfFence VM that
  // could run here.
  update_guarded();
  stop_unwanted(driver_.list());
  for (auto it = tracked_.begin(); it != tracked_.end();)
    it = desired_.count(it->first) ? std::next(it) : tracked_.erase(it);

  auto instances = driver_.list();
  for (const auto& [name, binding] : desired_) {
    auto [it, inserted] = tracked_.try_emplace(name);
    TrackedVm& vm = it->second;
    if (inserted || vm.binding.epoch != binding.epoch) {
      vm = TrackedVm{};
      vm.backoff = RestartBackoff(options_.restart_backoff);
    }
    vm.binding = binding;
    vm.spec_known = true;
    const InstanceStatus* instance = find_instance(instances, name);
    // The deadline is checked while converging too, not only around
    // heartbeats: stopping a stale copy may have taken a whole stop grace.
    fence_if_due(clock_.steady_now());
    if (vm.binding.fencing == kSelfFence && fencer_.fenced()) {
      // The controller may be re-placing it: nothing of it runs here until a
      // heartbeat is answered again. A copy the fence could not stop (or
      // could not destroy) is tried again.
      vm.fenced = true;
      if (instance && instance->state == InstanceState::kRunning) {
        agent_log()->warn("vm/{}: still running while self-fenced: stopping it", name);
        if (auto r = driver_.stop(name); !r)
          agent_log()->error("vm/{}: stop: {}", name, r.error().message);
      }
      if (instance) (void)driver_.destroy(name);
      if (vm.message.empty()) vm.message = "stopped by self-fencing: " + fencer_.reason();
      continue;
    }
    if (vm.fenced) {
      // Answered again and still bound here at the same epoch: the controller
      // had not re-placed it, so it runs here again — once an answer to a
      // later beat confirms it (fence_lifted_at_).
      if (!fence_lifted_at_ || !last_ack_sent_ ||
          *last_ack_sent_ < *fence_lifted_at_ + options_.heartbeat_interval / 2)
        continue;
      vm.fenced = false;
      vm.message.clear();
      agent_log()->info("vm/{} epoch {}: still bound here after self-fencing: starting it again",
                        name, binding.epoch);
    }
    if (instance && instance->epoch != binding.epoch) {
      // The old copy would not stop (logged by stop_unwanted); never two copies.
      continue;
    }
    converge_one(vm, instance, now);
  }
  update_guarded();
}

void SyncLoop::stop_unwanted(const std::vector<InstanceStatus>& instances) {
  for (const auto& instance : instances) {
    auto bound = desired_.find(instance.name);
    if (bound != desired_.end() && bound->second.epoch == instance.epoch) continue;
    if (bound == desired_.end()) {
      agent_log()->info("vm/{} epoch {}: no longer bound to node/{}: stopping", instance.name,
                  instance.epoch, options_.node);
    } else {
      agent_log()->info("vm/{} epoch {}: superseded by epoch {}: stopping it first", instance.name,
                  instance.epoch, bound->second.epoch);
    }
    if (auto r = driver_.stop(instance.name); !r)
      agent_log()->warn("vm/{}: stop: {}", instance.name, r.error().message);
    if (auto r = driver_.destroy(instance.name); !r)
      agent_log()->error("vm/{}: destroy: {}; retrying next round", instance.name, r.error().message);
  }
}

void SyncLoop::converge_one(TrackedVm& vm, const InstanceStatus* instance, SteadyTime now) {
  const std::string& name = vm.binding.name;
  if (instance && instance->state == InstanceState::kRunning) {
    vm.restart_at.reset();
    vm.given_up = false;
    return;
  }
  if (!instance && !vm.refused_start) {
    // Never started here, or the driver lost it: start now. A pending restart
    // (after a refused start) waits for its back-off.
    if (vm.restart_at && !due(*vm.restart_at, now)) return;
    start(vm, vm.started, now);
    return;
  }
  const InstanceStatus& ended = instance ? *instance : *vm.refused_start;
  if (!vm.restart_at && !vm.given_up) {
    // The first round that sees this copy ended decides what happens to it.
    vm.last_error = last_error_of(ended);
    RestartPolicy policy = parse_restart_policy(vm.binding.restartPolicy);
    if (should_restart(policy, ended)) {
      milliseconds delay = vm.backoff.next_delay(vm.started_steady, now);
      vm.restart_at = now + delay;
      vm.message = describe_end(ended) + "; restarting in " + format_delay(delay);
      agent_log()->info("vm/{} epoch {} {}", name, vm.binding.epoch, vm.message);
    } else {
      vm.given_up = true;
      vm.message = describe_end(ended) + "; restartPolicy " + vm.binding.restartPolicy +
                   ": not restarting";
      agent_log()->info("vm/{} epoch {} {}", name, vm.binding.epoch, vm.message);
    }
  }
  if (vm.restart_at && due(*vm.restart_at, now)) start(vm, true, now);
}

void SyncLoop::start(TrackedVm& vm, bool restart, SteadyTime now) {
  const BoundVm& b = vm.binding;
  const bool self_fence = b.fencing == kSelfFence;
  std::optional<Result<InstanceStatus>> result;
  auto run = [&] {
    result = driver_.start(
        VmInstance{b.name, options_.node, b.epoch, b.resources, b.runtime, self_fence});
  };
  if (!self_fence) {
    run();
  } else if (!fencer_.while_lease_holds(clock_.steady_now(), run)) {
    // Its deadline has passed (or it fenced): the controller may be
    // re-placing it, so it must not start here now.
    agent_log()->warn("vm/{} epoch {}: not started: the lease may have lapsed (self-fencing)",
                      b.name, b.epoch);
    return;
  }
  if (restart) {
    ++vm.restarts;
    restarts_->inc();
  }
  vm.restart_at.reset();
  vm.given_up = false;
  vm.refused_start.reset();
  vm.started = true;
  vm.started_steady = now;
  vm.started_wall = clock_.now();
  vm.message.clear();
  auto& started = *result;
  if (!started) {
    InstanceStatus refused;
    refused.name = b.name;
    refused.epoch = b.epoch;
    refused.state = InstanceState::kFailedToStart;
    refused.message = "failed to start: " + started.error().message;
    vm.refused_start = refused;
    agent_log()->error("vm/{} epoch {}: the {} driver refused to start it: {}", b.name, b.epoch,
                 driver_.name(), started.error().message);
    return;
  }
  if (started->state == InstanceState::kFailedToStart) {
    agent_log()->warn("vm/{} epoch {}: {}", b.name, b.epoch, started->message);
    return;
  }
  // The driver logs the start itself (pid, port); the restart count is ours.
  if (restart) agent_log()->info("vm/{} epoch {} restarted (restart {})", b.name, b.epoch, vm.restarts);
}

}  // namespace corral::agent
