#include "agent/drivers/qemu_argv.h"

#include <algorithm>

namespace corral::agent {

namespace {

constexpr int64_t kBytesPerMiB = 1024 * 1024;
// QEMU refuses less than a few MiB; no kernel boots in that anyway.
constexpr int64_t kMinGuestMiB = 16;
constexpr int64_t kMinGuestVcpus = 1;

std::string disk_format(const std::string& image) {
  return image.size() > 6 && image.ends_with(".qcow2") ? "qcow2" : "raw";
}

}  // namespace

std::string qemu_option_value(const std::string& value) {
  std::string out;
  for (char c : value) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::vector<std::string> qemu_argv(const VmInstance& vm, const QemuPaths& paths,
                                   const AccelChoice& accel, const std::string& bind_address) {
  const RuntimeSpec& rt = vm.runtime;
  const int64_t mib =
      std::max(kMinGuestMiB, (vm.resources.memory.whole() + kBytesPerMiB - 1) / kBytesPerMiB);
  const int64_t vcpus = std::max(kMinGuestVcpus, vm.resources.cpu.whole());
  std::vector<std::string> a = {paths.binary,
                                "-name",
                                qemu_option_value(vm.name),
                                "-accel",
                                accel.kvm ? "kvm" : "tcg",
                                "-smp",
                                std::to_string(vcpus),
                                "-m",
                                std::to_string(mib),
                                "-display",
                                "none",
                                "-nodefaults",
                                "-no-reboot"};
  if (!rt.kernel.empty()) {
    a.insert(a.end(), {"-kernel", rt.kernel});
    if (!rt.initrd.empty()) a.insert(a.end(), {"-initrd", rt.initrd});
    std::string append = "console=ttyS0 panic=-1 corral.name=${CORRAL_VM_NAME}";
    if (!rt.cmdline.empty()) append += " " + rt.cmdline;
    a.insert(a.end(), {"-append", append});
  }
  if (!rt.image.empty())
    a.insert(a.end(), {"-drive", "file=" + qemu_option_value(rt.image) +
                                     ",if=virtio,format=" + disk_format(rt.image)});
  a.insert(a.end(), {"-chardev",
                     "file,id=serial0,append=on,path=" + qemu_option_value(paths.serial_log.string()),
                     "-serial", "chardev:serial0"});
  std::string netdev = "user,id=net0";
  if (rt.guestPort > 0)
    netdev += ",hostfwd=tcp:" + bind_address + ":${PORT}-:" + std::to_string(rt.guestPort);
  a.insert(a.end(), {"-netdev", netdev, "-device", "virtio-net-pci,netdev=net0"});
  a.insert(a.end(), {"-qmp", "unix:" + qemu_option_value(paths.qmp_socket.string()) +
                                 ",server=on,wait=off"});
  return a;
}

AccelChoice choose_accel(const std::string& mode, const std::filesystem::path& probe_kernel,
                         std::chrono::milliseconds timeout, QemuProbeOps& ops) {
  if (mode == "kvm") return {true, "KVM forced (--qemu-accel kvm)"};
  if (mode == "tcg") return {false, "TCG forced (--qemu-accel tcg)"};
  std::string why;
  if (!ops.kvm_opens(&why)) return {false, "KVM not used: " + why};
  if (probe_kernel.empty())
    return {false, "KVM not used: no kernel to probe it with (--qemu-probe-kernel)"};
  if (!ops.kvm_boots(probe_kernel, timeout, &why))
    return {false, "KVM not used: a probe guest (" + probe_kernel.string() +
                       ") did not boot on it: " + why};
  return {true, "KVM: a probe guest booted (" + probe_kernel.string() + ")"};
}

}  // namespace corral::agent
