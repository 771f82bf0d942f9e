// Shared by tests/e2e/{secrets_e2e,logs_e2e}_test.cpp: a real controller with a
// tokens file (an admin, a viewer, node host-a and a balancer scoped to
// Balancer front) and one real agent, host-a, started with its node token —
// so its endpoint takes only calls the controller signed — on the process
// driver. corralctl runs with whichever token a step needs.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {

class TokenClusterE2E : public ::testing::Test {
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
    a.token = "host-a-token";
    agent_ = std::make_unique<Agent>(a);
    ASSERT_TRUE(agent_->start(&error)) << error;
  }
  void TearDown() override {
    if (agent_) agent_->stop();
    if (controller_) controller_->stop();
    // A VM's process outlives its agent on purpose; it is the test's to end.
    kill_processes_matching({marker()});
  }

  // corralctl against the controller, the token by the environment (never argv).
  CommandResult ctl(const std::string& token, std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", controller_->url()});
    CommandOptions options;
    options.env["CORRAL_TOKEN"] = token;
    return run_command(corralctl_binary(), args, options);
  }

  // Writes dir/<name>.yaml, VM `name` bound to host-a and run by the process
  // driver as /bin/sh -c `script` (in YAML single quotes: no ' in it);
  // `runtime_extra`: more lines under runtime, indented 4. Returns its path.
  std::string process_vm_manifest(const std::string& name, const std::string& script,
                                  const std::string& runtime_extra = "") const {
    const std::string path = dir_.file(name + ".yaml");
    std::ofstream(path) << "apiVersion: corral/v1\n"
                           "kind: VM\n"
                           "metadata:\n"
                           "  name: "
                        << name
                        << "\n"
                           "spec:\n"
                           "  nodeName: host-a\n"
                           "  resources: {cpu: 100m, memory: 16Mi}\n"
                           "  runtime:\n"
                           "    driver: process\n"
                           "    command: [/bin/sh, -c, '"
                        << script << "']\n"
                        << runtime_extra;
    return path;
  }

  // A path for a test's VMs to name in their argv (and may write to), so
  // that TearDown finds and ends their processes.
  std::string marker() const { return dir_.file("vm-ran"); }

  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<Agent> agent_;
};

}  // namespace corral::testing
