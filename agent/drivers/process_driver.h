// ProcessDriver: each VM is a real child process of the agent, started from
// runtime.command.
//
//  - ${PORT}, ${CORRAL_PORT}, ${CORRAL_VM_NAME}, ${CORRAL_NODE} and
//    ${CORRAL_EPOCH} are substituted in argv and in runtime.env values, and
//    exported as CORRAL_* environment variables (PORT too) over the agent's own
//    environment and runtime.env. The port is a free loopback port the driver
//    picked.
//  - stdout and stderr are appended to <data_dir>/logs/<vm>.log.
//  - Each VM is the leader of its own process group, so stop() (SIGTERM, then
//    SIGKILL to the whole group after options.stop_grace) takes its children too.
//  - Ended children are reaped by list() / stop(), never left as zombies.
//  - CPU and memory limits through cgroup v2 where the host allows (see
//    cgroup.h); otherwise the VM runs unlimited and its status says so.
//  - stop_all() stops many VMs within one stop grace: SIGTERM to every group
//    at once, one wait, SIGKILL to what remains. The driver's lock is not
//    held while it waits (the instances are marked stopping, and their
//    leaders are not reaped meanwhile, so their pids — the group ids — stay
//    theirs until the SIGKILL).
//  - selfFence VMs (VmInstance::self_fence) are registered in the fence
//    watchdog's guard file (options.guard) between fork and exec, and removed
//    once reaped (agent/fence/watchdog.h).
//  - adopt() takes back a process a previous agent run started, only if
//    /proc/PID/stat's starttime still matches the one recorded, so a recycled
//    pid is never adopted. An adopted process is not our child: its exit code
//    cannot be learned, and it is reaped by init.
//
// Thread-safe; stop(), stop_all() and destroy() block for up to
// options.stop_grace, without holding the lock other calls need.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "agent/drivers/cgroup.h"
#include "agent/drivers/driver.h"
#include "agent/metrics/metrics_source.h"

namespace corral::agent {

class ProcessDriver final : public Driver {
 public:
  explicit ProcessDriver(DriverOptions options);
  ~ProcessDriver() override;  // leaves VMs running: the agent exits, VMs stay

  std::string name() const override { return "process"; }
  Result<InstanceStatus> start(const VmInstance& vm) override;
  Result<void> stop(const std::string& name) override;
  Result<void> stop_all(const std::vector<std::string>& names) override;
  Result<void> destroy(const std::string& name) override;
  std::vector<InstanceStatus> list() override;
  Result<InstanceStats> stats(const std::string& name) override;
  Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& handle) override;

  std::filesystem::path log_path(const std::string& vm) const;

 private:
  struct Instance {
    InstanceStatus status;
    // The previous stats() sample, for CPU rates.
    bool has_sample = false;
    uint64_t sample_ticks = 0;
    std::chrono::steady_clock::time_point sample_time{};
    // A stop_all() has signalled it and waits out the grace: not reaped
    // until it ends (see the header comment).
    bool stopping = false;
  };

  // Reaps or re-checks one instance, updating its state. REQUIRES: mu_ held.
  void refresh_locked(Instance& inst);
  void record_wait_status_locked(Instance& inst, int wait_status);
  // Whether the leader of a signalled group has ended (not reaped).
  bool leader_ended(const InstanceStatus& s) const;
  // SIGKILL to the group, reap, record. REQUIRES: mu_ held.
  void finish_stop_locked(Instance& inst);
  bool alive_as_recorded(const InstanceStatus& s) const;

  DriverOptions options_;
  MetricsSource proc_;
  Cgroups cgroups_;
  int64_t ticks_per_second_;
  const Clock* clock_;

  std::mutex mu_;
  std::map<std::string, Instance> instances_;  // guarded by mu_
};

}  // namespace corral::agent
