// MetricsSource: host and per-process measurements read from a /proc-like root.
//
// The root is "/" in production and a fixture directory in tests, so every
// parser here is exercised against files the test wrote (the seam named in
// ARCHITECTURE.md). Nothing reads the wall clock: rates are computed from two
// samples and an elapsed time the caller measured with its Clock.
//
// A missing or malformed file is an Error naming the file and what was wrong;
// nothing here throws or aborts on bad input.
//
// Thread-safe: the object holds only its root path.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "base/error.h"

namespace corral::agent {

// Aggregate CPU time of the host from the first line of /proc/stat, in clock ticks.
struct HostCpuSample {
  uint64_t busy_ticks = 0;   // user + nice + system + irq + softirq + steal
  uint64_t total_ticks = 0;  // busy + idle + iowait
};

struct HostMemory {
  int64_t total_bytes = 0;      // MemTotal
  int64_t available_bytes = 0;  // MemAvailable
  int64_t used_bytes = 0;       // total − available: what the host cannot hand out
};

struct HostCapacity {
  int64_t cpu_milli = 0;     // cores × 1000 (Quantity::milli for CPU)
  int64_t memory_bytes = 0;  // MemTotal
};

struct ProcessSample {
  uint64_t cpu_ticks = 0;   // utime + stime (fields 14 and 15 of /proc/PID/stat)
  uint64_t start_time = 0;  // starttime (field 22): ticks after boot; identifies the process
  char state = '?';         // field 3: R, S, D, Z, ...
};

class MetricsSource {
 public:
  // `root` is the directory that holds proc/ ("/" in production).
  explicit MetricsSource(std::filesystem::path root);

  Result<HostCpuSample> host_cpu() const;
  Result<HostMemory> host_memory() const;
  // CPU count from the cpuN lines of /proc/stat, else the "processor" lines of
  // /proc/cpuinfo; memory from MemTotal.
  Result<HostCapacity> host_capacity() const;

  Result<ProcessSample> process(int pid) const;
  // VmRSS from /proc/PID/status, in bytes. A kernel thread or zombie has no
  // VmRSS line; that reads as 0, not as an error.
  Result<int64_t> process_rss_bytes(int pid) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path proc_file(const std::string& rel) const;
  std::filesystem::path root_;
};

// Cores in use between two host samples, in milli-cores: the busy share of the
// elapsed ticks times the core count. 0 when no ticks passed (samples too close).
int64_t host_cpu_milli(const HostCpuSample& before, const HostCpuSample& after,
                       int64_t capacity_cpu_milli);

// Cores a process used between two samples, in milli-cores. `ticks_per_second`
// is sysconf(_SC_CLK_TCK) in production; tests pass a fixed value so that the
// result is deterministic. 0 when elapsed is not positive.
int64_t process_cpu_milli(uint64_t ticks_before, uint64_t ticks_after,
                          std::chrono::nanoseconds elapsed, int64_t ticks_per_second);

}  // namespace corral::agent
