// Ewma: an exponentially weighted moving average for smoothing measured use
// before it is reported (the scheduler's leastLoaded scorer and the
// rebalancer act on smoothed values so that one busy second does not move VMs).
//
// Samples may arrive at irregular intervals (a slow /proc read, a missed tick),
// so the weight of a sample depends on the time since the previous one:
// weight = 1 − (1 − alpha)^(dt / interval). A sample exactly one nominal interval
// after the last weighs alpha; a long gap weighs the new sample more.
// Time is passed in; nothing here reads a clock.
//
// Not thread-safe: owned by one loop.
#pragma once

#include <chrono>
#include <optional>

namespace corral::agent {

class Ewma {
 public:
  struct Options {
    // Weight of a sample taken one `interval` after the previous one. 0.3 gives
    // a time constant of about 3 intervals: a step change shows 66 % after
    // 3 heartbeats, so a spike is damped but a real change is seen within seconds.
    double alpha = 0.3;
    // The nominal sampling interval: the agent's heartbeat interval (default 1 s).
    std::chrono::milliseconds interval{1000};
  };

  Ewma() : Ewma(Options{}) {}
  explicit Ewma(Options options);

  // Folds in one sample taken at `now`. The first sample is taken as is. A
  // sample not later than the previous one (dt ≤ 0) is ignored, so that a
  // repeated read cannot skew the average.
  void add(double sample, std::chrono::steady_clock::time_point now);

  bool has_value() const { return value_.has_value(); }
  // 0 before the first sample.
  double value() const { return value_.value_or(0.0); }
  void reset() { value_.reset(); }

 private:
  Options options_;
  std::optional<double> value_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace corral::agent
