// The soak's rules (tests/support/soak_invariants.h): which copies of a VM
// may run at once, placement time with the controller's outages taken out,
// and resource growth after a warm-up.
#include "tests/support/soak_invariants.h"

#include <gtest/gtest.h>

namespace corral::testing {
namespace soak_invariants_test {

using namespace std::chrono_literals;

bool all_settled(const std::string&) { return true; }
bool none_settled(const std::string&) { return false; }
bool self_fenced(const std::string& vm) { return vm.rfind("rf-", 0) == 0; }

TEST(SoakCopies, OneCopyOfEachVmIsFine) {
  EXPECT_TRUE(copy_violations({{"rn-1-a", "n1", 1}, {"rn-1-b", "n2", 1}, {"rf-2-a", "n1", 3}},
                              all_settled, self_fenced)
                  .empty());
}

TEST(SoakCopies, TwoCopiesOnOneNodeAreAViolationEvenWhileItsAgentIsAway) {
  auto v = copy_violations({{"rn-1-a", "n1", 1}, {"rn-1-a", "n1", 2}}, none_settled, self_fenced);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("twice on one node"), std::string::npos) << v[0];
}

TEST(SoakCopies, TwoCopiesOfOneEpochAreAViolation) {
  auto v = copy_violations({{"rn-1-a", "n1", 4}, {"rn-1-a", "n2", 4}}, none_settled, self_fenced);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("one epoch"), std::string::npos) << v[0];
}

TEST(SoakCopies, SelfFencedVmNeverRunsTwiceEvenBesideADeadAgent) {
  auto v = copy_violations({{"rf-1-a", "dead", 1}, {"rf-1-a", "n2", 2}},
                           [](const std::string& node) { return node != "dead"; }, self_fenced);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("selfFence"), std::string::npos) << v[0];
  EXPECT_NE(v[0].find("dead@1"), std::string::npos) << v[0];
}

TEST(SoakCopies, UnfencedStaleCopyIsAllowedOnlyUntilItsAgentHasConverged) {
  const std::vector<VmCopy> copies = {{"rn-1-a", "back", 1}, {"rn-1-a", "n2", 2}};
  int tolerated = 0;
  EXPECT_TRUE(
      copy_violations(copies, [](const std::string& n) { return n != "back"; }, self_fenced, &tolerated)
          .empty());
  EXPECT_EQ(tolerated, 1);
  auto v = copy_violations(copies, all_settled, self_fenced);
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("converged"), std::string::npos) << v[0];
}

TEST(SoakPlacement, OutagesAreTakenOutOfTheWait) {
  const auto t0 = SoakClock::time_point{} + 100s;
  const Outages outages = {{t0 + 2s, t0 + 5s}, {t0 + 20s, SoakClock::time_point::max()}};
  EXPECT_DOUBLE_EQ(up_time_between(t0, t0 + 10s, outages).count(), 7.0);
  EXPECT_DOUBLE_EQ(up_time_between(t0 + 3s, t0 + 4s, outages).count(), 0.0);
  EXPECT_DOUBLE_EQ(up_time_between(t0 + 18s, t0 + 30s, outages).count(), 2.0);  // still down
  EXPECT_DOUBLE_EQ(up_time_between(t0 + 10s, t0 + 12s, {}).count(), 2.0);
}

TEST(SoakGrowth, ComparesMediansOfTheFirstAndLastWindowAfterTheWarmUp) {
  std::vector<std::pair<double, double>> samples;
  for (int t = 0; t < 100; ++t) samples.push_back({t, t < 10 ? 1000.0 : 100.0 + (t >= 90 ? 10 : 0)});
  const Growth g = growth_after_warmup(samples, 10, 0.1);  // the 1000s are warm-up
  EXPECT_DOUBLE_EQ(g.early, 100);
  EXPECT_DOUBLE_EQ(g.late, 110);
  EXPECT_DOUBLE_EQ(g.percent, 10);
  EXPECT_EQ(g.early_samples, 9);
  EXPECT_EQ(g.late_samples, 9);
}

}  // namespace soak_invariants_test
}  // namespace corral::testing
