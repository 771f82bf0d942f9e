#include "agent/fence/watchdog.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "agent/metrics/metrics_source.h"
#include "base/log.h"

namespace corral::agent {

namespace {

Logger* fence_log() { return logger("fence"); }

std::string key_of(const GuardEntry& e) {
  return std::to_string(e.pid) + ":" + std::to_string(e.start_time);
}

std::string ms_text(int64_t ns) { return std::to_string(ns / 1'000'000) + " ms"; }

}  // namespace

ProcessOps::Found RealProcessOps::find(int pid, uint64_t start_time) {
  static const MetricsSource proc("/");
  auto p = proc.process(pid);
  if (!p) return ::kill(pid, 0) == 0 || errno == EPERM ? Found::kOther : Found::kGone;
  if (p->start_time != start_time) return Found::kOther;
  return p->state == 'Z' ? Found::kOursZombie : Found::kOurs;
}

void RealProcessOps::signal_group(int pgid, int signal) {
  // The VM leads its group (spawn.cpp); the leader alone too, in case an
  // adopted one has left it.
  ::kill(-pgid, signal);
  ::kill(pgid, signal);
}

std::vector<std::string> FenceWatchdog::step(const GuardState& state, int64_t now_ns) {
  std::vector<std::string> did;
  if (state.deadline_ns > 0 && now_ns >= state.deadline_ns) {
    for (const auto& [vm, entry] : state.vms) {
      const std::string key = key_of(entry);
      if (fencing_.count(key)) continue;
      Fencing f{vm, entry, now_ns + state.budget_ms * 1'000'000, false};
      if (ops_.find(entry.pid, entry.start_time) == ProcessOps::Found::kOurs) {
        ops_.signal_group(entry.pid, SIGTERM);
        did.push_back("vm/" + vm + " pid " + std::to_string(entry.pid) +
                      ": the agent's fence deadline passed " +
                      ms_text(now_ns - state.deadline_ns) + " ago: SIGTERM, SIGKILL in " +
                      std::to_string(state.budget_ms) + " ms");
      } else {
        f.done = true;  // already gone (or the pid is another process's now)
      }
      fencing_.emplace(key, std::move(f));
    }
  }
  for (auto& [key, f] : fencing_) {
    if (f.done || now_ns < f.kill_at_ns) continue;
    f.done = true;
    const auto found = ops_.find(f.entry.pid, f.entry.start_time);
    // The leader gone and its pid free: what is left of the group is the
    // VM's, since no new group can take the id of a pid nobody holds.
    if (found == ProcessOps::Found::kOther) continue;
    ops_.signal_group(f.entry.pid, SIGKILL);
    if (found == ProcessOps::Found::kOurs)
      did.push_back("vm/" + f.vm + " pid " + std::to_string(f.entry.pid) +
                    ": still running at the end of the budget: SIGKILL");
  }
  return did;
}

size_t FenceWatchdog::pending() const {
  size_t n = 0;
  for (const auto& [key, f] : fencing_) n += f.done ? 0 : 1;
  return n;
}

WatchdogPaths watchdog_paths(const std::filesystem::path& data_dir) {
  return {data_dir, data_dir / "fence-guard", data_dir / "fence-watchdog.lock",
          data_dir / "fence-watchdog.log"};
}

bool watchdog_on_duty(const std::filesystem::path& lock) {
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // releases the lock if we took it
  return held;
}

Result<void> spawn_watchdog(const WatchdogPaths& paths) {
  // Everything the children need is made before fork: the agent has threads,
  // so only async-signal-safe calls may follow it.
  const std::string data_dir = paths.data_dir.string();
  const char* argv[] = {"corral-agent", "fence-watchdog", "--data-dir", data_dir.c_str(), nullptr};
  int log_fd = ::open(paths.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (log_fd < 0)
    return make_error(ErrorCode::kUnavailable, paths.log.string() + ": " + std::strerror(errno));
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) {
    ::close(log_fd);
    return make_error(ErrorCode::kUnavailable, std::string("/dev/null: ") + std::strerror(errno));
  }
  pid_t child = ::fork();
  if (child == 0) {
    // A session of its own: no signal to the agent's group or terminal reaches it.
    ::setsid();
    if (::fork() != 0) _exit(0);  // the watchdog is re-parented, never the agent's zombie
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(log_fd, STDOUT_FILENO) < 0 ||
        ::dup2(log_fd, STDERR_FILENO) < 0)
      _exit(127);
    ::close_range(3, ~0U, 0);
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
    _exit(127);
  }
  const int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (child < 0)
    return make_error(ErrorCode::kUnavailable, std::string("fork: ") + std::strerror(fork_errno));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return Ok{};
}

