#include "agent/loop_health.h"

#include <cstdio>

namespace corral::agent {

namespace {
std::string seconds(int64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1fs", static_cast<double>(ms) / 1000.0);
  return text;
}
}  // namespace

LoopHealth::LoopHealth(const Clock& clock, std::chrono::milliseconds wedged_after)
    : clock_(clock), wedged_after_(wedged_after), last_beat_ms_(now_ms()) {}

int64_t LoopHealth::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.steady_now().time_since_epoch())
      .count();
}

void LoopHealth::beat() { last_beat_ms_.store(now_ms(), std::memory_order_relaxed); }

std::optional<std::string> LoopHealth::wedged() const {
  const int64_t quiet = now_ms() - last_beat_ms_.load(std::memory_order_relaxed);
  if (quiet <= wedged_after_.count()) return std::nullopt;
  return "the sync loop has not completed a round for " + seconds(quiet) + " (limit " +
         seconds(wedged_after_.count()) + "): wedged";
}

}  // namespace corral::agent
