// The ControllerManager sweeps expired Events (issue 15 §2) on its period,
// judged on the FakeClock: a pass before the period is due deletes nothing.
#include "api/json.h"
#include "tests/unit/loops_fixtures.h"

namespace corral::loops::testing {
namespace loops_event_ttl_test {

class EventTtlManagerTest : public LoopsTest {
 protected:
  ControllerManagerOptions options() override {
    ControllerManagerOptions o = LoopsTest::options();
    o.event_ttl.ttl = std::chrono::seconds(3600);
    o.event_ttl.period = std::chrono::seconds(60);
    return o;
  }
};

TEST_F(EventTtlManagerTest, PassesDeleteEventsPastTheTtlOnTheSweepPeriod) {
  Event e;
  e.metadata.name = "old";
  e.involvedObject = {"Node", "host-a", ""};
  e.reason = "Test";
  e.lastTimestamp = format_time(clock_.now());
  create(e);
  pass();  // the first pass sweeps at once: nothing is old yet
  ASSERT_EQ(list<Event>().size(), 1u);
  clock_.advance(61min);
  pass();
  EXPECT_TRUE(list<Event>().empty());

  // Already expired when written, but the next sweep is a period away.
  e.metadata.name = "stale";
  e.lastTimestamp = format_time(clock_.now() - 2h);
  create(e);
  pass();
  EXPECT_EQ(list<Event>().size(), 1u);
  clock_.advance(60s);
  pass();
  EXPECT_TRUE(list<Event>().empty());
}

}  // namespace loops_event_ttl_test
}  // namespace corral::loops::testing
