#include "controller/server/event_limits.h"

#include <algorithm>
#include <cmath>

#include "api/json.h"

namespace corral::server {

Result<void> check_event_size(const Json& normalized, const EventLimits& limits) {
  auto m = normalized.find("message");
  if (m != normalized.end() && m->is_string() &&
      m->get_ref<const std::string&>().size() > limits.max_message_bytes) {
    return invalid("event", {Cause{"message",
                                   "must be at most " + std::to_string(limits.max_message_bytes) +
                                       " bytes, not " +
                                       std::to_string(m->get_ref<const std::string&>().size()),
                                   ""}});
  }
  const size_t size = normalized.dump().size();
  if (size > limits.max_object_bytes) {
    return make_error(ErrorCode::kTooLarge,
                      "an Event written by a node or a balancer must be at most " +
                          std::to_string(limits.max_object_bytes) + " bytes of JSON, not " +
                          std::to_string(size));
  }
  return Ok{};
}

EventRateLimiter::EventRateLimiter(const Clock& clock, const EventLimits& limits)
    : clock_(clock),
      rate_(std::max(limits.rate_per_second, 1e-9)),
      burst_(std::max(limits.burst, 1.0)) {}

EventRateLimiter::Decision EventRateLimiter::admit(const std::string& key) {
  const auto now = clock_.steady_now();
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.refilled).count();
    b.tokens = std::min(burst_, b.tokens + std::max(elapsed, 0.0) * rate_);
    b.refilled = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return {};
  }
  const double wait = (1.0 - b.tokens) / rate_;
  const auto secs = static_cast<int64_t>(std::min(std::ceil(wait), 86400.0));
  return {false, std::chrono::seconds(std::max<int64_t>(secs, 1))};
}

}  // namespace corral::server
