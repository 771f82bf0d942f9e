#include "agent/drivers/process_driver.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "agent/drivers/factories.h"
#include "agent/drivers/spawn.h"
#include "agent/fence/guard_file.h"
#include "base/log.h"

extern char** environ;

namespace corral::agent {

namespace {

// A process killed by signal N reports 128 + N, as shells do.
constexpr int kSignalExitBase = 128;
// Exit code of an adopted process: not our child, so its status cannot be read.
constexpr int kExitCodeUnknown = -1;

std::map<std::string, std::string> inherited_environment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

}  // namespace

Result<std::unique_ptr<Driver>> make_process_driver(const DriverOptions& options) {
  if (options.data_dir.empty())
    return make_error(ErrorCode::kBadRequest, "process driver: data_dir must be set");
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir / "logs", ec);
  if (ec)
    return make_error(ErrorCode::kUnavailable, "process driver: cannot create " +
                                                   (options.data_dir / "logs").string() + ": " +
                                                   ec.message());
  return std::unique_ptr<Driver>(std::make_unique<ProcessDriver>(options));
}

ProcessDriver::ProcessDriver(DriverOptions options)
    : options_(std::move(options)),
      proc_(options_.proc_root),
      cgroups_(options_.cgroup_root),
      ticks_per_second_(options_.clock_ticks_per_second > 0 ? options_.clock_ticks_per_second
                                                            : sysconf(_SC_CLK_TCK)),
      clock_(options_.clock ? options_.clock : &RealClock::instance()) {
  if (!cgroups_.enabled()) logger("agent")->warn("{} ({})", cgroups_.reason(), cgroups_.detail());
}

ProcessDriver::~ProcessDriver() {
  // Reap what has already ended; running VMs are left running on purpose.
  std::lock_guard lock(mu_);
  for (auto& [name, inst] : instances_) refresh_locked(inst);
}

std::filesystem::path ProcessDriver::log_path(const std::string& vm) const {
  return options_.data_dir / "logs" / (vm + ".log");
}

Result<InstanceStatus> ProcessDriver::start(const VmInstance& vm) {
  if (vm.name.empty() || vm.name.find('/') != std::string::npos || vm.name[0] == '.')
    return make_error(ErrorCode::kBadRequest, "start: invalid VM name \"" + vm.name + "\"");
  if (vm.runtime.command.empty())
    return make_error(ErrorCode::kBadRequest, "vm/" + vm.name + ": runtime.command is empty");
  std::lock_guard lock(mu_);
  if (auto it = instances_.find(vm.name); it != instances_.end()) {
    refresh_locked(it->second);
    if (it->second.status.state == InstanceState::kRunning)
      return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + " is already running");
  }

  Instance inst;
  InstanceStatus& s = inst.status;
  s.name = vm.name;
  s.epoch = vm.epoch;
  auto port = allocate_port(options_.bind_address);
  if (!port) {
    s.state = InstanceState::kFailedToStart;
    s.message = "failed to start: no free port: " + port.error().message;
    instances_[vm.name] = inst;
    return s;
  }
  s.port = *port;

  std::map<std::string, std::string> vars = {
      {"PORT", std::to_string(s.port)},
      {"CORRAL_PORT", std::to_string(s.port)},
      {"CORRAL_VM_NAME", vm.name},
      {"CORRAL_NODE", vm.node},
      {"CORRAL_EPOCH", std::to_string(vm.epoch)},
  };
  SpawnRequest req;
  for (const auto& arg : vm.runtime.command) req.argv.push_back(substitute(arg, vars));
  req.env = inherited_environment();
  // The controller resolved every secretKeyRef into a value before sending
  // the binding (controller/heartbeat/secret_env.h); one left unresolved is not set.
  for (const EnvVar& e : vm.runtime.env.items)
    if (!e.from_secret()) req.env[e.name] = substitute(e.value, vars);
  // The CORRAL_* facts win over runtime.env: a VM cannot be told a wrong port.
  for (const auto& [k, v] : vars) req.env[k] = v;
  req.log_file = log_path(vm.name);
  if (vm.self_fence && options_.guard) {
    req.before_exec = [this, &vm](int pid, std::string* error) {
      auto p = proc_.process(pid);
      auto added = p ? options_.guard->add(vm.name, GuardEntry{pid, p->start_time})
                     : Result<void>(p.take_error());
      if (!added) *error = "cannot register it with the fence watchdog: " + added.error().message;
      return added.ok();
    };
  }

  if (cgroups_.enabled()) {
    auto dir = cgroups_.create(vm.name, vm.resources);
    if (dir) {
      req.cgroup_dir = *dir;
    } else {
      s.limits_message = dir.error().message + ": limits not enforced";
    }
  } else {
    s.limits_message = cgroups_.reason();
  }

  SpawnResult r = spawn_process(req);
  if (!r.started) {
    if (vm.self_fence && options_.guard) options_.guard->remove(vm.name);
    s.state = InstanceState::kFailedToStart;
    s.message = r.error;
    logger("agent")->warn("vm/{} {}", vm.name, r.error);
  } else {
    s.state = InstanceState::kRunning;
    s.pid = r.pid;
    s.limits_enforced = r.cgroup_joined;
    if (!req.cgroup_dir.empty() && !r.cgroup_joined)
      s.limits_message = r.cgroup_error + ": limits not enforced";
    // The start time identifies this process for adoption after an agent
    // restart. The child is ours and unreaped, so /proc/PID exists.
    if (auto p = proc_.process(r.pid); p) s.start_time = p->start_time;
    logger("agent")->info("vm/{} started: pid {} port {} epoch {}", vm.name, s.pid, s.port,
                          vm.epoch);
  }
  instances_[vm.name] = inst;
  return s;
}

