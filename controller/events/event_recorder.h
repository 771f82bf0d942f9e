// EventRecorder: writes Event objects (api/types.h) about what the controller
// did or saw — the loops' NodeNotReady, VMLost, FailedScheduling; the
// heartbeat service's Registered, AgentReplaced, ClockSkew, VMFailed — for
// `corralctl describe` and `get events`. The one way the controller writes
// Events.
//
// An identical event (same object, type, reason and message) recorded again
// within `dedupe_window` bumps the existing Event's count and lastTimestamp
// instead of creating another (Kubernetes' event correlator does the same),
// so a VM that stays unschedulable or a flapping node cannot flood the store.
//
// New Events about one object are rate-limited (Kubernetes' spam filter,
// client-go's EventSourceObjectSpamFilter): a burst of `per_object_burst`,
// then one per `per_object_refill`; the rest are dropped and counted
// (dropped()). A VMSet scaled up by 10,000 gets its first 25 SuccessfulCreate
// Events, not 10,000 store writes in the pass that creates the VMs; each VM
// still gets its own Scheduled. Bumps of an Event already written are not
// limited: the count of a repeated Event stays exact.
//
// With `async_queue` set (the controller sets it), record_all() only queues
// and background threads write: a scheduler pass that binds 10,000 VMs hands
// over their 10,000 Scheduled Events and goes on, as client-go's broadcaster
// lets kube-scheduler do. The queue is bounded: past it Events are dropped
// and counted, never the pass slowed.
//
// Thread safety: thread-safe; the loops record from their writer threads,
// the heartbeat service from API threads.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "api/json_fwd.h"
#include "api/types.h"
#include "controller/store/store.h"

namespace corral::events {

struct EventRecorderOptions {
  // Identical events within this window are counted on one Event: 10 min, as
  // Kubernetes' event correlator.
  std::chrono::seconds dedupe_window{600};
  // Events remembered for de-duplication; the oldest are forgotten beyond it
  // (a forgotten one is simply written anew).
  size_t max_tracked = 10'000;
  // EventSource.component of every Event written.
  std::string component = "corral-controller";
  // Seeds the random part of Event names. controller/main.cpp draws one from
  // std::random_device at every start; tests fix it. Unset (a recorder built
  // without options, as the heartbeat service's): derived from the clock's
  // wall time at construction and a per-process count of recorders — names
  // must differ from a previous run's (its Events may still be stored) and
  // from another recorder's in this process, and nothing here reads a random
  // device.
  std::optional<uint64_t> seed;
  // New Events per store write_batch (record_all). 500: one SQLite commit
  // each. On etcd a batch is one transaction per entry, in order, so there
  // the controller sets 1 and record_events() spreads them over its writers.
  size_t create_chunk = 500;
  // The spam filter (see above): 25 new Events per object at once, then one
  // per 5 minutes, as client-go's defaults. 0: no limit.
  size_t per_object_burst = 25;
  std::chrono::seconds per_object_refill{300};
  // Writing off the caller's thread (see above): at most `async_queue`
  // Events wait (more are dropped and counted: client-go drops past its 1,000),
  // written by `async_writers` threads create_chunk at a time. 0: record_all()
  // writes before it returns (the default: tests, the heartbeat service).
  size_t async_queue = 0;
  size_t async_writers = 1;
  // On destruction the writers go on with what is queued for at most this
  // long (real time: a store that hangs must not hang shutdown); the rest
  // is dropped and logged.
  std::chrono::milliseconds async_drain{2000};
};

// One Event to record: about `object`, of `type` ("Normal" | "Warning"),
// from `host` (source.host; may be empty).
struct EventWrite {
  ObjectReference object;
  std::string type;
  std::string reason;
  std::string message;
  std::string host;
};

class EventRecorder {
 public:
  EventRecorder(store::Store& store, const Clock& clock, EventRecorderOptions options = {});
  ~EventRecorder();
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Writes (or bumps) the Event and returns its name. `type`: "Normal" or
  // "Warning"; `host`: source.host, the node the event is about (may be
  // empty). Errors are the store's, also logged here — an event is never
  // worth failing a reconcile or a heartbeat for — or TooManyRequests when
  // the spam filter dropped it.
  Result<std::string> record(const ObjectReference& object, const std::string& type,
                             const std::string& reason, const std::string& message,
                             const std::string& host = "");

