// The QEMU command line of one VM, and the choice between KVM and TCG.
// Pure functions (the probe's effects sit behind QemuProbeOps), so the unit
// tests check them without QEMU. Internal to the qemu driver.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/drivers/driver.h"

namespace corral::agent {

// Where a VM's QEMU writes and listens.
struct QemuPaths {
  std::string binary = "qemu-system-x86_64";
  std::filesystem::path serial_log;  // the VM's log (the process driver's): appended
  std::filesystem::path qmp_socket;  // the QMP unix socket, in the driver's state dir
};

// The accelerator every VM of this agent gets: KVM only where a probe guest
// really booted, TCG otherwise; `reason` says why (the Accelerated condition).
struct AccelChoice {
  bool kvm = false;
  std::string reason;
};

// The argv (argv[0] = paths.binary). ${PORT} and ${CORRAL_VM_NAME} are left
// for the process driver to substitute:
//  -accel kvm|tcg, -smp <cpu rounded up, ≥ 1>, -m <memory in MiB rounded up, ≥ 16>,
//  -kernel/-initrd/-append "console=ttyS0 panic=-1 corral.name=${CORRAL_VM_NAME} <cmdline>"
//  or a virtio disk from image, the serial console appended to serial_log,
//  user networking with hostfwd tcp:<bind>:${PORT}-:<guestPort> and a
//  virtio-net-pci device, a QMP socket, and -display none -no-reboot -nodefaults
//  (a guest that reboots or panics ends QEMU: the agent restarts it per restartPolicy).
std::vector<std::string> qemu_argv(const VmInstance& vm, const QemuPaths& paths,
                                   const AccelChoice& accel, const std::string& bind_address);

// A value inside a QEMU option list: commas doubled.
std::string qemu_option_value(const std::string& value);

// What choose_accel() needs from the machine.
class QemuProbeOps {
 public:
  virtual ~QemuProbeOps() = default;
  // Whether /dev/kvm opens read-write; false with the reason.
  virtual bool kvm_opens(std::string* why) = 0;
  // Boots `kernel` under KVM; true once it printed its banner and reached its
  // end (a panic for want of a root file system) within `timeout`.
  virtual bool kvm_boots(const std::filesystem::path& kernel, std::chrono::milliseconds timeout,
                         std::string* why) = 0;
};

// mode: "kvm" or "tcg" forces it; "auto" probes: KVM when /dev/kvm opens AND a
// probe kernel boots on it, TCG with the reason otherwise (an empty kernel: not probed).
AccelChoice choose_accel(const std::string& mode, const std::filesystem::path& probe_kernel,
                         std::chrono::milliseconds timeout, QemuProbeOps& ops);

}  // namespace corral::agent
