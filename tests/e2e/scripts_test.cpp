// What the README tells people to run besides the API: every daemon's
// --version, and `scripts/quickstart.sh stop` stopping an agent that was
// restarted by hand (no pid file of the script's knows it).
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "tests/support/paths.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {
namespace scripts_test {

using namespace std::chrono_literals;

// Runs `argv` to its end; its stdout, or "exit N: stdout" when it failed.
std::string run(const std::vector<std::string>& argv, const TempDir& dir) {
  const std::string out = dir.file("stdout");
  Process p({argv, {}, {}, out, dir.file("stderr"), ""});
  EXPECT_TRUE(p.started()) << p.error();
  auto code = p.wait(30s);
  EXPECT_TRUE(code.has_value()) << argv[0] << " did not exit";
  if (code && *code != 0) return "exit " + std::to_string(*code) + ": " + read_file(out);
  return read_file(out);
}

TEST(Scripts, EveryDaemonPrintsTheBuildVersion) {
  TempDir dir;
  EXPECT_EQ(run({controller_binary(), "--version"}, dir), std::string("corral-controller ") + CORRAL_VERSION + "\n");
  EXPECT_EQ(run({agent_binary(), "--version"}, dir), std::string("corral-agent ") + CORRAL_VERSION + "\n");
  EXPECT_EQ(run({balancer_binary(), "--version"}, dir), std::string("corral-balancer ") + CORRAL_VERSION + "\n");
  EXPECT_EQ(run({corralctl_binary(), "--version"}, dir), std::string("corralctl ") + CORRAL_VERSION + "\n");
}

TEST(Scripts, QuickstartStopStopsAnAgentRestartedByHand) {
  TempDir dir;
  const std::string state = dir.file("state");
  std::filesystem::create_directories(state + "/agents/node-1");
  std::filesystem::create_directories(dir.file("elsewhere"));
  // As the README says to restart one: from the checkout, with a relative
  // --data-dir, and no pid file. The controller it names is not there; an
  // agent keeps running (and retrying) without it.
  auto agent_argv = [&](const std::string& data_dir) {
    return std::vector<std::string>{
        "/bin/sh", "-c",
        "cd '" + dir.path().string() + "' && exec '" + agent_binary() +
            "' --server http://127.0.0.1:1 --node node-1 --driver sim --listen 127.0.0.1:0 --data-dir " +
            data_dir};
  };
  Process by_hand({agent_argv("state/agents/node-1"), {}, {}, dir.file("by_hand.log"), dir.file("by_hand.log"), ""});
  // Another cluster's agent: not the quick start's to stop.
  Process other({agent_argv("elsewhere"), {}, {}, dir.file("other.log"), dir.file("other.log"), ""});
  ASSERT_TRUE(by_hand.started() && other.started());
  ASSERT_FALSE(by_hand.wait(500ms).has_value()) << read_file(dir.file("by_hand.log"));

  Process stop({{"/bin/bash", source_path("scripts/quickstart.sh"), "stop"},
                {{"CORRAL_STATE_DIR", state}},
                {},
                dir.file("stop.log"),
                dir.file("stop.log"),
                ""});
  ASSERT_TRUE(stop.started());
  // Reaped here as soon as it dies, so that the script does not wait on a zombie.
  EXPECT_TRUE(by_hand.wait(20s).has_value()) << "the agent restarted by hand still runs";
  EXPECT_EQ(stop.wait(30s), std::optional<int>(0)) << read_file(dir.file("stop.log"));
  EXPECT_TRUE(other.running()) << "an agent outside the quick start's state was stopped";
}

// manifests/monitoring: the sample scrape configuration and alert rules,
// checked by promtool where it is installed (Debian's prometheus package).
TEST(Scripts, TheMonitoringManifestsPassPromtool) {
  const char* promtool = "/usr/bin/promtool";
  if (::access(promtool, X_OK) != 0) GTEST_SKIP() << "promtool is not installed: not checked";
  TempDir dir;
  const std::string rules = run({promtool, "check", "rules",
                                 source_path("manifests/monitoring/corral-alerts.yml")}, dir);
  EXPECT_EQ(rules.rfind("exit", 0), std::string::npos) << rules;
  EXPECT_NE(rules.find("SUCCESS: 5 rules found"), std::string::npos) << rules;
}

}  // namespace scripts_test
}  // namespace corral::testing
