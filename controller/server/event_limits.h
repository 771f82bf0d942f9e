// Limits on the Events that nodes and balancers create through the API
// (issue 15 §2): an agent or a data plane is a machine that may be broken or
// taken over, and every Event it writes is stored, watched and listed by
// everyone. Admins' Events and the controller's own (events/event_recorder.h,
// written to the store directly) are not limited here; every Event expires
// after the controller's --event-ttl (loops/event_ttl_loop.h).
//
//   size   message ≤ max_message_bytes (422 Invalid at `message`), the whole
//          normalised Event ≤ max_object_bytes (413), as Kubernetes'
//          events.k8s.io caps `note` at 1 KiB
//   rate   a token bucket per user: rate_per_second, burst; an empty bucket
//          answers 429 TooManyRequests with Retry-After (whole seconds)
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/json_fwd.h"
#include "base/clock.h"
#include "base/error.h"

namespace corral::server {

struct EventLimits {
  size_t max_message_bytes = 1024;  // 1 KiB: a sentence and an error text, not a log
  size_t max_object_bytes = 4096;   // 4 KiB: the message, names, reason, times and source
  double rate_per_second = 10;      // sustained Events per second per user
  double burst = 50;                // Events a user may write at once after a quiet spell
};

// Ok, or Invalid (message too long, cause `message`) or TooLarge (the whole
// Event), each naming the limit and the size found. `normalized` is the Event
// as it would be stored.
Result<void> check_event_size(const Json& normalized, const EventLimits& limits);

// A token bucket per key (the user), on the steady clock. Thread-safe.
// Keys are the token file's users, so the map is bounded by that file.
class EventRateLimiter {
 public:
  EventRateLimiter(const Clock& clock, const EventLimits& limits);
  struct Decision {
    bool allowed = true;
    std::chrono::seconds retry_after{0};  // when !allowed: until one token is back (≥ 1 s)
  };
  // Takes one token from `key`'s bucket if it has one.
  Decision admit(const std::string& key);

 private:
  struct Bucket {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
  };
  const Clock& clock_;
  const double rate_;
  const double burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;  // guarded by mu_
};

}  // namespace corral::server
