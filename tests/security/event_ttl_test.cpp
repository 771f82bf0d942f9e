// Issue 15 §2: every Event expires (--event-ttl, 1 h by default, as
// kube-apiserver's): the ControllerManager's sweep deletes Events whose
// lastTimestamp is older, on a FakeClock.
#include "api/json.h"
#include "api/kinds.h"
#include "base/clock.h"
#include "controller/loops/event_ttl_loop.h"
#include "controller/store/store.h"

#include <gtest/gtest.h>

namespace corral::testing::security {
namespace event_ttl_test {

class EventTtl : public ::testing::Test {
 protected:
  void SetUp() override { store_ = store::open_memory_store(clock_); }

  void create(const std::string& name, std::chrono::system_clock::time_point last) {
    Json e = {{"apiVersion", "corral/v1"},
              {"kind", "Event"},
              {"metadata", {{"name", name}}},
              {"involvedObject", {{"kind", "Node"}, {"name", "host-a"}}},
              {"reason", "Test"},
              {"message", "m"},
              {"lastTimestamp", format_time(last)}};
    auto n = normalize_object(e);
    ASSERT_TRUE(n.ok()) << n.error().to_string();
    ASSERT_TRUE(store_->create("Event", std::move(*n)).ok());
  }

  std::vector<std::string> names() {
    std::vector<std::string> out;
    auto list = store_->list("Event", {});
    EXPECT_TRUE(list.ok());
    if (list)
      for (const auto& r : list->items) out.push_back(r->name);
    return out;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(EventTtl, EventsOlderThanTheTtlAreDeletedOthersKept) {
  loops::EventTtlLoop loop(*store_, clock_);  // defaults: 1 h TTL, 1 min period
  EXPECT_EQ(loop.options().ttl, std::chrono::hours(1));
  create("old", clock_.now());
  clock_.advance(std::chrono::minutes(30));
  create("recent", clock_.now());
  // A writer's future lastTimestamp does not keep its Event: judged by creation.
  create("future", clock_.now() + std::chrono::hours(24 * 365));
  clock_.advance(std::chrono::minutes(29));
  EXPECT_EQ(loop.run_once().deleted, 0u);
  EXPECT_EQ(names(), (std::vector<std::string>{"future", "old", "recent"}));
  clock_.advance(std::chrono::minutes(2));  // old: 61 min; recent and future: 31 min
  EXPECT_EQ(loop.run_once().deleted, 1u);
  EXPECT_EQ(names(), (std::vector<std::string>{"future", "recent"}));
  clock_.advance(std::chrono::minutes(30));
  EXPECT_EQ(loop.run_once().deleted, 2u);
  EXPECT_TRUE(names().empty());
}

TEST_F(EventTtl, ARecurringEventStaysWhileItsLastTimestampIsFresh) {
  loops::EventTtlLoop loop(*store_, clock_, {std::chrono::seconds(600), std::chrono::seconds(60)});
  create("flapping", clock_.now());
  clock_.advance(std::chrono::minutes(9));
  // Bumped (as the recorder does on a repeat).
  auto rec = store_->get("Event", "flapping");
  ASSERT_TRUE(rec.ok());
  Json e = (*rec)->parse();
  e["lastTimestamp"] = format_time(clock_.now());
  e["count"] = 2;
  ASSERT_TRUE(store_->update("Event", e).ok());
  clock_.advance(std::chrono::minutes(9));
  EXPECT_EQ(loop.run_once().deleted, 0u);
  clock_.advance(std::chrono::minutes(2));
  EXPECT_EQ(loop.run_once().deleted, 1u);
}

TEST(EventTtlRule, ExpiredEventsIsPure) {
  FakeClock clock;
  auto store = store::open_memory_store(clock);
  Json e = {{"apiVersion", "corral/v1"},
            {"kind", "Event"},
            {"metadata", {{"name", "no-times"}}},
            {"involvedObject", {{"kind", "Node"}, {"name", "n"}}},
            {"reason", "R"}};
  auto n = normalize_object(e);
  ASSERT_TRUE(n.ok());
  auto rec = store->create("Event", std::move(*n));
  ASSERT_TRUE(rec.ok());
  // Without lastTimestamp: the store's creationTimestamp counts.
  EXPECT_TRUE(
      loops::expired_events({*rec}, clock.now() + std::chrono::minutes(59), std::chrono::hours(1))
          .empty());
  EXPECT_EQ(
      loops::expired_events({*rec}, clock.now() + std::chrono::minutes(61), std::chrono::hours(1)),
      std::vector<std::string>{"no-times"});
  EXPECT_TRUE(
      loops::expired_events({*rec}, clock.now() + std::chrono::hours(100), std::chrono::seconds(0))
          .empty())
      << "ttl 0: never";
}

}  // namespace event_ttl_test
}  // namespace corral::testing::security
