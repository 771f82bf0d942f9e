#include "base/duration.h"

#include <gtest/gtest.h>

namespace corral {
namespace duration_test {

using std::chrono::milliseconds;

TEST(Duration, ReadsEveryUnitAndSums) {
  EXPECT_EQ(*parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(*parse_duration("1s"), milliseconds(1000));
  EXPECT_EQ(*parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(*parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(*parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(*parse_duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(*parse_duration("1h2m3s4ms"), milliseconds(3'723'004));
  EXPECT_EQ(*parse_duration("0"), milliseconds(0));
  EXPECT_EQ(*parse_duration("0s"), milliseconds(0));
}

TEST(Duration, RejectsWhatGoRejectsAndSaysWhy) {
  for (const char* bad : {"", "5", "s", "1x", "1.2.3s", "-1s", "1 s", "1s2", "soon", ".s"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kBadRequest);
    EXPECT_NE(r.error().message.find(std::string("\"") + bad + "\""), std::string::npos)
        << r.error().message;
  }
  EXPECT_NE(parse_duration("90").error().message.find("missing unit"), std::string::npos);
  EXPECT_NE(parse_duration("3d").error().message.find("unknown unit \"d\""), std::string::npos);
}

TEST(Duration, FlagErrorsNameTheFlagAndTheBounds) {
  EXPECT_EQ(*parse_duration_flag("--stop-grace", "10s", milliseconds(1), std::chrono::hours(1)),
            milliseconds(10'000));
  auto unitless = parse_duration_flag("--heartbeat-interval", "5");
  ASSERT_FALSE(unitless.ok());
  EXPECT_EQ(unitless.error().message.rfind("--heartbeat-interval 5: missing unit", 0), 0u)
      << unitless.error().message;
  auto zero = parse_duration_flag("--x", "0s", milliseconds(1), std::chrono::hours(1));
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.error().message, "--x 0s: must be from 1ms to 1h");
  EXPECT_FALSE(parse_duration_flag("--x", "3h", milliseconds(1), std::chrono::hours(1)).ok());
}

TEST(Duration, FormatsWhatItParses) {
  EXPECT_EQ(format_duration(milliseconds(0)), "0s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(milliseconds(90'000)), "1m30s");
  EXPECT_EQ(format_duration(std::chrono::hours(2)), "2h");
  for (int64_t ms : {1, 999, 1000, 61'001, 3'723'004})
    EXPECT_EQ(*parse_duration(format_duration(milliseconds(ms))), milliseconds(ms));
}

}  // namespace duration_test
}  // namespace corral
