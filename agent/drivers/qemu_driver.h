// QemuDriver (`driver: qemu`): each VM is one QEMU process running a real
// guest (runtime.kernel/initrd/cmdline, or runtime.image), run directly and
// driven over QMP — no libvirtd (ARCHITECTURE.md, "The qemu driver", says why).
//
// It is the process driver with a generated command line: the QEMU process is
// the VM's process, so supervision, restarts, the stop grace, stop_all,
// self-fencing (and the fence watchdog's guard entries), cgroup limits,
// adoption by pid + start time, CPU/memory measurement and the log are the
// process driver's, unchanged. What it adds:
//  - the argv (qemu_argv.h): resources → -smp/-m, the serial console
//    appended to the VM's log (what `corralctl logs` shows), user networking
//    publishing runtime.guestPort at the VM's ${PORT} (its status.address),
//    a QMP socket <data_dir>/qemu/<vm>.qmp;
//  - KVM or TCG, chosen once per agent process (choose_accel, cached): KVM
//    only when /dev/kvm opens and a probe kernel boots on it; the choice is
//    the VM's `Accelerated` condition (True/KVM, or False/TCG with the reason);
//  - stop() and destroy(): QMP `quit` first (QEMU exits at once, no signal
//    needed; waited for up to half the stop grace), then the process
//    driver's stop (SIGTERM, grace, SIGKILL) for what remains. stop_all()
//    (self-fencing: one grace for all) signals only: QEMU quits on SIGTERM.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "agent/drivers/driver.h"
#include "agent/drivers/process_driver.h"
#include "agent/drivers/qemu_argv.h"

namespace corral::agent {

class QemuDriver final : public Driver {
 public:
  QemuDriver(DriverOptions options, AccelChoice accel);

  std::string name() const override { return "qemu"; }
  Result<InstanceStatus> start(const VmInstance& vm) override;
  Result<void> stop(const std::string& name) override;
  Result<void> stop_all(const std::vector<std::string>& names) override;
  Result<void> destroy(const std::string& name) override;
  std::vector<InstanceStatus> list() override;
  Result<InstanceStats> stats(const std::string& name) override;
  Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& handle) override;

  const AccelChoice& accel() const { return accel_; }
  std::filesystem::path qmp_socket(const std::string& vm) const;
  // QMP query-status: "running" while the guest runs ("paused", "shutdown",
  // "internal-error", ...). kUnavailable when its QEMU does not answer.
  Result<std::string> guest_status(const std::string& vm) const;

 private:
  // Asks a running QEMU to quit over QMP and waits for it to end (bounded; a
  // silent one is left to the process driver's signals).
  void quit_over_qmp(const std::string& name);
  bool running(const std::string& name);
  InstanceStatus with_condition(InstanceStatus status) const;

  DriverOptions options_;
  AccelChoice accel_;
  ProcessDriver processes_;
  mutable std::mutex mu_;
  // Adopted VMs whose QEMU runs on the other accelerator than accel_.
  std::map<std::string, AccelChoice> adopted_accel_;  // guarded by mu_
};

// The accelerator for this agent process, probed once (later calls return the
// first answer): see choose_accel. The probe boots options.qemu_probe_kernel
// (default: the newest /boot/vmlinuz-*) under KVM for up to 5 s.
AccelChoice agent_accel(const DriverOptions& options);

}  // namespace corral::agent
