// The fence guard file: what the fence watchdog (watchdog.h), a process of
// its own, needs to stop this host's selfFence VMs when the agent cannot —
// killed, OOM-killed or frozen (SIGSTOP). The agent writes it; the watchdog
// only reads it.
//
//   corral-fence-guard 1
//   deadline 1234567890123     CLOCK_BOOTTIME ns; 0: not armed (no answer yet)
//   budget-ms 10000            SIGTERM at the deadline, SIGKILL this much later
//   vm web-1 4242 991          name, pid (its process group), /proc starttime
//
// The deadline is the agent's own fence deadline (the send time of its last
// answered heartbeat + the lease grace), moved forward only when a heartbeat
// is answered: an agent that is dead or frozen renews nothing, and the
// watchdog fences at the deadline on its own. CLOCK_BOOTTIME, not the
// monotonic clock: it keeps counting while the host is suspended, as the
// controller's lease expiry does.
//
// Written with a temp file + rename (a reader sees the old or the new file,
// never half of one); not fsynced: its only reader is on this host, and a
// host crash ends the VMs too. A restarted agent loads the file it finds and
// keeps its deadline and entries until it has its own, so no gap opens.
//
// Thread-safe: the sync loop renews, the process driver adds and removes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "base/error.h"

namespace corral::agent {

// CLOCK_BOOTTIME now, in ns.
int64_t boottime_now_ns();

struct GuardEntry {
  int pid = 0;
  uint64_t start_time = 0;  // /proc/PID/stat starttime: a recycled pid is never signalled
  bool operator==(const GuardEntry&) const = default;
};

struct GuardState {
  int64_t deadline_ns = 0;  // CLOCK_BOOTTIME; 0: not armed
  int64_t budget_ms = 10'000;
  std::map<std::string, GuardEntry> vms;  // by VM name
  bool operator==(const GuardState&) const = default;
};

std::string format_guard(const GuardState& state);
// Errors: Invalid naming `file`, the line and what is wrong.
Result<GuardState> parse_guard(const std::string& text, const std::string& file);
// A missing file is NotFound; the rest as parse_guard.
Result<GuardState> read_guard_file(const std::filesystem::path& file);

// Where the agent tells its fence deadline (the sync loop, after each answered
// heartbeat). A seam: unit tests record, production writes the guard file.
class FenceLease {
 public:
  virtual ~FenceLease() = default;
  // The agent fences at `deadline` (its steady clock) unless renewed before.
  virtual void renew(std::chrono::steady_clock::time_point deadline) = 0;
};

class GuardFile final : public FenceLease {
 public:
  // Loads `file` if it exists (a previous agent's deadline and entries stay
  // in force), then writes it with `budget`. Errors name the file.
  static Result<std::unique_ptr<GuardFile>> open(const std::filesystem::path& file,
                                                 std::chrono::milliseconds budget);

  // Converts the steady deadline to CLOCK_BOOTTIME and writes it. A write
  // that fails is logged; the previous deadline stays (the watchdog fences
  // earlier, never later).
  void renew(std::chrono::steady_clock::time_point deadline) override;
  // Registers a selfFence VM's process (before it may exec: spawn.h's gate).
  Result<void> add(const std::string& vm, GuardEntry entry);
  void remove(const std::string& vm);
  GuardState state() const;
  const std::filesystem::path& path() const { return file_; }

 private:
  GuardFile(std::filesystem::path file, GuardState state);
  Result<void> write_locked();  // REQUIRES: mu_ held

  const std::filesystem::path file_;
  mutable std::mutex mu_;
  GuardState state_;  // guarded by mu_
};

}  // namespace corral::agent
