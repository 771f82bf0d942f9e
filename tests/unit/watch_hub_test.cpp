// WatchHub's history: bounded in events and in bytes, the oldest dropped
// first, and a watch from before the window answered Gone.
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

}  // namespace watch_hub_test
}  // namespace corral::store
