// Time is passed in, never read from the wall inside logic: components take a
// Clock, tests hand them a FakeClock and advance it instead of sleeping.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

namespace corral {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time: timestamps written into objects.
  virtual std::chrono::system_clock::time_point now() const = 0;
  // Monotonic time: intervals, timeouts, leases.
  virtual std::chrono::steady_clock::time_point steady_now() const = 0;
};

class RealClock final : public Clock {
 public:
  std::chrono::system_clock::time_point now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point steady_now() const override {
    return std::chrono::steady_clock::now();
  }
  static RealClock& instance();
};

// Thread-safe. Starts at a fixed instant so that test output is stable.
class FakeClock final : public Clock {
 public:
  FakeClock();
  std::chrono::system_clock::time_point now() const override;
  std::chrono::steady_clock::time_point steady_now() const override;
  void advance(std::chrono::milliseconds by);
  void set(std::chrono::system_clock::time_point wall);  // a wall-clock jump; steady time is unchanged

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point wall_;    // guarded by mu_
  std::chrono::steady_clock::time_point steady_;  // guarded by mu_
};

// RFC 3339 in UTC with milliseconds: "2026-11-25T13:44:45.123Z".
std::string format_time(std::chrono::system_clock::time_point t);
// Parses what format_time writes (and the same without fraction); false if malformed.
bool parse_time(const std::string& text, std::chrono::system_clock::time_point* out);
// Kubernetes-style age: "5s", "3m", "2h", "4d", "1y".
std::string format_age(std::chrono::system_clock::duration age);

}  // namespace corral
