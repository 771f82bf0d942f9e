// SimDriver: simulated VMs, no processes. For unit tests of the agent loop and
// for the scale simulator (thousands of agents in one process).
//
// An instance's CPU and memory use start as its runtime.sim load and can be
// changed by the test (set_load), and an instance can be made to crash
// (crash) or to fail its next start (fail_next_start). Deterministic: no
// sleeps, no clock, no randomness. Like Ninja's FakeCommandRunner it records
// what it was asked to do (calls()), so tests can assert on the sequence.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "agent/drivers/driver.h"

namespace corral::agent {

class SimDriver final : public Driver {
 public:
  SimDriver() = default;

  std::string name() const override { return "sim"; }
  Result<InstanceStatus> start(const VmInstance& vm) override;
  Result<void> stop(const std::string& name) override;
  Result<void> destroy(const std::string& name) override;
  std::vector<InstanceStatus> list() override;
  Result<InstanceStats> stats(const std::string& name) override;
  // A SimDriver stands for the host, so an agent restarted over the same
  // driver object finds its VMs still there: adopt() takes back an instance
  // this driver runs with the same epoch (the handle is not checked), and is
  // NotFound otherwise (a simulated VM does not outlive its driver).
  Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& handle) override;

  // ---- test controls ----
  // Overrides the scripted load of a known instance; NotFound otherwise.
  Result<void> set_load(const std::string& name, int64_t cpu_milli, int64_t memory_bytes);
  // The instance ends as if its process had exited with `exit_code`.
  Result<void> crash(const std::string& name, int exit_code = 1);
  // The next start() of `name` reports kFailedToStart with `message`.
  void fail_next_start(const std::string& name, const std::string& message);
  // "start web-1", "stop web-1", "destroy web-1", "adopt web-1", in call order.
  std::vector<std::string> calls() const;
  // Called at the start of every stop(), outside the lock: a test advances
  // its FakeClock here to make a stop take time (a guest slow to shut down).
  // Set it before the driver is used from other threads.
  std::function<void(const std::string&)> on_stop;

 private:
  struct Instance {
    InstanceStatus status;
    InstanceStats load;
  };
  mutable std::mutex mu_;
  std::map<std::string, Instance> instances_;     // guarded by mu_
  std::map<std::string, std::string> fail_next_;  // guarded by mu_
  std::vector<std::string> calls_;                // guarded by mu_
};

}  // namespace corral::agent
