// A local cluster for the benchmarks: a real corral-controller (SQLite, temp
// dir) and `agents` real corral-agents named node-0..N-1, each declaring
// 8 CPU / 16 GiB, all on 127.0.0.1 port 0. Stopped when destroyed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/cluster.h"
#include "tests/support/temp_dir.h"

namespace corral::bench {

struct LocalCluster {
  testing::TempDir dir;
  std::unique_ptr<testing::Controller> controller;
  std::map<std::string, std::unique_ptr<testing::Agent>> agents;  // by node name

  // `controller_args`: more flags for the controller.
  bool start(int agent_count, const std::string& driver, std::string* error,
             const std::vector<std::string>& controller_args = {}) {
    testing::ControllerOptions o;
    o.binary = testing::controller_binary();
    o.data_dir = (dir.path() / "controller").string();
    o.extra_args = {"--log-level", "warn"};
    o.extra_args.insert(o.extra_args.end(), controller_args.begin(), controller_args.end());
    controller = std::make_unique<testing::Controller>(o);
    if (!controller->start(error)) return false;
    for (int i = 0; i < agent_count; ++i) {
      testing::AgentOptions a;
      a.binary = testing::agent_binary();
      a.server = controller->url();
      a.node = "node-" + std::to_string(i);
      a.driver = driver;
      a.data_dir = (dir.path() / a.node).string();
      a.extra_args = {"--cpu", "8", "--memory", "16Gi", "--log-level", "warn"};
      auto agent = std::make_unique<testing::Agent>(a);
      if (!agent->start(error)) return false;
      agents[a.node] = std::move(agent);
    }
    return true;
  }
};

}  // namespace corral::bench