  // Records many Events at once, as record() each (de-duplicated the same
  // way), but the new ones are created create_chunk to a store write_batch:
  // a scheduler pass that places 5,000 VMs writes its 5,000 Scheduled Events
  // in a few commits instead of 5,000. Errors are logged, not returned.
  // Asynchronous (async_queue > 0): queued, written by the writer threads.
  void record_all(std::vector<EventWrite> events);
  size_t create_chunk() const { return options_.create_chunk; }
  bool async() const { return options_.async_queue > 0; }
  // Returns once every Event queued before the call is written (or failed).
  // Immediate when synchronous.
  void flush();
  // New Events dropped since construction: by the spam filter, or because
  // the asynchronous queue was full.
  uint64_t dropped() const { return dropped_.load(); }

  // "<object>.<16 hex digits>": unique per recorder, random across restarts.
  std::string new_name(const std::string& object_name);

 private:
  struct Seen {
    std::string name;                             // the Event written
    std::chrono::steady_clock::time_point first;  // when it was created
  };
  // Which Event `e` goes to: an identical one seen within the dedupe window
  // (`bump` true), or a new name (remembered for the next identical one).
  struct Target {
    std::string name;
    bool bump = false;
    bool drop = false;  // a new Event the object's budget has no room for
  };
  // One object's budget of new Events (a token bucket).
  struct Budget {
    double tokens = 0;
    std::chrono::steady_clock::time_point at;  // when `tokens` was counted
  };
  // True when `e`'s object may have one more new Event now (taking it).
  // REQUIRES: mu_ held.
  bool take_budget_locked(const EventWrite& e, std::chrono::steady_clock::time_point now);
  Target target_of(const EventWrite& e);
  // Bumps or creates, one store write (or two: a bump whose Event is gone).
  Result<std::string> write_to(Target t, const EventWrite& e);
  void log_unwritten(const EventWrite& e, const Error& error);
  // The TooManyRequests error of an Event the spam filter dropped (logged at debug).
  Error spam_dropped(const EventWrite& e) const;
  // The normalized new Event `name` for `e`.
  Result<Json> new_event(const std::string& name, const EventWrite& e);
  // Bumps `name`'s count; NotFound when it is gone (then the caller creates anew).
  Result<void> bump(const std::string& name);
  std::string random_hex_locked();  // REQUIRES: mu_ held
  // record_all's work, in the caller's thread.
  void write_all(std::vector<EventWrite> events);
  void writer_loop();  // an asynchronous writer thread

  store::Store& store_;
  const Clock& clock_;
  const EventRecorderOptions options_;
  std::mutex mu_;
  std::mt19937_64 rng_;                         // guarded by mu_
  std::unordered_map<std::string, Seen> seen_;  // key → event; guarded by mu_
  std::unordered_map<std::string, Budget> budgets_;  // object → budget; guarded by mu_
  std::atomic<uint64_t> dropped_{0};

  // The asynchronous queue (async_queue > 0).
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;  // Events queued, or stopping
  std::condition_variable idle_cv_;   // the queue emptied and nothing in flight
  std::deque<EventWrite> queue_;      // guarded by queue_mu_
  size_t in_flight_ = 0;              // taken by a writer, not yet written; guarded by queue_mu_
  bool stopping_ = false;             // guarded by queue_mu_
  std::chrono::steady_clock::time_point drain_deadline_;  // real time; guarded by queue_mu_
  std::vector<std::thread> writers_;
};

}  // namespace corral::events
