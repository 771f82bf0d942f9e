// UsageHistory: each node's beats averaged into 15-s buckets of wall time,
// 60 of them, gaps as null, oldest first; deleted nodes forgotten.
#include "controller/heartbeat/usage_history.h"

#include <gtest/gtest.h>

#include <chrono>

#include "api/json.h"

namespace corral::heartbeat {
namespace usage_history_test {

using namespace std::chrono_literals;
using Time = std::chrono::system_clock::time_point;

// 2026-12-05T00:00:00Z, a bucket boundary.
const Time kStart = Time(std::chrono::seconds(1'796'428'800));

Json series_of(const Json& snapshot, const std::string& node) {
  for (const auto& n : snapshot["nodes"])
    if (n["name"] == node) return n;
  return Json();
}

TEST(UsageHistory, AveragesTheBeatsOfEachBucketOldestFirst) {
  UsageHistory h;
  h.record("a", kStart + 1s, 1.0, 100);
  h.record("a", kStart + 5s, 3.0, 300);     // bucket 0: averages 2.0 and 200
  h.record("a", kStart + 16s, 0.5, 50);     // bucket 1
  h.record("a", kStart + 47s, 4.0, 400);    // bucket 3 (bucket 2: no beat)
  Json s = h.snapshot(kStart + 50s);
  EXPECT_EQ(s["intervalSeconds"], 15);
  EXPECT_EQ(s["end"], "2026-12-05T00:01:00.000Z");
  Json a = series_of(s, "a");
  ASSERT_EQ(a["cpu"].size(), 60u);
  ASSERT_EQ(a["memory"].size(), 60u);
  EXPECT_EQ(a["cpu"][56], 2.0);
  EXPECT_EQ(a["memory"][56], 200.0);
  EXPECT_EQ(a["cpu"][57], 0.5);
  EXPECT_TRUE(a["cpu"][58].is_null()) << "a bucket without a beat has no sample";
  EXPECT_EQ(a["cpu"][59], 4.0) << "the newest bucket is the one being filled";
  EXPECT_TRUE(a["cpu"][0].is_null());
}

TEST(UsageHistory, KeepsFifteenMinutesAndForgetsOlderBuckets) {
  UsageHistory h;
  for (int i = 0; i < 80; ++i) h.record("a", kStart + i * 15s, i, i);
  Json a = series_of(h.snapshot(kStart + 79 * 15s), "a");
  EXPECT_EQ(a["cpu"][0], 20.0);   // buckets 20..79
  EXPECT_EQ(a["cpu"][59], 79.0);
  // Ten minutes later, with no beat since: the last five minutes of samples
  // are left, and the rest is empty.
  a = series_of(h.snapshot(kStart + 89 * 15s), "a");
  EXPECT_EQ(a["cpu"][49], 79.0);
  for (int i = 50; i < 60; ++i) EXPECT_TRUE(a["cpu"][i].is_null()) << i;
  // An hour later nothing is left of it.
  a = series_of(h.snapshot(kStart + 79 * 15s + 1h), "a");
  for (const auto& v : a["cpu"]) EXPECT_TRUE(v.is_null());
}

TEST(UsageHistory, AgentsSilentForLongerThanTheWindowStartAfresh) {
  UsageHistory h;
  h.record("a", kStart, 1, 1);
  h.record("a", kStart + 2h, 2, 2);
  Json a = series_of(h.snapshot(kStart + 2h), "a");
  EXPECT_EQ(a["cpu"][59], 2.0);
  for (int i = 0; i < 59; ++i) EXPECT_TRUE(a["cpu"][i].is_null()) << i;
}

TEST(UsageHistory, AClockSteppedBackJoinsTheOpenBucket) {
  UsageHistory h;
  h.record("a", kStart + 31s, 2, 2);
  h.record("a", kStart + 1s, 4, 4);  // the wall clock went back 30 s
  Json a = series_of(h.snapshot(kStart + 31s), "a");
  EXPECT_EQ(a["cpu"][59], 3.0);
  EXPECT_TRUE(a["cpu"][57].is_null()) << "a closed bucket is not rewritten";
}

TEST(UsageHistory, ForgetsDeletedNodes) {
  UsageHistory h;
  h.record("a", kStart, 1, 1);
  h.record("b", kStart, 1, 1);
  h.forget("a");
  Json s = h.snapshot(kStart);
  ASSERT_EQ(s["nodes"].size(), 1u);
  EXPECT_EQ(s["nodes"][0]["name"], "b");
}

}  // namespace usage_history_test
}  // namespace corral::heartbeat
