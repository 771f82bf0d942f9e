// Fencer: the agent's self-fencing, on a thread of its own.
//
// The sync loop tells it two things: after every answered heartbeat, the new
// deadline (the send time of that beat + the lease grace: the controller
// renewed the lease no earlier), and after every change of its bindings, the
// selfFence VMs it tracks. At the deadline — whatever the sync loop is doing
// then: inside a heartbeat call, stopping a stale copy, starting a VM — the
// fence thread stops every selfFence VM the driver lists with ONE
// Driver::stop_all (SIGTERM to all at once, SIGKILL at the end of one stop
// grace: the fence budget) and destroys them. The controller's fence wait is
// therefore one budget, whatever the VM count (reconcile::FenceOptions).
//
// A selfFence VM is started only through while_lease_holds(), under the same
// lock the fence takes: a start either completes before the fence (which then
// stops it) or is refused — the deadline is checked while converging, not
// only around heartbeats.
//
// The fence watchdog (watchdog.h) enforces the same deadline from outside the
// agent's process; the Fencer forwards every renewal to it (FenceLease).
//
// Thread-safe. run() is the thread; tests call fence_if_due() with a FakeClock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "agent/drivers/driver.h"
#include "agent/fence/guard_file.h"
#include "base/clock.h"

namespace corral::agent {

class Fencer {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;
  // `lease` may be null (no watchdog: the sim driver, tests). Not owned.
  Fencer(Driver& driver, const Clock& clock, FenceLease* lease = nullptr);

  // After an answered heartbeat sent at `sent`: fence at sent + `grace`
  // unless renewed again. Returns true when this lifts a fence that had fired.
  bool renew(SteadyTime sent, std::chrono::milliseconds grace);
  // The selfFence VMs the agent tracks (bound here, or adopted as such).
  void set_guarded(std::set<std::string> names);

  // When the fence fires; nullopt before the first renewal, with nothing
  // guarded, or once fenced.
  std::optional<SteadyTime> deadline() const;
  bool fenced() const;
  // Why it fenced: "lease not renewed for 2.1s (grace 2s)"; empty when not.
  std::string reason() const;

  // Runs `start` if the lease holds at `now` (renewed, not fenced, before the
  // deadline), with the fence held off until it returns. Returns whether it ran.
  bool while_lease_holds(SteadyTime now, const std::function<void()>& start);

  // Fences when the deadline has passed at `now`: stops every guarded VM the
  // driver lists in one stop_all, then destroys them. Returns the number of
  // VMs it stopped, 0 when not due or already fenced. Blocks for up to one
  // stop grace.
  int fence_if_due(SteadyTime now);

  // The fence thread: sleeps until the deadline (or a renewal), fences.
  void run(std::stop_token stop);

 private:
  Driver& driver_;
  const Clock& clock_;
  FenceLease* lease_;

  // Held for a whole fence and around every selfFence start (see above).
  std::mutex fence_mu_;
  mutable std::mutex mu_;
  // Wakes the fence thread on a renewal or a change of the guarded set.
  void wake();
  std::mutex wake_mu_;
  std::condition_variable_any changed_;
  uint64_t generation_ = 0;  // guarded by wake_mu_
  std::optional<SteadyTime> sent_;               // guarded by mu_: the last answered send
  std::chrono::milliseconds grace_{0};           // guarded by mu_
  std::set<std::string> guarded_;               // guarded by mu_
  bool fenced_ = false;                         // guarded by mu_
  std::string reason_;                          // guarded by mu_
};

}  // namespace corral::agent
