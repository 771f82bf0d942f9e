#include "api/conditions.h"

#include <gtest/gtest.h>

namespace corral {
namespace conditions_test {

Condition cond(const char* type, const char* status, const char* when = "") {
  Condition c;
  c.type = type;
  c.status = status;
  c.lastTransitionTime = when;
  return c;
}

TEST(Conditions, SetKeepsTheTransitionTimeWhileTheStatusStays) {
  std::vector<Condition> conds;
  set_condition(conds, cond(condition_type::kReady, condition_status::kTrue, "t1"));
  set_condition(conds, cond(condition_type::kServing, condition_status::kFalse, "t1"));
  set_condition(conds, cond(condition_type::kReady, condition_status::kTrue, "t2"));
  ASSERT_EQ(conds.size(), 2u);
  EXPECT_EQ(find_condition(conds, condition_type::kReady)->lastTransitionTime, "t1");
  set_condition(conds, cond(condition_type::kReady, condition_status::kFalse, "t3"));
  EXPECT_EQ(find_condition(conds, condition_type::kReady)->lastTransitionTime, "t3");
  EXPECT_FALSE(condition_is_true(conds, condition_type::kReady));
  EXPECT_FALSE(condition_is_true(conds, "Missing"));
  EXPECT_EQ(find_condition(conds, "Missing"), nullptr);
}

TEST(Conditions, ANodeIsReadyOnlyWhenNothingSaysOtherwise) {
  Node n;
  EXPECT_FALSE(node_ready(n));  // never judged
  n.status.phase = node_phase::kReady;
  EXPECT_TRUE(node_ready(n));
  n.status.conditions.push_back(cond(condition_type::kReady, condition_status::kTrue));
  EXPECT_TRUE(node_ready(n));
  n.status.phase = node_phase::kUnreachable;  // the phase disagrees: not Ready
  EXPECT_FALSE(node_ready(n));
  n.status.phase = "";
  EXPECT_TRUE(node_ready(n));
  n.status.conditions[0].status = condition_status::kUnknown;
  EXPECT_FALSE(node_ready(n));
}

}  // namespace conditions_test
}  // namespace corral
