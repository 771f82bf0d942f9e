// Each node's measured CPU and memory over the last 15 minutes, kept in memory
// from its heartbeats for the dashboard's sparklines (GET /usage/nodes).
//
// Why here and not from the store: a Node's status is persisted only when its
// usage moves by more than a fraction or every 10 s, so the store's history
// is coarse and its watch has no past; the heartbeats have every sample.
// One slot per 15-s bucket of wall time (the average of the beats in it), 60
// slots a node: about 600 bytes a node, 6 MB at 10,000. The history is this
// controller's: after a restart (or a leader change) it starts empty.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/json_fwd.h"

namespace corral::heartbeat {

class UsageHistory {
 public:
  static constexpr int kSlots = 60;
  static constexpr std::chrono::seconds kInterval{15};

  // One beat's measured use: CPU in cores, memory in bytes. Thread-safe.
  void record(const std::string& node, std::chrono::system_clock::time_point at, double cpu_cores,
              double memory_bytes);
  // The node was deleted: its history goes too.
  void forget(const std::string& node);
  // {"intervalSeconds": 15, "end": <RFC 3339 end of the newest bucket>,
  //  "nodes": [{"name", "cpu": [cores|null × 60], "memory": [bytes|null × 60]}]}
  // oldest first; the newest bucket is the one `now` falls in (partial).
  Json snapshot(std::chrono::system_clock::time_point now) const;

 private:
  struct Series {
    int64_t bucket = -1;       // the bucket being filled
    double cpu_sum = 0, memory_sum = 0;
    int32_t samples = 0;       // beats in `bucket`
    // Completed buckets' averages at [bucket % kSlots]; NaN: no beat in it.
    std::array<float, kSlots> cpu{}, memory{};
    void advance_to(int64_t next);
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Series> series;  // guarded by mu
  };
  static constexpr size_t kShards = 16;  // beats of different nodes rarely wait for each other
  Shard& shard_for(const std::string& node);
  std::array<Shard, kShards> shards_;
};

}  // namespace corral::heartbeat
