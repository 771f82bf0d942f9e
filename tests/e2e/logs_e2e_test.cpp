// `corralctl logs` end to end: the real controller, a real agent started with
// a node token — whose endpoint takes only calls the controller signed with
// that node's key — and a VM run by the process driver. corralctl asks the
// API (GET vms/<name>/log) with the user's token; the controller reads the
// log from the agent with its own signature. The agent refuses corralctl's
// direct, unsigned call; a node token may not read logs through the API.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {
namespace logs_e2e_test {

using namespace std::chrono_literals;

class LogsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string tokens = dir_.file("tokens");
    std::ofstream(tokens) << "admin-token,root,admin\n"
                             "viewer-token,watcher,viewer\n"
                             "host-a-token,agent-a,node:host-a\n"
                             "lb-token,lb,balancer:front\n";
    ControllerOptions o = local_controller_options(dir_.path());
    o.tokens_file = tokens;
    controller_ = std::make_unique<Controller>(o);
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    AgentOptions a = local_agent_options(controller_->url(), dir_.path(), "host-a");
    a.token = "host-a-token";  // its endpoint takes only the controller's signed calls
    agent_ = std::make_unique<Agent>(a);
    ASSERT_TRUE(agent_->start(&error)) << error;
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    if (controller_) controller_->stop();
    // The VM's process outlives its agent on purpose; it is this test's to end.
    kill_processes_matching({marker()});
  }

  CommandResult ctl(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", controller_->url()});
    CommandOptions options;
    options.env["CORRAL_TOKEN"] = token;
    return run_command(corralctl_binary(), args, options);
  }

  // In the VM's argv, so that TearDown finds its process.
  std::string marker() const { return dir_.file("logs-e2e-vm"); }

  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(LogsE2E, CorralctlReadsTheLogThroughTheControllerFromASigningOnlyAgent) {
  const std::string manifest = dir_.file("app.yaml");
  std::ofstream(manifest) << "apiVersion: corral/v1\n"
                             "kind: VM\n"
                             "metadata:\n"
                             "  name: app\n"
                             "spec:\n"
                             "  nodeName: host-a\n"
                             "  resources: {cpu: 100m, memory: 16Mi}\n"
                             "  runtime:\n"
                             "    driver: process\n"
                             "    command: [/bin/sh, -c, ': "
                          << marker()
                          << "; echo one; echo two; echo three; while :; do sleep 1; done']\n";
  auto r = ctl("admin-token", {"apply", "-f", manifest});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // Until the VM runs and its agent holds its key the answer says why not.
  ASSERT_TRUE(wait_for(
      [&] {
        r = ctl("admin-token", {"logs", "app"});
        return r.exit_code == 0 && r.out == "one\ntwo\nthree\n";
      },
      60s))
      << r.out << r.err << ctl("admin-token", {"describe", "vm", "app"}).out << agent_->logs();

  // The same read again at once, and the three forms of the name with --tail:
  // each is signed afresh, never taken for a replay.
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"logs", "app"}, {"logs", "vm", "app", "--tail", "1"}, {"logs", "vm/app", "--tail", "2"}}) {
    r = ctl("admin-token", args);
    EXPECT_EQ(r.exit_code, 0) << args.back() << ": " << r.err;
  }
  EXPECT_EQ(r.out, "two\nthree\n");
  r = ctl("admin-token", {"logs", "app", "--tail", "1"});
  EXPECT_EQ(r.out, "three\n") << r.err;

  // A viewer reads logs too (Kubernetes' view role reads pods/log).
  r = ctl("viewer-token", {"logs", "app", "--tail", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "three\n");

  // A node token may not, not even for a VM on its own node; nor a balancer's.
  r = ctl("host-a-token", {"logs", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nodes may not read VM logs"), std::string::npos) << r.err;
  r = ctl("lb-token", {"logs", "app"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("balancers may not read VM logs"), std::string::npos) << r.err;

  // Errors name what is missing, and why: a VM the scheduler finds no place
  // for (it names no pool) is not bound, with the scheduler's reason.
  r = ctl("admin-token", {"logs", "ghost"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "error: vms \"ghost\" not found\n");
  const std::string unplaced = dir_.file("unplaced.yaml");
  std::ofstream(unplaced) << "apiVersion: corral/v1\nkind: VM\nmetadata:\n  name: unplaced\nspec:\n"
                             "  resources: {cpu: 100m, memory: 16Mi}\n"
                             "  runtime: {driver: process, command: [/bin/true]}\n";
  r = ctl("admin-token", {"apply", "-f", unplaced});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(wait_for(
      [&] {
        r = ctl("admin-token", {"logs", "unplaced"});
        return r.err.rfind("error: vm/unplaced is not bound to a node yet (", 0) == 0;
      },
      60s))
      << r.err;
  EXPECT_EQ(r.exit_code, 1);

  // What corralctl used to do — call the agent itself — is refused there.
  ClientConfig direct;
  direct.server = agent_->url();
  direct.token = "admin-token";  // a bearer token means nothing to an agent
  ApiClient agent_client(direct);
  auto answer = agent_client.request("GET", "/v1/logs/app");
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(answer->status, 401) << answer->body;
}

}  // namespace logs_e2e_test
}  // namespace corral::testing
