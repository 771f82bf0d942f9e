// PoolCache: every Pool, decoded, fed by a WatchFeed on Pools, for the one
// question a heartbeat asks of them: by which grace is this node judged?
//
// Thread-safe: one writer (the feed), many readers; readers get an immutable
// snapshot, so a heartbeat never waits for a pool update.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "api/types.h"
#include "controller/heartbeat/watch_feed.h"

namespace corral::heartbeat {

class PoolCache final : public FeedSink {
 public:
  PoolCache();
  void reset(const std::vector<store::RecordPtr>& records) override;
  void apply(const store::WatchEvent& event) override;

  std::shared_ptr<const std::vector<Pool>> pools() const;
  // The smallest failover.nodeGraceSeconds of the pools selecting a node with
  // these labels; 2 s in no pool (reconcile::failover_for).
  std::chrono::milliseconds grace_for(const Labels& labels) const;
  // The longest restart window such a node may be granted: the smallest
  // failover.restartWindowSeconds of its pools; 300 s in no pool.
  std::chrono::seconds restart_window_for(const Labels& labels) const;

 private:
  void publish();  // REQUIRES: only the feed thread (by_name_ is the feed's)

  std::map<std::string, Pool> by_name_;  // owned by the feed thread
  mutable std::mutex mu_;
  std::shared_ptr<const std::vector<Pool>> snapshot_;  // guarded by mu_
};

}  // namespace corral::heartbeat
