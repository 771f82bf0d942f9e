// The qemu driver: its command line and its KVM/TCG choice as pure functions
// (a fake probe), and — when qemu-system-x86_64 and the guest of
// scripts/build-guest.sh can be had — one real guest on TCG driven over QMP.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <iterator>
#include <thread>

#include "agent/drivers/qemu_argv.h"
#include "agent/drivers/qemu_driver.h"
#include "tests/support/qemu_guest.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_qemu_driver_test {

using namespace std::chrono_literals;

VmInstance guest_vm() {
  VmInstance vm;
  vm.name = "web-1";
  vm.node = "host-a";
  vm.epoch = 3;
  vm.resources.cpu = Quantity::from_milli(1500);
  vm.resources.memory = Quantity::from_bytes(200ll * 1024 * 1024);
  vm.runtime.driver = "qemu";
  vm.runtime.kernel = "/srv/guest/vmlinuz";
  vm.runtime.initrd = "/srv/guest/initramfs";
  vm.runtime.cmdline = "quiet";
  vm.runtime.guestPort = 80;
  return vm;
}

QemuPaths guest_paths() {
  QemuPaths p;
  p.serial_log = "/var/lib/corral/logs/web-1.log";
  p.qmp_socket = "/var/lib/corral/qemu/web-1.qmp";
  return p;
}

// The value after `flag` (the first occurrence), or "<absent>".
std::string arg_after(const std::vector<std::string>& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? "<absent>" : *(it + 1);
}

bool has(const std::vector<std::string>& argv, const std::string& arg) {
  return std::find(argv.begin(), argv.end(), arg) != argv.end();
}

