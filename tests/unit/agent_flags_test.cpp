#include <gtest/gtest.h>

#include "agent/flags.h"

namespace corral::agent {
namespace {

TEST(AgentFlags, Durations) {
  EXPECT_EQ(*parse_duration_flag("--heartbeat-interval", "1s"), std::chrono::milliseconds(1000));
  EXPECT_EQ(*parse_duration_flag("--heartbeat-interval", "250ms"), std::chrono::milliseconds(250));
  EXPECT_EQ(*parse_duration_flag("--heartbeat-interval", "1.5s"), std::chrono::milliseconds(1500));
  auto bad = parse_duration_flag("--heartbeat-interval", "5");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("--heartbeat-interval 5: ", 0), 0u) << bad.error().message;
  EXPECT_FALSE(parse_duration_flag("--x", "0s").ok());
  EXPECT_FALSE(parse_duration_flag("--x", "3h").ok());
}

TEST(AgentFlags, LabelsQuantitiesAndListen) {
  EXPECT_EQ(*parse_labels_flag("--labels", "zone=a,rack=r1"), (Labels{{"zone", "a"}, {"rack", "r1"}}));
  EXPECT_TRUE(parse_labels_flag("--labels", "")->empty());
  EXPECT_FALSE(parse_labels_flag("--labels", "zone").ok());
  EXPECT_FALSE(parse_labels_flag("--labels", "bad key=a").ok());
  EXPECT_EQ(parse_quantity_flag("--memory", "8Gi")->milli, (int64_t{8} << 30) * 1000);
  EXPECT_TRUE(parse_quantity_flag("--cpu", "")->empty());
  EXPECT_FALSE(parse_quantity_flag("--cpu", "-1").ok());
  EXPECT_EQ(*parse_listen_flag("--listen", "127.0.0.1:0"), std::make_pair(std::string("127.0.0.1"), 0));
  EXPECT_EQ(parse_listen_flag("--listen", "[::1]:4100")->first, "::1");
  EXPECT_FALSE(parse_listen_flag("--listen", "127.0.0.1").ok());
  EXPECT_FALSE(parse_listen_flag("--listen", "127.0.0.1:70000").ok());
}

}  // namespace
}  // namespace corral::agent
