#include "agent/drivers/qemu_driver.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "agent/drivers/factories.h"
#include "agent/drivers/qmp.h"
#include "agent/drivers/spawn.h"
#include "api/json.h"
#include "base/log.h"

namespace corral::agent {

namespace {

// How long one QMP call may take: QEMU answers in milliseconds unless wedged.
constexpr std::chrono::milliseconds kQmpTimeout{500};
// The KVM probe: a kernel reaches its root-mount panic in about a second on
// KVM (1.9 s on TCG here); a hang in the firmware shows nothing at all.
constexpr std::chrono::milliseconds kProbeTimeout{5000};
constexpr std::chrono::milliseconds kProbePoll{50};

std::string read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class RealQemuProbe final : public QemuProbeOps {
 public:
  RealQemuProbe(std::string binary, std::filesystem::path dir)
      : binary_(std::move(binary)), dir_(std::move(dir)) {}

  bool kvm_opens(std::string* why) override {
    int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
      *why = std::string("/dev/kvm: ") + std::strerror(errno);
      return false;
    }
    ::close(fd);
    return true;
  }

  bool kvm_boots(const std::filesystem::path& kernel, std::chrono::milliseconds timeout,
                 std::string* why) override {
    const auto serial = dir_ / "kvm-probe.serial";
    const auto output = dir_ / "kvm-probe.log";
    std::error_code ec;
    std::filesystem::remove(serial, ec);
    std::filesystem::remove(output, ec);
    SpawnRequest req;
    req.argv = {binary_,   "-accel",  "kvm",          "-nodefaults", "-display", "none",
                "-no-reboot", "-m",   "128",          "-kernel",     kernel.string(),
                "-append", "console=ttyS0 panic=-1", "-serial", "file:" + serial.string()};
    req.env = {{"PATH", "/usr/local/bin:/usr/bin:/bin"}};
    req.log_file = output;
    SpawnResult r = spawn_process(req);
    if (!r.started) {
      *why = r.error;
      return false;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    bool booted = false, exited = false;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      // Booted to the end: the kernel's panic for want of a root file system.
      if (read_whole(serial).find("Kernel panic") != std::string::npos) {
        booted = true;
        break;
      }
      if (waitpid(r.pid, &status, WNOHANG) == r.pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(kProbePoll);
    }
    if (!exited) {
      kill(-r.pid, SIGKILL);
      while (waitpid(r.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    if (booted) return true;
    const std::string out = read_whole(output);
    if (exited) {
      *why = "QEMU exited before the kernel booted: " + out.substr(0, 300);
    } else {
      *why = "no kernel boot within " + std::to_string(timeout.count() / 1000) + " s (" +
             std::to_string(read_whole(serial).size()) + " bytes on its console)";
    }
    return false;
  }

 private:
  std::string binary_;
  std::filesystem::path dir_;
};

std::filesystem::path newest_boot_kernel() {
  std::vector<std::filesystem::path> kernels;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/boot", ec))
    if (e.path().filename().string().starts_with("vmlinuz-")) kernels.push_back(e.path());
  if (kernels.empty()) return {};
  std::sort(kernels.begin(), kernels.end());
  return kernels.back();
}

Condition accel_condition(const AccelChoice& accel) {
  Condition c;
  c.type = "Accelerated";
  c.status = accel.kvm ? condition_status::kTrue : condition_status::kFalse;
  c.reason = accel.kvm ? "KVM" : "TCG";
  c.message = accel.reason;
  return c;
}

}  // namespace

AccelChoice agent_accel(const DriverOptions& options) {
  static std::mutex mu;
  static std::optional<AccelChoice> cached;
  std::lock_guard lock(mu);
  if (cached) return *cached;
  auto kernel = options.qemu_probe_kernel.empty() ? newest_boot_kernel() : options.qemu_probe_kernel;
  RealQemuProbe probe(options.qemu_binary, options.data_dir / "qemu");
  cached = choose_accel(options.qemu_accel, kernel, kProbeTimeout, probe);
  logger("agent")->info("qemu: {}", cached->reason);
  return *cached;
}

Result<std::unique_ptr<Driver>> make_qemu_driver(const DriverOptions& options) {
  if (options.data_dir.empty())
    return make_error(ErrorCode::kBadRequest, "qemu driver: data_dir must be set");
  if (options.qemu_accel != "auto" && options.qemu_accel != "kvm" && options.qemu_accel != "tcg")
    return make_error(ErrorCode::kBadRequest,
                      "qemu driver: accel must be auto, kvm or tcg, not \"" + options.qemu_accel + "\"");
  std::error_code ec;
  for (const char* sub : {"logs", "qemu"}) {
    std::filesystem::create_directories(options.data_dir / sub, ec);
    if (ec)
      return make_error(ErrorCode::kUnavailable, "qemu driver: cannot create " +
                                                     (options.data_dir / sub).string() + ": " +
                                                     ec.message());
  }
  return std::unique_ptr<Driver>(std::make_unique<QemuDriver>(options, agent_accel(options)));
}

QemuDriver::QemuDriver(DriverOptions options, AccelChoice accel)
    : options_(std::move(options)), accel_(std::move(accel)), processes_(options_) {}

std::filesystem::path QemuDriver::qmp_socket(const std::string& vm) const {
  return options_.data_dir / "qemu" / (vm + ".qmp");
}

InstanceStatus QemuDriver::with_condition(InstanceStatus status) const {
  if (status.state != InstanceState::kRunning) return status;
  std::lock_guard lock(mu_);
  auto it = adopted_accel_.find(status.name);
  status.conditions.push_back(accel_condition(it == adopted_accel_.end() ? accel_ : it->second));
  return status;
}

Result<InstanceStatus> QemuDriver::start(const VmInstance& vm) {
  if (vm.runtime.kernel.empty() && vm.runtime.image.empty())
    return make_error(ErrorCode::kBadRequest, "vm/" + vm.name + ": runtime.kernel (or image) is empty");
  QemuPaths paths;
  paths.binary = options_.qemu_binary;
  paths.serial_log = processes_.log_path(vm.name);
  paths.qmp_socket = qmp_socket(vm.name);
  std::error_code ec;
  std::filesystem::remove(paths.qmp_socket, ec);  // a previous copy's
  {
    std::lock_guard lock(mu_);
    adopted_accel_.erase(vm.name);
  }
  VmInstance run = vm;
  run.runtime.command = qemu_argv(vm, paths, accel_, options_.bind_address);
  auto started = processes_.start(run);
  if (!started) return started;
  return with_condition(std::move(*started));
}

bool QemuDriver::running(const std::string& name) {
  for (const InstanceStatus& s : processes_.list())
    if (s.name == name) return s.state == InstanceState::kRunning;
  return false;
}

void QemuDriver::quit_over_qmp(const std::string& name) {
  if (!running(name)) return;
  auto r = qmp_execute(qmp_socket(name), "quit", kQmpTimeout);
  if (!r) {
    // The connection may close before the answer: QEMU is quitting.
    if (r.error().code != ErrorCode::kUnavailable)
      logger("agent")->warn("vm/{}: {}", name, r.error().message);
  }
  // QEMU exits right after it answers; half the grace at most, so that the
  // process driver's SIGTERM, grace and SIGKILL still follow within budget.
  const auto until = std::chrono::steady_clock::now() + options_.stop_grace / 2;
  while (running(name) && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(options_.stop_poll);
}

Result<void> QemuDriver::stop(const std::string& name) {
  quit_over_qmp(name);
  return processes_.stop(name);
}

// Not over QMP: self-fencing stops every VM within ONE grace, and a QMP call
// per VM in turn could outlast it. QEMU takes SIGTERM as a clean quit too.
Result<void> QemuDriver::stop_all(const std::vector<std::string>& names) {
  return processes_.stop_all(names);
}

Result<void> QemuDriver::destroy(const std::string& name) {
  quit_over_qmp(name);
  auto r = processes_.destroy(name);
  std::error_code ec;
  std::filesystem::remove(qmp_socket(name), ec);
  std::lock_guard lock(mu_);
  adopted_accel_.erase(name);
  return r;
}

std::vector<InstanceStatus> QemuDriver::list() {
  auto all = processes_.list();
  for (auto& s : all) s = with_condition(std::move(s));
  return all;
}

Result<InstanceStats> QemuDriver::stats(const std::string& name) { return processes_.stats(name); }

Result<InstanceStatus> QemuDriver::adopt(const VmInstance& vm, const InstanceHandle& handle) {
  auto adopted = processes_.adopt(vm, handle);
  if (!adopted) return adopted;
  // Started by an earlier agent, whose accelerator may not be this one's: its
  // own command line says which it runs on.
  const std::string argv =
      read_whole(options_.proc_root / "proc" / std::to_string(handle.pid) / "cmdline");
  const bool kvm = argv.find(std::string("-accel\0kvm\0", 11)) != std::string::npos;
  if (kvm != accel_.kvm) {
    std::lock_guard lock(mu_);
    adopted_accel_[vm.name] = AccelChoice{
        kvm, std::string("adopted: started on ") + (kvm ? "KVM" : "TCG") + " by an earlier agent"};
  }
  return with_condition(std::move(*adopted));
}

Result<std::string> QemuDriver::guest_status(const std::string& vm) const {
  auto r = qmp_execute(qmp_socket(vm), "query-status", kQmpTimeout);
  if (!r) return r.take_error();
  if (!r->contains("status") || !(*r)["status"].is_string())
    return make_error(ErrorCode::kInternal, "QMP query-status: no status in " + r->dump());
  return (*r)["status"].get<std::string>();
}

}  // namespace corral::agent