void ProcessDriver::record_wait_status_locked(Instance& inst, int wait_status) {
  InstanceStatus& s = inst.status;
  s.state = InstanceState::kExited;
  if (WIFEXITED(wait_status)) {
    s.exit_code = WEXITSTATUS(wait_status);
    s.message = "exited with code " + std::to_string(s.exit_code);
  } else if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    s.exit_code = kSignalExitBase + sig;
    s.message =
        std::string("killed by signal ") + std::to_string(sig) + " (" + strsignal(sig) + ")";
  }
  logger("agent")->info("vm/{} (pid {}) {}", s.name, s.pid, s.message);
  // Reaped: its pid may be handed out again, so the watchdog must forget it.
  if (options_.guard) options_.guard->remove(s.name);
}

bool ProcessDriver::alive_as_recorded(const InstanceStatus& s) const {
  auto p = proc_.process(s.pid);
  return p && p->start_time == s.start_time && p->state != 'Z';
}

void ProcessDriver::refresh_locked(Instance& inst) {
  InstanceStatus& s = inst.status;
  if (s.state != InstanceState::kRunning) return;
  if (!s.adopted) {
    if (inst.stopping) return;  // stop_all() reaps it (the group id must stay ours)
    int status = 0;
    pid_t r = waitpid(s.pid, &status, WNOHANG);
    if (r == s.pid) record_wait_status_locked(inst, status);
    return;
  }
  if (!alive_as_recorded(s)) {
    s.state = InstanceState::kExited;
    s.exit_code = kExitCodeUnknown;
    s.message = "exited (exit code unknown: adopted from a previous agent run)";
    if (options_.guard) options_.guard->remove(s.name);
  }
}

