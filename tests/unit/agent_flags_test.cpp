#include <gtest/gtest.h>

#include "agent/flags.h"

namespace corral::agent {
namespace agent_flags_test {

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

}  // namespace agent_flags_test
}  // namespace corral::agent