void keep_watchdog_on_duty(std::stop_token stop, const WatchdogPaths& paths,
                           std::chrono::milliseconds every) {
  std::mutex mu;
  std::condition_variable_any cv;
  bool started_once = false;
  while (!stop.stop_requested()) {
    if (!watchdog_on_duty(paths.lock)) {
      if (auto s = spawn_watchdog(paths); !s) {
        fence_log()->error("cannot start the fence watchdog: {}; retrying", s.error().message);
      } else if (started_once) {
        fence_log()->warn("the fence watchdog was not on duty ({}): started a new one",
                          paths.lock.string());
      } else {
        fence_log()->info("fence watchdog started: it fences this host's selfFence VMs from {} "
                          "even if this agent dies or freezes (log: {})",
                          paths.guard.string(), paths.log.string());
      }
      started_once = true;
    }
    std::unique_lock lock(mu);
    cv.wait_for(lock, stop, every, [] { return false; });
  }
}

int watchdog_main(int argc, char** argv) {
  std::filesystem::path data_dir;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--data-dir" && i + 1 < argc) {
      data_dir = argv[++i];
    } else {
      std::cerr << "corral-agent fence-watchdog: unknown argument " << arg
                << " (usage: corral-agent fence-watchdog --data-dir DIR)\n";
      return 1;
    }
  }
  if (data_dir.empty()) {
    std::cerr << "corral-agent fence-watchdog: --data-dir is required\n";
    return 1;
  }
  const WatchdogPaths paths = watchdog_paths(data_dir);
  const std::filesystem::path& guard = paths.guard;
  const std::filesystem::path& lock = paths.lock;
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::cerr << "corral-agent fence-watchdog: " << lock.string() << ": " << std::strerror(errno)
              << "\n";
    return 1;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) return 0;  // another watchdog is on duty
  // Lower the odds that the OOM killer picks it (allowed only with
  // CAP_SYS_RESOURCE; without, the default stays).
  if (std::ofstream adj("/proc/self/oom_score_adj"); adj) adj << "-1000\n";
  fence_log()->info("fence watchdog pid {} on duty for {}", ::getpid(), guard.string());
  flush_logs();
  RealProcessOps ops;
  FenceWatchdog watchdog(ops);
  GuardState last;
  bool have = false, reported_bad = false;
  constexpr auto kPoll = std::chrono::milliseconds(100);
  // Gone this many polls in a row: the data dir was removed, nothing to guard.
  constexpr int kGoneExit = 10;
  int gone = 0;
  for (;;) {
    auto read = read_guard_file(guard);
    if (read) {
      last = *read;
      have = true;
      gone = 0;
      reported_bad = false;
    } else if (read.error().code == ErrorCode::kNotFound) {
      if (++gone >= kGoneExit && watchdog.pending() == 0) {
        fence_log()->info("{} is gone: nothing left to guard, exiting", guard.string());
        flush_logs();
        return 0;
      }
    } else if (!reported_bad) {
      // The last good content stays in force: its deadline fires on time.
      fence_log()->error("{}; keeping the last good content", read.error().message);
      flush_logs();
      reported_bad = true;
    }
    if (have) {
      const auto did = watchdog.step(last, boottime_now_ns());
      for (const std::string& line : did) fence_log()->warn("{}", line);
      if (!did.empty()) flush_logs();
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace corral::agent