bool ProcessDriver::leader_ended(const InstanceStatus& s) const {
  if (s.adopted) return !alive_as_recorded(s);
  siginfo_t info{};
  return waitid(P_PID, static_cast<id_t>(s.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == s.pid;
}

void ProcessDriver::finish_stop_locked(Instance& inst) {
  InstanceStatus& s = inst.status;
  inst.stopping = false;
  const pid_t group = s.pid;  // the VM is the leader of its own group
  if (!s.adopted) {
    // Children that outlived the leader, or a leader that ignored SIGTERM.
    // The leader is unreaped, so the group id is still this VM's.
    kill(-group, SIGKILL);
    int status = 0;
    pid_t r;
    while ((r = waitpid(s.pid, &status, 0)) < 0 && errno == EINTR) {
    }
    if (r == s.pid) record_wait_status_locked(inst, status);
    return;
  }
  // An adopted leader is reaped by init, so its pid may be reused as soon as
  // it is gone: signal the group only while the recorded leader still exists.
  auto p = proc_.process(s.pid);
  if (p && p->start_time == s.start_time) kill(-group, SIGKILL);
  s.state = InstanceState::kExited;
  s.exit_code = kExitCodeUnknown;
  s.message = "stopped (exit code unknown: adopted from a previous agent run)";
  if (options_.guard) options_.guard->remove(s.name);
}

Result<void> ProcessDriver::stop_all(const std::vector<std::string>& names) {
  struct Target {
    std::string name;
    InstanceStatus status;  // as signalled: pid, adopted, start time
  };
  std::vector<Target> targets;
  {
    std::lock_guard lock(mu_);
    for (const std::string& name : names) {
      auto it = instances_.find(name);
      if (it == instances_.end()) continue;
      Instance& inst = it->second;
      refresh_locked(inst);
      if (inst.status.state != InstanceState::kRunning) continue;
      // Already being stopped by another caller: waited for, not signalled twice.
      if (!inst.stopping) kill(-inst.status.pid, SIGTERM);
      inst.stopping = true;
      targets.push_back({name, inst.status});
    }
  }
  if (targets.empty()) return Ok{};
  // One grace for all of them.
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  auto all_ended = [&] {
    for (const Target& t : targets)
      if (!leader_ended(t.status)) return false;
    return true;
  };
  while (!all_ended() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(options_.stop_poll);
  std::lock_guard lock(mu_);
  for (const Target& t : targets) {
    auto it = instances_.find(t.name);
    // Finished by another caller meanwhile (reaped, maybe started anew).
    if (it == instances_.end() || it->second.status.pid != t.status.pid ||
        it->second.status.state != InstanceState::kRunning || !it->second.stopping)
      continue;
    finish_stop_locked(it->second);
  }
  return Ok{};
}

Result<void> ProcessDriver::stop(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    if (!instances_.count(name))
      return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  }
  return stop_all({name});
}

Result<void> ProcessDriver::destroy(const std::string& name) {
  for (;;) {
    (void)stop_all({name});
    std::lock_guard lock(mu_);
    auto it = instances_.find(name);
    if (it == instances_.end()) return Ok{};
    refresh_locked(it->second);
    // Started again between the stop and here: stop that one too.
    if (it->second.status.state == InstanceState::kRunning) continue;
    cgroups_.remove(name);
    instances_.erase(it);
    return Ok{};
  }
}

std::vector<InstanceStatus> ProcessDriver::list() {
  std::lock_guard lock(mu_);
  std::vector<InstanceStatus> out;
  for (auto& [name, inst] : instances_) {
    refresh_locked(inst);
    out.push_back(inst.status);
  }
  return out;
}

Result<InstanceStats> ProcessDriver::stats(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  Instance& inst = it->second;
  refresh_locked(inst);
  InstanceStats st;
  if (inst.status.state != InstanceState::kRunning) return st;
  // Only the group leader is measured for now; the cgroup's cpu.stat and
  // memory.current (which cover the whole tree) come with the sync loop.
  auto p = proc_.process(inst.status.pid);
  if (!p) return p.take_error();
  auto now = clock_->steady_now();
  if (inst.has_sample)
    st.cpu_milli = process_cpu_milli(inst.sample_ticks, p->cpu_ticks, now - inst.sample_time,
                                     ticks_per_second_);
  inst.has_sample = true;
  inst.sample_ticks = p->cpu_ticks;
  inst.sample_time = now;
  auto rss = proc_.process_rss_bytes(inst.status.pid);
  if (!rss) return rss.take_error();
  st.memory_bytes = *rss;
  return st;
}

Result<InstanceStatus> ProcessDriver::adopt(const VmInstance& vm, const InstanceHandle& handle) {
  std::lock_guard lock(mu_);
  if (instances_.count(vm.name))
    return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + " is already known");
  if (handle.pid <= 0)
    return make_error(ErrorCode::kBadRequest, "vm/" + vm.name + ": no pid to adopt");
  auto p = proc_.process(handle.pid);
  if (!p)
    return make_error(ErrorCode::kNotFound, "vm/" + vm.name + ": pid " +
                                                std::to_string(handle.pid) + " is gone (" +
                                                p.error().message + ")");
  if (p->start_time != handle.start_time)
    return make_error(ErrorCode::kConflict,
                      "vm/" + vm.name + ": pid " + std::to_string(handle.pid) + " started at " +
                          std::to_string(p->start_time) + ", the state file says " +
                          std::to_string(handle.start_time) +
                          ": the pid was recycled, not adopting");
  if (p->state == 'Z')
    return make_error(ErrorCode::kNotFound,
                      "vm/" + vm.name + ": pid " + std::to_string(handle.pid) + " has exited");
  Instance inst;
  InstanceStatus& s = inst.status;
  s.name = vm.name;
  s.epoch = vm.epoch;
  s.state = InstanceState::kRunning;
  s.pid = handle.pid;
  s.start_time = handle.start_time;
  s.port = handle.port;
  s.adopted = true;
  std::error_code ec;
  s.limits_enforced = cgroups_.enabled() && std::filesystem::exists(cgroups_.dir(vm.name), ec);
  if (!s.limits_enforced)
    s.limits_message = cgroups_.enabled() ? "no cgroup for the adopted process: limits not enforced"
                                          : cgroups_.reason();
  instances_[vm.name] = inst;
  logger("agent")->info("vm/{} adopted: pid {} port {} epoch {}", vm.name, s.pid, s.port, vm.epoch);
  return s;
}

}  // namespace corral::agent
