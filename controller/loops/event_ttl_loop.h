// EventTtlLoop: deletes Events older than the TTL (corral-controller's
// --event-ttl, default 1 h, as kube-apiserver's --event-ttl), so that no one
// — a chatty loop, a broken agent, a hostile node token — can fill the store
// with Events: at most TTL × the write rate of them are ever kept.
//
// An Event's age is counted from its lastTimestamp (the recorder bumps it on
// repeats, so an event that keeps happening stays), or from its
// creationTimestamp (set by the store) when lastTimestamp is absent,
// unparsable or in the future — a writer cannot make its Event outlive the TTL.
//
// It lists Events from the store (the loops' cache does not hold Events) on
// its period (1 min), not per change. Thread safety: one owner thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/store/store.h"

namespace corral::loops {

struct EventTtlOptions {
  // How long an Event is kept after its last occurrence: 1 h (kube-apiserver's
  // --event-ttl default). Zero or negative: Events never expire.
  std::chrono::seconds ttl{3600};
  // How often the Events are scanned: 1 min; an Event lives at most ttl + this.
  std::chrono::milliseconds period{60'000};
};

// The names of the Events in `events` that are older than `ttl` at `now`
// (the rule above). Pure.
std::vector<std::string> expired_events(const std::vector<store::RecordPtr>& events,
                                        std::chrono::system_clock::time_point now,
                                        std::chrono::seconds ttl);

struct EventTtlPassStats {
  size_t deleted = 0;
  size_t errors = 0;
};

class EventTtlLoop {
 public:
  EventTtlLoop(store::Store& store, const Clock& clock, EventTtlOptions options = {});
  // Lists the Events and deletes the expired ones. Errors are logged and counted.
  EventTtlPassStats run_once();
  // When the next pass is due (steady clock): run_once() moves it one period on.
  std::chrono::steady_clock::time_point next_due() const { return next_due_; }
  const EventTtlOptions& options() const { return options_; }

 private:
  store::Store& store_;
  const Clock& clock_;
  const EventTtlOptions options_;
  std::chrono::steady_clock::time_point next_due_;
};

}  // namespace corral::loops
