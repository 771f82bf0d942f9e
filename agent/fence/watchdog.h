// The fence watchdog: a small process, one per host (per agent data dir),
// that stops the selfFence VMs listed in the guard file (guard_file.h) when
// the agent's fence deadline passes — SIGTERM to each VM's process group at
// the deadline, SIGKILL at deadline + budget — whether or not the agent runs.
//
// Why a process of its own (ARCHITECTURE.md, "Split-brain"): an agent that is
// kill -9'd, OOM-killed or SIGSTOPped fences nothing, yet its VMs keep
// running. The watchdog is the agent binary re-executed as
// `corral-agent fence-watchdog --data-dir DIR` (so that whatever finds an
// agent's processes by --data-dir finds it too), double-forked into a
// session of its own: not the agent's child, not in its process group, so a
// signal to the agent or its group does not reach it, and the OOM killer
// picks one process, not both. It holds an flock on the lock file while on
// duty; the agent checks that lock every second and starts a new watchdog
// when none holds it (a second one started meanwhile finds the lock taken and
// exits). Both dead at once is the remaining gap: sbd answers it with a
// hardware watchdog that reboots the host; see ARCHITECTURE.md.
//
// Safety against recycled pids: a VM is signalled only while /proc/PID/stat's
// starttime is the one recorded (a zombie of it counts: its group may still
// hold children); the SIGKILL to the group also when no process has that pid
// any more (then no new group can have that id).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/fence/guard_file.h"
#include "base/error.h"

namespace corral::agent {

// What the watchdog may know about a process, and how it signals: a seam so
// that the decisions are tested with a fake.
class ProcessOps {
 public:
  enum class Found { kGone, kOurs, kOursZombie, kOther };
  virtual ~ProcessOps() = default;
  // kOurs / kOursZombie when `pid` is the process recorded (starttime equal).
  virtual Found find(int pid, uint64_t start_time) = 0;
  virtual void signal_group(int pgid, int signal) = 0;
};

// /proc and kill(2).
class RealProcessOps final : public ProcessOps {
 public:
  Found find(int pid, uint64_t start_time) override;
  void signal_group(int pgid, int signal) override;
};

// The decisions, one poll at a time; time is passed in (CLOCK_BOOTTIME ns).
class FenceWatchdog {
 public:
  explicit FenceWatchdog(ProcessOps& ops) : ops_(ops) {}
  // Returns what it did, one line per action, for the log.
  std::vector<std::string> step(const GuardState& state, int64_t now_ns);
  // VMs signalled and not yet killed.
  size_t pending() const;

 private:
  struct Fencing {
    std::string vm;
    GuardEntry entry;
    int64_t kill_at_ns = 0;
    bool done = false;
  };
  ProcessOps& ops_;
  std::map<std::string, Fencing> fencing_;  // by "pid:starttime"
};

struct WatchdogPaths {
  std::filesystem::path data_dir;
  std::filesystem::path guard;  // DATA_DIR/fence-guard
  std::filesystem::path lock;   // DATA_DIR/fence-watchdog.lock
  std::filesystem::path log;    // DATA_DIR/fence-watchdog.log (its stdout and stderr)
};
WatchdogPaths watchdog_paths(const std::filesystem::path& data_dir);

// `corral-agent fence-watchdog --data-dir DIR`: polls the guard file
// every `poll` (100 ms) and runs FenceWatchdog. Exits 0 when another watchdog
// holds the lock, or once the guard file has been gone for a second (its data
// dir removed); 1 for bad arguments.
int watchdog_main(int argc, char** argv);

// Whether a watchdog holds `lock` now.
bool watchdog_on_duty(const std::filesystem::path& lock);
// Starts a watchdog (double fork, setsid, stdin /dev/null, output to
// paths.log, no other descriptor), re-executing /proc/self/exe.
Result<void> spawn_watchdog(const WatchdogPaths& paths);
// Every `every` until `stop`: starts a watchdog when none is on duty.
void keep_watchdog_on_duty(std::stop_token stop, const WatchdogPaths& paths,
                           std::chrono::milliseconds every);

}  // namespace corral::agent