TEST(QemuArgv, ResourcesBecomeWholeVcpusAndMebibytes) {
  auto argv = qemu_argv(guest_vm(), guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(argv[0], "qemu-system-x86_64");
  EXPECT_EQ(arg_after(argv, "-smp"), "2");  // 1500m rounded up
  EXPECT_EQ(arg_after(argv, "-m"), "200");
  VmInstance tiny = guest_vm();
  tiny.resources.cpu = Quantity::from_milli(100);
  tiny.resources.memory = Quantity::from_bytes(1024 * 1024 + 1);
  argv = qemu_argv(tiny, guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(arg_after(argv, "-smp"), "1");
  EXPECT_EQ(arg_after(argv, "-m"), "16");  // at least 16 MiB
  tiny.resources = {};
  argv = qemu_argv(tiny, guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(arg_after(argv, "-smp"), "1");
}

TEST(QemuArgv, BootsTheKernelWithTheVmsNameAndPublishesTheGuestPortAtPort) {
  auto argv = qemu_argv(guest_vm(), guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(arg_after(argv, "-kernel"), "/srv/guest/vmlinuz");
  EXPECT_EQ(arg_after(argv, "-initrd"), "/srv/guest/initramfs");
  // ${CORRAL_VM_NAME} and ${PORT} are the process driver's to substitute.
  EXPECT_EQ(arg_after(argv, "-append"),
            "console=ttyS0 panic=-1 corral.name=${CORRAL_VM_NAME} quiet");
  EXPECT_EQ(arg_after(argv, "-netdev"), "user,id=net0,hostfwd=tcp:127.0.0.1:${PORT}-:80");
  EXPECT_EQ(arg_after(argv, "-device"), "virtio-net-pci,netdev=net0");
  EXPECT_EQ(arg_after(argv, "-chardev"),
            "file,id=serial0,append=on,path=/var/lib/corral/logs/web-1.log");
  EXPECT_EQ(arg_after(argv, "-serial"), "chardev:serial0");
  EXPECT_EQ(arg_after(argv, "-qmp"), "unix:/var/lib/corral/qemu/web-1.qmp,server=on,wait=off");
  EXPECT_EQ(arg_after(argv, "-display"), "none");
  EXPECT_TRUE(has(argv, "-nodefaults"));
  EXPECT_TRUE(has(argv, "-no-reboot"));
  EXPECT_FALSE(has(argv, "-drive"));
}

TEST(QemuArgv, NoGuestPortNoForwardAndAnImageIsAVirtioDisk) {
  VmInstance vm = guest_vm();
  vm.runtime.guestPort = 0;
  vm.runtime.kernel = vm.runtime.initrd = vm.runtime.cmdline = "";
  vm.runtime.image = "/srv/disks/a,b.qcow2";
  auto argv = qemu_argv(vm, guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(arg_after(argv, "-netdev"), "user,id=net0");
  EXPECT_FALSE(has(argv, "-kernel"));
  EXPECT_FALSE(has(argv, "-append"));
  // Commas inside a QEMU option value are doubled.
  EXPECT_EQ(arg_after(argv, "-drive"), "file=/srv/disks/a,,b.qcow2,if=virtio,format=qcow2");
  vm.runtime.image = "/srv/disks/a.img";
  argv = qemu_argv(vm, guest_paths(), AccelChoice{}, "127.0.0.1");
  EXPECT_EQ(arg_after(argv, "-drive"), "file=/srv/disks/a.img,if=virtio,format=raw");
}

TEST(QemuArgv, TheAcceleratorIsTheChoicesOne) {
  EXPECT_EQ(arg_after(qemu_argv(guest_vm(), guest_paths(), AccelChoice{true, "probe"}, "127.0.0.1"),
                      "-accel"),
            "kvm");
  EXPECT_EQ(arg_after(qemu_argv(guest_vm(), guest_paths(), AccelChoice{false, "no"}, "127.0.0.1"),
                      "-accel"),
            "tcg");
}

class FakeProbe final : public QemuProbeOps {
 public:
  bool opens = true, boots = true;
  int boot_calls = 0;
  bool kvm_opens(std::string* why) override {
    if (!opens) *why = "/dev/kvm: No such file or directory";
    return opens;
  }
  bool kvm_boots(const std::filesystem::path&, std::chrono::milliseconds, std::string* why) override {
    ++boot_calls;
    if (!boots) *why = "no kernel boot within 5 s";
    return boots;
  }
};

TEST(QemuAccel, KvmOnlyWhenDevKvmOpensAndAProbeGuestBoots) {
  FakeProbe probe;
  AccelChoice c = choose_accel("auto", "/boot/vmlinuz", 5s, probe);
  EXPECT_TRUE(c.kvm);
  EXPECT_EQ(probe.boot_calls, 1);

  probe.boots = false;
  c = choose_accel("auto", "/boot/vmlinuz", 5s, probe);
  EXPECT_FALSE(c.kvm);
  EXPECT_EQ(c.reason,
            "KVM not used: a probe guest (/boot/vmlinuz) did not boot on it: no kernel boot within 5 s");

  probe.opens = false;
  c = choose_accel("auto", "/boot/vmlinuz", 5s, probe);
  EXPECT_FALSE(c.kvm);
  EXPECT_EQ(c.reason, "KVM not used: /dev/kvm: No such file or directory");
  EXPECT_EQ(probe.boot_calls, 2);  // not probed when /dev/kvm does not open

  probe.opens = true;
  c = choose_accel("auto", "", 5s, probe);
  EXPECT_FALSE(c.kvm);
  EXPECT_NE(c.reason.find("no kernel to probe it with"), std::string::npos) << c.reason;
}

TEST(QemuAccel, AForcedAcceleratorIsNotProbed) {
  FakeProbe probe;
  probe.opens = probe.boots = false;
  EXPECT_TRUE(choose_accel("kvm", "/boot/vmlinuz", 5s, probe).kvm);
  EXPECT_FALSE(choose_accel("tcg", "/boot/vmlinuz", 5s, probe).kvm);
  EXPECT_EQ(probe.boot_calls, 0);
}

// ---- one real guest, when this machine has what it needs ---------------------

bool eventually_within(std::chrono::milliseconds limit, const std::function<bool()>& pred) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

TEST(QemuDriverGuest, BootsOnTcgAnswersQueryStatusAndQuitsOverQmp) {
  const std::string missing = corral::testing::missing_qemu_guest_prerequisites();
  if (!missing.empty()) GTEST_SKIP() << "the qemu guest needs" << missing << ": not installed";
  corral::testing::TempDir dir;
  const std::string guest = dir.file("guest");
  std::string error;
  ASSERT_TRUE(corral::testing::build_qemu_guest(guest, &error)) << error;

  DriverOptions options;
  options.data_dir = dir.path() / "data";
  options.qemu_accel = "tcg";
  options.stop_grace = 2000ms;
  auto made = make_driver("qemu", options);
  ASSERT_TRUE(made.ok()) << made.error().message;
  auto& driver = static_cast<QemuDriver&>(**made);
  EXPECT_FALSE(driver.accel().kvm);

  VmInstance vm = guest_vm();
  vm.resources.memory = Quantity::from_bytes(128ll * 1024 * 1024);
  vm.runtime.kernel = guest + "/vmlinuz";
  vm.runtime.initrd = guest + "/initramfs";
  auto started = driver.start(vm);
  ASSERT_TRUE(started.ok()) << started.error().message;
  ASSERT_EQ(started->state, InstanceState::kRunning) << started->message;
  ASSERT_EQ(started->conditions.size(), 1u);
  EXPECT_EQ(started->conditions[0].type, "Accelerated");
  EXPECT_EQ(started->conditions[0].status, "False");
  EXPECT_EQ(started->conditions[0].reason, "TCG");

  // QMP answers once QEMU listens; the guest's console reaches the VM log.
  Result<std::string> status = std::string();
  EXPECT_TRUE(eventually_within(10s, [&] {
    status = driver.guest_status("web-1");
    return status.ok() && *status == "running";
  })) << (status.ok() ? *status : status.error().message);
  EXPECT_TRUE(eventually_within(30s, [&] {
    std::ifstream in(options.data_dir / "logs" / "web-1.log");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.find("corral-guest: booted as web-1") != std::string::npos;
  }));

  // An agent that would use KVM adopts it: the condition is the accelerator
  // this QEMU runs on (its argv), not the adopter's.
  {
    QemuDriver adopter(options, AccelChoice{true, "KVM: a probe guest booted"});
    auto adopted = adopter.adopt(vm, InstanceHandle{started->pid, started->start_time, started->port});
    ASSERT_TRUE(adopted.ok()) << adopted.error().message;
    ASSERT_EQ(adopted->conditions.size(), 1u);
    EXPECT_EQ(adopted->conditions[0].reason, "TCG");
    EXPECT_EQ(adopted->conditions[0].message, "adopted: started on TCG by an earlier agent");
  }  // its destructor leaves the VM running

  // Stopped over QMP (quit): QEMU exits on its own, well within the grace.
  const auto before = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver.stop("web-1").ok());
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1500ms);
  auto listed = driver.list();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].state, InstanceState::kExited);
  EXPECT_EQ(listed[0].exit_code, 0) << listed[0].message;  // quit, not a signal
  EXPECT_TRUE(listed[0].conditions.empty());
  EXPECT_FALSE(driver.guest_status("web-1").ok());
  ASSERT_TRUE(driver.destroy("web-1").ok());
  EXPECT_TRUE(driver.list().empty());
}

}  // namespace agent_qemu_driver_test
}  // namespace corral::agent
