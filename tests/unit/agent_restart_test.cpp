#include <gtest/gtest.h>

#include "agent/restart.h"
#include "agent/tracked_vm.h"

namespace corral::agent {
namespace agent_restart_test {

using std::chrono::milliseconds;
using std::chrono::seconds;

InstanceStatus exited(int code, const std::string& message = "") {
  InstanceStatus s;
  s.state = InstanceState::kExited;
  s.exit_code = code;
  s.message = message;
  return s;
}

TEST(RestartPolicy, DecidesPerPolicy) {
  InstanceStatus clean = exited(0), failed = exited(1);
  InstanceStatus not_started;
  not_started.state = InstanceState::kFailedToStart;
  EXPECT_TRUE(should_restart(RestartPolicy::kAlways, clean));
  EXPECT_TRUE(should_restart(RestartPolicy::kAlways, failed));
  EXPECT_FALSE(should_restart(RestartPolicy::kOnFailure, clean));
  EXPECT_TRUE(should_restart(RestartPolicy::kOnFailure, failed));
  EXPECT_TRUE(should_restart(RestartPolicy::kOnFailure, not_started));
  EXPECT_FALSE(should_restart(RestartPolicy::kNever, failed));
  EXPECT_EQ(parse_restart_policy("OnFailure"), RestartPolicy::kOnFailure);
  EXPECT_EQ(parse_restart_policy("Never"), RestartPolicy::kNever);
  EXPECT_EQ(parse_restart_policy("Sometimes"), RestartPolicy::kAlways) << "the API's default";
}

TEST(RestartPolicy, LastErrorWordsAndCleanExitIsEmpty) {
  EXPECT_EQ(last_error_of(exited(0, "exited with code 0")), "");
  EXPECT_EQ(last_error_of(exited(1, "exited with code 1")), "exit code 1");
  EXPECT_EQ(last_error_of(exited(137, "killed by signal 9 (Killed)")), "killed by signal 9");
  EXPECT_EQ(last_error_of(exited(137, "exited with code 137")), "exit code 137");
  EXPECT_NE(last_error_of(exited(-1, "exited (exit code unknown: adopted)")).find("unknown"),
            std::string::npos);
  InstanceStatus not_started;
  not_started.state = InstanceState::kFailedToStart;
  not_started.message = "failed to start: /no/such/bin: No such file or directory";
  EXPECT_EQ(last_error_of(not_started), not_started.message) << "one prefix, not two";
  not_started.message = "disk full";
  EXPECT_EQ(last_error_of(not_started), "failed to start: disk full");
}

TEST(RestartBackoff, DoublesUpToTheCapAndResetsAfterALongRun) {
  RestartBackoff b;
  std::chrono::steady_clock::time_point t{};
  std::vector<milliseconds> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(b.next_delay(t, t + seconds(1)));
  EXPECT_EQ(delays, (std::vector<milliseconds>{seconds(1), seconds(2), seconds(4), seconds(8),
                                               seconds(16), seconds(32), seconds(60), seconds(60)}));
  EXPECT_EQ(b.next_delay(t, t + seconds(60)), seconds(1)) << "ran 60 s: back-off starts over";
  EXPECT_EQ(b.next_delay(t, t + seconds(1)), seconds(2));
}

TEST(VmReportDiff, UsageWobbleIsNotAChangeButAPhaseIs) {
  VmReport a;
  a.name = "web-1";
  a.phase = "Running";
  a.usage.cpu = Quantity::from_milli(1000);
  VmReport b = a;
  b.usage.cpu = Quantity::from_milli(1050);
  EXPECT_FALSE(report_changed(a, b, 0.1));
  b.usage.cpu = Quantity::from_milli(1500);
  EXPECT_TRUE(report_changed(a, b, 0.1));
  b = a;
  b.phase = "Starting";
  EXPECT_TRUE(report_changed(a, b, 0.1));
}

}  // namespace agent_restart_test
}  // namespace corral::agent
