#include "agent/beat_schedule.h"

#include <gtest/gtest.h>

namespace corral::agent {
namespace agent_beat_schedule_test {

using std::chrono::milliseconds;
using Time = std::chrono::steady_clock::time_point;

const Time kStart{std::chrono::seconds(100)};
const milliseconds kInterval{1000};

TEST(BeatSchedule, ARoundOnScheduleMovesTheScheduleOneInterval) {
  EXPECT_EQ(next_round(kStart, kStart + milliseconds(20), true, kInterval), kStart + kInterval);
}

TEST(BeatSchedule, NudgedRoundsLeaveTheRegularBeatWhereItWas) {
  // Two nudges just before the regular beat: it still comes at kStart + 1 s,
  // not 2 s later (a restarted controller's grace is 2 s).
  Time next = kStart + kInterval;
  next = next_round(next, kStart + milliseconds(700), false, kInterval);
  next = next_round(next, kStart + milliseconds(900), false, kInterval);
  EXPECT_EQ(next, kStart + kInterval);
}

TEST(BeatSchedule, ASlowRoundGoesOnFromNowInsteadOfBursting) {
  EXPECT_EQ(next_round(kStart, kStart + milliseconds(3500), true, kInterval),
            kStart + milliseconds(3500));
}

}  // namespace agent_beat_schedule_test
}  // namespace corral::agent
