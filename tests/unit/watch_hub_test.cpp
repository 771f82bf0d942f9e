// WatchHub's history: bounded in events and in bytes, the oldest dropped
// first, and a watch from before the window answered Gone; and the
// event-driven reader's on_ready, edge-triggered.
#include "controller/store/watch_hub.h"

#include <gtest/gtest.h>

#include <string>

#include "api/json.h"
#include "controller/store/record_builder.h"

namespace corral::store {
namespace watch_hub_test {

HubEvent added(const std::string& name, int64_t revision, size_t payload_bytes) {
  Json object = {{"apiVersion", "corral/v1"},
                 {"kind", "VM"},
                 {"metadata", {{"name", name}, {"uid", "u-" + name}}},
                 {"spec", {{"note", std::string(payload_bytes, 'x')}}}};
  return {{WatchEvent::Type::kAdded, build_record("VM", object, revision), revision}, nullptr};
}

TEST(WatchHub, HistoryIsBoundedInBytesAsWellAsInEvents) {
  // Room for 1,000 events but only ~3.5 of these 10 KB objects.
  const size_t one = WatchHub::history_cost(added("probe", 1, 10'000));
  auto hub = std::make_shared<WatchHub>(1'000, one * 7 / 2, 16, 0);
  for (int64_t rev = 1; rev <= 10; ++rev) hub->publish({added("vm-" + std::to_string(rev), rev, 10'000)});

  // Events 8, 9 and 10 are kept: a watch from 7 replays them.
  auto recent = hub->subscribe("VM", {}, 7, {}, true);
  ASSERT_TRUE(recent.ok()) << recent.error().message;
  for (int64_t rev = 8; rev <= 10; ++rev) {
    auto e = (*recent)->next(std::chrono::milliseconds(0));
    ASSERT_TRUE(e.ok() && e->has_value());
    EXPECT_EQ((**e).revision, rev);
  }
  // Event 7 was dropped for bytes, though far under the event bound.
  auto old = hub->subscribe("VM", {}, 6, {}, true);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kGone);
  EXPECT_EQ(old.error().message, "too old resource version: 6 (7)");
}

TEST(WatchHub, OneEventLargerThanTheByteBoundIsStillKept) {
  auto hub = std::make_shared<WatchHub>(1'000, 1'000, 16, 0);
  hub->publish({added("small", 1, 10)});
  hub->publish({added("huge", 2, 100'000)});
  auto from_one = hub->subscribe("VM", {}, 1, {}, true);
  ASSERT_TRUE(from_one.ok()) << from_one.error().message;
  auto e = (*from_one)->next(std::chrono::milliseconds(0));
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((**e).object->name, "huge");
  EXPECT_FALSE(hub->subscribe("VM", {}, 0, {}, true).ok());  // "small" went for it
}

TEST(WatchHub, TheEventBoundStillHoldsWithBytesToSpare) {
  auto hub = std::make_shared<WatchHub>(3, 1u << 30, 16, 0);
  for (int64_t rev = 1; rev <= 6; ++rev) hub->publish({added("vm-" + std::to_string(rev), rev, 10)});
  EXPECT_TRUE(hub->subscribe("VM", {}, 3, {}, true).ok());
  EXPECT_FALSE(hub->subscribe("VM", {}, 2, {}, true).ok());
}

TEST(WatchHub, OnReadyIsCalledOnceForEachDrainedQueueThatFillsAgain) {
  auto hub = std::make_shared<WatchHub>(1'000, 1u << 30, 16, 0);
  auto w = hub->subscribe("VM", {}, 0, {}, false);
  ASSERT_TRUE(w.ok());
  int calls = 0;
  (*w)->on_ready([&] { ++calls; });
  EXPECT_EQ(calls, 0);  // nothing to read yet

  hub->publish({added("a", 1, 10)});
  hub->publish({added("b", 2, 10)});
  EXPECT_EQ(calls, 1);  // once for both: the reader has not drained yet
  for (const char* name : {"a", "b"}) {
    auto e = (*w)->next(std::chrono::milliseconds(0));
    ASSERT_TRUE(e.ok() && e->has_value());
    EXPECT_EQ((**e).object->name, name);
  }
  hub->publish({added("c", 3, 10)});
  EXPECT_EQ(calls, 1);  // drained, but next() has not yet answered "nothing"
  ASSERT_TRUE((*w)->next(std::chrono::milliseconds(0)).ok());
  auto none = (*w)->next(std::chrono::milliseconds(0));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  hub->publish({added("d", 4, 10)});
  EXPECT_EQ(calls, 2);

  // The store shutting down is something to read too (an error).
  ASSERT_TRUE((*w)->next(std::chrono::milliseconds(0)).ok());
  ASSERT_FALSE((*w)->next(std::chrono::milliseconds(0))->has_value());
  hub->shutdown();
  EXPECT_EQ(calls, 3);
  EXPECT_EQ((*w)->next(std::chrono::milliseconds(0)).error().code, ErrorCode::kUnavailable);
}

TEST(WatchHub, OnReadySetOnAWatchWithEventsWaitingIsCalledAtOnce) {
  auto hub = std::make_shared<WatchHub>(1'000, 1u << 30, 16, 0);
  hub->publish({added("a", 1, 10)});
  auto w = hub->subscribe("VM", {}, 0, {}, true);  // replays "a"
  ASSERT_TRUE(w.ok());
  int calls = 0;
  (*w)->on_ready([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(WatchHub, AnOverflowWakesTheEventDrivenReader) {
  auto hub = std::make_shared<WatchHub>(1'000, 1u << 30, 2, 0);
  auto w = hub->subscribe("VM", {}, 0, {}, false);
  ASSERT_TRUE(w.ok());
  int calls = 0;
  (*w)->on_ready([&] { ++calls; });
  hub->publish({added("a", 1, 10)});
  ASSERT_EQ(calls, 1);
  // Undrained: the buffer of 2 overflows, and the reader hears of it at its
  // next pull; no call is due while it has not drained.
  hub->publish({added("b", 2, 10), added("c", 3, 10)});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ((*w)->next(std::chrono::milliseconds(0)).error().code, ErrorCode::kGone);
}

}  // namespace watch_hub_test
}  // namespace corral::store
