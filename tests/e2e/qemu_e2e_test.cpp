// A real guest through Corral (issue 19, step 1): the real controller, a real
// agent on `--driver qemu`, and the guest of scripts/build-guest.sh (Debian's
// cloud kernel, a busybox initramfs whose httpd answers with the VM's name).
// A VM manifest boots it (TCG where KVM does not boot a probe guest, as here),
// its address (the agent's ${PORT}, forwarded to guest port 80) answers with
// its name, `corralctl logs` shows its serial console, and deleting it ends
// its QEMU. Skipped, saying what is missing, without qemu-system-x86_64, the
// cloud kernel or busybox-static.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/qemu_guest.h"

namespace corral::testing {
namespace qemu_e2e_test {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// The QEMU processes this test's agent started (their argv names its data dir).
int qemu_processes_under(const std::string& dir) {
  int n = 0;
  for (const auto& [pid, argv] : process_table())
    if (argv.find("qemu-system-x86_64") != std::string::npos && argv.find(dir) != std::string::npos)
      ++n;
  return n;
}

class QemuE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string missing = missing_qemu_guest_prerequisites();
    if (!missing.empty()) GTEST_SKIP() << "the qemu guest needs" << missing << ": not installed";
    std::string error;
    ASSERT_TRUE(build_qemu_guest(dir_.file("guest"), &error)) << error;
    kernel_ = dir_.file("guest/vmlinuz");
    initrd_ = dir_.file("guest/initramfs");

    controller_ = std::make_unique<Controller>(local_controller_options(dir_.path()));
    ASSERT_TRUE(controller_->start(&error)) << error;
    AgentOptions a = local_agent_options(controller_->url(), dir_.path(), "host-a");
    a.driver = "qemu";
    // Probe KVM with the guest's own kernel: on a host where KVM works the
    // guest runs on it, elsewhere (nested, or no /dev/kvm) on TCG.
    a.extra_args.insert(a.extra_args.end(), {"--qemu-probe-kernel", kernel_});
    agent_data_ = a.data_dir;
    agent_ = std::make_unique<Agent>(a);
    ASSERT_TRUE(agent_->start(&error)) << error;
  }

  void TearDown() override {
    if (agent_) agent_->stop();
    if (controller_) controller_->stop();
    // A VM's process outlives its agent on purpose; it is the test's to end.
    if (!agent_data_.empty()) kill_processes_matching({"qemu-system-x86_64", agent_data_});
  }

  CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", controller_->url()});
    return run_command(corralctl_binary(), args);
  }

  Json vm(const std::string& name) {
    auto r = ctl({"get", "vm", name, "-o", "json"});
    if (r.exit_code != 0) return Json();
    Json j = Json::parse(r.out, nullptr, false);
    return j.is_discarded() ? Json() : j;
  }

  TempDir dir_;
  std::string kernel_, initrd_, agent_data_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(QemuE2E, AGuestBootsServesItsNameLogsItsConsoleAndEndsWithItsVm) {
  const std::string manifest = dir_.file("web-1.yaml");
  std::ofstream(manifest) << "apiVersion: corral/v1\n"
                             "kind: VM\n"
                             "metadata:\n"
                             "  name: web-1\n"
                             "spec:\n"
                             "  nodeName: host-a\n"
                             "  resources: {cpu: 500m, memory: 128Mi}\n"
                             "  runtime:\n"
                             "    driver: qemu\n"
                             "    kernel: "
                          << kernel_ << "\n    initrd: " << initrd_ << "\n    guestPort: 80\n";
  const auto applied = std::chrono::steady_clock::now();
  auto r = ctl({"apply", "-f", manifest});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Running, with an address: the agent's port, forwarded into the guest.
  std::string address;
  ASSERT_TRUE(wait_for(
      [&] {
        Json v = vm("web-1");
        if (!v.is_object() || !v.contains("status") || !v["status"].is_object() ||
            v["status"].value("phase", "") != "Running")
          return false;
        address = v["status"].value("address", "");
        return !address.empty();
      },
      60s))
      << ctl({"describe", "vm", "web-1"}).out << agent_->logs();

  // The guest's httpd answers with its name once it has booted (TCG: seconds).
  std::string body;
  ASSERT_TRUE(wait_for(
      [&] {
        auto got = run_command("/usr/bin/curl", {"-s", "-m", "2", "http://" + address + "/"},
                               CommandOptions{{}, "", 5s});
        body = got.out;
        return got.exit_code == 0 && body == "web-1\n";
      },
      60s, 200ms))
      << "answer: " << body << "\n"
      << ctl({"logs", "web-1"}).out << agent_->logs();
  const double boot_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - applied).count();
  std::cout << "web-1 answered " << boot_s << " s after apply\n";
  RecordProperty("seconds_from_apply_to_answer", std::to_string(boot_s));

  // The accelerator is a condition of the VM: KVM or TCG, with the reason.
  Json status = vm("web-1")["status"];
  bool accel_reported = false;
  for (const Json& c : status.value("conditions", Json::array())) {
    if (c.value("type", "") != "Accelerated") continue;
    accel_reported = true;
    const std::string reason = c.value("reason", "");
    EXPECT_TRUE(reason == "KVM" || reason == "TCG") << c.dump();
    std::cout << "Accelerated: " << c.value("status", "") << " " << reason << ": "
              << c.value("message", "") << "\n";
  }
  EXPECT_TRUE(accel_reported) << status.dump();

  // Its use is its QEMU process's, measured as any process VM's: the guest's
  // memory is in QEMU's resident set.
  std::string memory;
  EXPECT_TRUE(wait_for(
      [&] {
        Json st = vm("web-1")["status"];
        if (!st.is_object() || !st.contains("usage") || !st["usage"].contains("memory") ||
            !st["usage"]["memory"].is_string())
          return false;
        memory = st["usage"]["memory"].get<std::string>();
        return !memory.empty() && memory != "0";
      },
      15s))
      << vm("web-1").dump();
  std::cout << "measured memory of the guest's QEMU: " << memory << "\n";

  // The serial console is the VM's log.
  r = ctl({"logs", "web-1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("corral-guest: booted as web-1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("corral-guest: httpd serving web-1 on port 80"), std::string::npos) << r.out;

  // Deleting the VM ends its QEMU.
  ASSERT_EQ(qemu_processes_under(agent_data_), 1);
  r = ctl({"delete", "vm", "web-1"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(wait_for([&] { return qemu_processes_under(agent_data_) == 0; }, 30s))
      << agent_->logs();
}

}  // namespace qemu_e2e_test
}  // namespace corral::testing
