// When the agent's next regular round (heartbeat, converge, report) is due.
// Pure, so that the schedule is tested without waiting.
#pragma once

#include <chrono>

namespace corral::agent {

// `next` is when the round that just ran was scheduled; `now` is after it ran.
// A round run on schedule moves the schedule one interval on (or to now, after
// a round slower than the interval, rather than bursting to catch up). A round
// run early, because the controller nudged the agent, leaves the schedule as it
// was: pushing the regular beat back by an interval on every nudge starved a
// controller that had just restarted of this node's beats for longer than its
// grace, and it judged a healthy node.
inline std::chrono::steady_clock::time_point next_round(std::chrono::steady_clock::time_point next,
                                                        std::chrono::steady_clock::time_point now,
                                                        bool ran_on_schedule,
                                                        std::chrono::milliseconds interval) {
  if (!ran_on_schedule) return next;
  next += interval;
  return next < now ? now : next;
}

}  // namespace corral::agent
