#include "controller/heartbeat/usage_history.h"

#include <cmath>
#include <functional>
#include <limits>

#include "api/json.h"
#include "base/clock.h"

namespace corral::heartbeat {

namespace {

int64_t bucket_of(std::chrono::system_clock::time_point at) {
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
  const int64_t width = UsageHistory::kInterval.count();
  return seconds >= 0 ? seconds / width : (seconds - width + 1) / width;
}

size_t slot_of(int64_t bucket) {
  return static_cast<size_t>(((bucket % UsageHistory::kSlots) + UsageHistory::kSlots) %
                             UsageHistory::kSlots);
}

constexpr float kNoSample = std::numeric_limits<float>::quiet_NaN();

Json value_or_null(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

}  // namespace

void UsageHistory::Series::advance_to(int64_t next) {
  if (bucket >= 0) {
    cpu[slot_of(bucket)] = samples ? static_cast<float>(cpu_sum / samples) : kNoSample;
    memory[slot_of(bucket)] = samples ? static_cast<float>(memory_sum / samples) : kNoSample;
    // Buckets skipped (no beat: the agent was down) hold no sample.
    for (int64_t b = bucket + 1; b < next && b <= bucket + kSlots; ++b) {
      cpu[slot_of(b)] = kNoSample;
      memory[slot_of(b)] = kNoSample;
    }
  } else {
    cpu.fill(kNoSample);
    memory.fill(kNoSample);
  }
  bucket = next;
  cpu_sum = memory_sum = 0;
  samples = 0;
}

UsageHistory::Shard& UsageHistory::shard_for(const std::string& node) {
  return shards_[std::hash<std::string>{}(node) % kShards];
}

void UsageHistory::record(const std::string& node, std::chrono::system_clock::time_point at,
                          double cpu_cores, double memory_bytes) {
  const int64_t b = bucket_of(at);
  Shard& shard = shard_for(node);
  std::lock_guard lock(shard.mu);
  Series& s = shard.series[node];
  // A wall clock stepped back: the beat joins the bucket being filled rather
  // than rewrite one already closed.
  if (b > s.bucket) s.advance_to(b);
  s.cpu_sum += cpu_cores;
  s.memory_sum += memory_bytes;
  ++s.samples;
}

void UsageHistory::forget(const std::string& node) {
  Shard& shard = shard_for(node);
  std::lock_guard lock(shard.mu);
  shard.series.erase(node);
}

Json UsageHistory::snapshot(std::chrono::system_clock::time_point now) const {
  const int64_t newest = bucket_of(now);
  Json nodes = Json::array();
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mu);
    for (const auto& [name, s] : shard.series) {
      Json cpu = Json::array(), memory = Json::array();
      for (int64_t b = newest - kSlots + 1; b <= newest; ++b) {
        double c = kNoSample, m = kNoSample;
        if (b == s.bucket && s.samples > 0) {
          c = s.cpu_sum / s.samples;
          m = s.memory_sum / s.samples;
        } else if (b < s.bucket && b > s.bucket - kSlots) {
          c = s.cpu[slot_of(b)];
          m = s.memory[slot_of(b)];
        }
        cpu.push_back(value_or_null(c));
        memory.push_back(value_or_null(m));
      }
      nodes.push_back(Json{{"name", name}, {"cpu", std::move(cpu)}, {"memory", std::move(memory)}});
    }
  }
  const auto end = std::chrono::system_clock::time_point(std::chrono::seconds((newest + 1) * kInterval.count()));
  return Json{{"kind", "NodeUsageHistory"},
              {"intervalSeconds", kInterval.count()},
              {"end", format_time(end)},
              {"nodes", std::move(nodes)}};
}

}  // namespace corral::heartbeat
