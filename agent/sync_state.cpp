// SyncLoop's local state: adoption at startup from the state file (or the
// driver), and writing the file whenever what runs changed.
#include "agent/sync_loop.h"
#include "agent/sync_internal.h"

namespace corral::agent {

using sync_internal::agent_log;
using std::chrono::milliseconds;
using SteadyTime = std::chrono::steady_clock::time_point;

// ---- startup ---------------------------------------------------------------------

void SyncLoop::track_adopted(const InstanceStatus& instance, SteadyTime now) {
  TrackedVm vm;
  vm.backoff = RestartBackoff(options_.restart_backoff);
  vm.binding.name = instance.name;
  vm.binding.epoch = instance.epoch;
  vm.started = true;
  // The copy's real start is unknown here; the back-off reset and startTime
  // count from the adoption.
  vm.started_steady = now;
  vm.started_wall = clock_.now();
  tracked_[instance.name] = std::move(vm);
}

void SyncLoop::recover() {
  recovered_ = true;
  SteadyTime now = clock_.steady_now();
  const auto& file = options_.state_file;
  if (!file.empty()) {
    auto state = read_state_file(file);
    if (!state) {
      agent_log()->warn("{}; rebuilding from the {} driver", state.error().message, driver_.name());
      std::error_code ec;
      std::filesystem::rename(file, file.string() + ".corrupt", ec);
      if (!ec) agent_log()->warn("kept the corrupt state file as {}.corrupt", file.string());
    } else {
      written_ = *state;
      for (const auto& [name, entry] : state->vms) {
        if (entry.driver != driver_.name()) {
          agent_log()->warn("vm/{} in {} ran on the {} driver, this agent runs {}: not adopting", name,
                      file.string(), entry.driver, driver_.name());
          written_.reset();
          continue;
        }
        VmInstance vm{name, options_.node, entry.epoch, {}, {}};
        auto adopted = driver_.adopt(vm, InstanceHandle{entry.pid, entry.start_time, entry.port});
        if (!adopted) {
          agent_log()->info("vm/{} epoch {} not adopted: {}; started afresh if still bound here", name,
                      entry.epoch, adopted.error().message);
          written_.reset();
          continue;
        }
        agent_log()->debug("vm/{} epoch {} adopted (pid {})", name, entry.epoch, adopted->pid);
        track_adopted(*adopted, now);
      }
    }
  }
  // What the driver already runs is kept too: the whole view when the file
  // was corrupt, and anything the file missed.
  for (const auto& instance : driver_.list()) {
    if (instance.state != InstanceState::kRunning || tracked_.count(instance.name)) continue;
    agent_log()->info("vm/{} epoch {} found running in the {} driver: kept", instance.name, instance.epoch,
                driver_.name());
    track_adopted(instance, now);
  }
}

// ---- state file ------------------------------------------------------------------

void SyncLoop::write_state_if_changed() {
  AgentState state;
  int running = 0;
  for (const auto& instance : driver_.list()) {
    if (instance.state != InstanceState::kRunning) continue;
    ++running;
    state.vms[instance.name] = StateEntry{instance.epoch, driver_.name(), instance.pid,
                                          instance.start_time, instance.port};
  }
  vms_running_->set(running);
  if (options_.state_file.empty() || (written_ && *written_ == state)) return;
  if (auto w = write_state_file(options_.state_file, state); !w) {
    agent_log()->error("{}; retrying next round", w.error().message);  // written_ unchanged: retried
    return;
  }
  written_ = std::move(state);
}

}  // namespace corral::agent
