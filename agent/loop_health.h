// LoopHealth: whether the sync loop still makes rounds, for the endpoint's
// /healthz (agent/local_endpoint.h) — which is what peers probe when the
// controller stops hearing this node. An agent whose loop is stuck (a driver
// call that never returns, a deadlock) converges nothing and renews no lease;
// answering "ok" for it would tell the controller a peer still reaches a node
// that in fact does nothing.
//
// The loop's heartbeat call is its pulse: every round that is due calls it
// (agent/watched_control_plane.h notes each call's end here), whether the
// controller answers or not, so a controller outage is not a wedged loop.
//
// Thread-safe: beat() from the loop, wedged() from the endpoint's threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "base/clock.h"

namespace corral::agent {

class LoopHealth {
 public:
  // `wedged_after`: how long without a finished round means wedged. The
  // agent sets it from its flags (main.cpp): ten heartbeat intervals, plus the
  // longest a healthy round takes (two heartbeat timeouts and a VM's stop grace).
  // The clock's steady time is taken as a beat at construction.
  LoopHealth(const Clock& clock, std::chrono::milliseconds wedged_after);

  void beat();
  // nullopt while healthy; else why not ("the sync loop has not completed a
  // round for 31.2s (limit 24s): wedged").
  std::optional<std::string> wedged() const;
  std::chrono::milliseconds wedged_after() const { return wedged_after_; }

 private:
  int64_t now_ms() const;

  const Clock& clock_;
  const std::chrono::milliseconds wedged_after_;
  std::atomic<int64_t> last_beat_ms_;  // steady time of the last finished round
};

}  // namespace corral::agent
