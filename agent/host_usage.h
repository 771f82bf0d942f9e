// HostUsage: what the heartbeat says about the host — capacity (measured, or
// overridden by flags), allocatable (capacity less what is reserved for the
// host) and use, smoothed by Ewma so that one busy second does not move VMs.
//
// CPU use is the busy share of /proc/stat between two samples, so the first
// sample yields no CPU figure (0 until the second). Times are steady-clock
// times passed in by the caller. A measurement that fails keeps the previous
// value and is logged when its error changes (not every second).
//
// Not thread-safe: owned by the sync loop.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "agent/metrics/ewma.h"
#include "agent/metrics/metrics_source.h"
#include "api/types.h"

namespace corral::agent {

struct HostUsageOptions {
  // A set quantity replaces the measured one (--cpu, --memory); unset: measured.
  ResourceList capacity_override;
  // Kept back for the host itself (--reserved-cpu, --reserved-memory); default 0.
  ResourceList reserved;
  Ewma::Options smoothing;  // alpha 0.3 per heartbeat interval
};

class HostUsage {
 public:
  HostUsage(const MetricsSource& source, HostUsageOptions options);

  // Measures once at `now`.
  void sample(std::chrono::steady_clock::time_point now);
  // The sim driver stands for a whole host, but /proc measures the machine the
  // simulation runs on: its use is what its simulated VMs use. Smoothed like
  // a measurement, so the controller sees the same kind of signal.
  void sample_simulated(const ResourceList& use, std::chrono::steady_clock::time_point now);

  // False until capacity is known (measured once, or both quantities overridden).
  bool has_capacity() const { return capacity_.cpu.milli > 0 && capacity_.memory.milli > 0; }
  // Why there is no capacity yet (the measurement's error), for the log.
  const std::string& capacity_error() const { return capacity_error_; }
  const ResourceList& capacity() const { return capacity_; }
  // capacity − reserved, never below 0.
  ResourceList allocatable() const;
  // Smoothed, and never above capacity: with an overridden capacity the host
  // may really use more, but the controller schedules against the override.
  ResourceList usage() const;

 private:
  void measure_capacity();
  void note_error(const std::string& what, const std::string& message);

  const MetricsSource& source_;
  HostUsageOptions options_;
  ResourceList capacity_;
  std::string capacity_error_;
  std::optional<HostCpuSample> last_cpu_;
  Ewma cpu_milli_;
  Ewma memory_bytes_;
  std::string last_error_;  // the last logged measurement error, to log changes only
};

}  // namespace corral::agent
