// What a store's readers see: the published objects of every kind (indexed
// for list), the revision they were published at, and the watch hub that
// fans each published change out. A backend publishes into it only what is
// durable — CachedStore after its commit, the etcd store as its watch feed
// delivers — so get, list and watch are served from memory, the same way for
// every backend.
//
// Thread-safe: readers share a lock; publish() takes it exclusively, so a
// watch from 0 takes its snapshot and subscribes with no event between.
// Lock order: the backend's own locks, then this one, then the hub's.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "controller/store/kind_index.h"
#include "controller/store/store.h"
#include "controller/store/watch_hub.h"

namespace corral::store {

class PublishedView {
 public:
  // Starts at `revision` with `records` (a loaded store's objects).
  PublishedView(size_t history_events, size_t history_bytes, size_t watch_buffer, int64_t revision,
                std::vector<RecordPtr> records);
  ~PublishedView();  // closes every watch
  PublishedView(const PublishedView&) = delete;
  PublishedView& operator=(const PublishedView&) = delete;

  // The Store methods of the same names (store.h).
  Result<RecordPtr> get(const std::string& kind, const std::string& name) const;
  Result<ListResult> list(const std::string& kind, const ListOptions& options) const;
  Result<std::unique_ptr<Watch>> watch(const std::string& kind, int64_t from_revision,
                                       const ListOptions& filter);
  int64_t revision() const { return revision_.load(); }
  size_t open_watches() const { return hub_->open_watches(); }

  // Applies `events` (in revision order: kDeleted erases, the others put)
  // and moves the revision to `revision`. REQUIRES: one publisher.
  void publish(const std::vector<HubEvent>& events, int64_t revision);
  // Replaces every object with `records`, read at `revision`, and closes every
  // watch with Gone (WatchHub::restart_at): the publisher missed events and
  // re-listed. REQUIRES: the one publisher.
  void replace(std::vector<RecordPtr> records, int64_t revision);

 private:
  // REQUIRES: mu_ held exclusively (or construction).
  KindIndex& index(const std::string& kind);

  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, KindIndex> kinds_;  // guarded by mu_
  std::atomic<int64_t> revision_;                     // written under mu_ (exclusive)
  std::shared_ptr<WatchHub> hub_;
};

}  // namespace corral::store
