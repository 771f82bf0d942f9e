// Fans committed events out to watchers and keeps the bounded history that
// watch-from-revision replays. Publishing only pushes RecordPtrs into bounded
// per-watcher queues, so a slow watcher never holds up a writer: it
// overflows, is closed, and its next() answers Gone (the client re-lists).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "controller/store/store.h"

namespace corral::store {

// A committed event plus the version it replaced (kModified only), so that a
// filtered watch can turn "moved into / out of the filter" into ADDED/DELETED
// as Kubernetes does.
struct HubEvent {
  WatchEvent event;
  RecordPtr previous;
};

class WatchHub : public std::enable_shared_from_this<WatchHub> {
 public:
  // `compacted_revision`: events up to it are not in the history (a reopened
  // store starts with its last revision here). The history keeps at most
  // `history_events` events and `history_bytes` of objects (history_cost()),
  // dropping the oldest first.
  WatchHub(size_t history_events, size_t history_bytes, size_t watch_buffer, int64_t compacted_revision);

  // What one event costs the history's byte bound: the JSON of the version
  // it wrote and of the one it replaced, plus a record's fixed overhead.
  static size_t history_cost(const HubEvent& e);

  // REQUIRES: one publisher, in revision order. Thread-safe.
  void publish(const std::vector<HubEvent>& events);

  // Opens a watch. `initial` events come first; then, when `replay`, the
  // history events with revision > from; then live events with revision > from.
  // Errors: Gone when replay needs history older than what is kept.
  Result<std::unique_ptr<Watch>> subscribe(const std::string& kind, const ListOptions& filter,
                                           int64_t from, std::vector<WatchEvent> initial,
                                           bool replay);

  size_t open_watches() const;
  // Closes every watch: next() answers Unavailable.
  void shutdown();
  // Closes every watch with Gone and forgets the history: the publisher lost
  // events (its feed was compacted away) and starts again from a fresh list at
  // `revision`. Watchers re-list, as after an overflow.
  void restart_at(int64_t revision);

 private:
  struct Watcher;
  class WatchImpl;
  void unsubscribe(const std::shared_ptr<Watcher>& watcher);
  // Pushes `e` to `w` if it passes w's filter. False when w overflowed.
  bool offer(Watcher& w, const HubEvent& e);

  const size_t history_events_;
  const size_t history_bytes_;
  const size_t watch_buffer_;

  mutable std::mutex mu_;
  std::deque<HubEvent> history_;                  // guarded by mu_
  size_t history_cost_ = 0;                       // guarded by mu_: Σ history_cost(history_)
  int64_t compacted_revision_;                    // guarded by mu_
  std::list<std::shared_ptr<Watcher>> watchers_;  // guarded by mu_
  bool shut_down_ = false;                        // guarded by mu_
};

}  // namespace corral::store
