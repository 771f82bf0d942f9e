// Fail-over end to end: a real controller (SQLite), three real agents with
// the process driver, real VM processes on loopback. Each test kills
// something for real and waits — bounded, generously, never for a fixed
// time — for the cluster to heal.
//
// Every VM process carries a marker in its argv (this test run's id, its node
// and its name), so the test can find "the VMs of node-a" in /proc to kill
// them with their agent, and can check that none is left running twice. The
// fixture kills every marked process at the end: an agent that stops leaves
// its VMs running by design.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/vm_view.h"

namespace corral::testing {
namespace failover_test {

using namespace std::chrono_literals;

// Generous deadlines: a wait ends as soon as its condition holds.
constexpr auto kWait = 60s;

class FailoverTest : public ::testing::Test {
 protected:
  static constexpr int kReplicas = 4;
  const std::vector<std::string> kNodes = {"node-a", "node-b", "node-c"};

  void SetUp() override {
    marker_ = "corral-e2e-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name();
    controller_ = std::make_unique<Controller>(local_controller_options(dir_.path()));
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    for (const std::string& node : kNodes) {
      AgentOptions a = local_agent_options(controller_->url(), dir_.path(), node);
      a.labels = "zone=" + node;
      agents_[node] = std::make_unique<Agent>(a);
      ASSERT_TRUE(agents_[node]->start(&error)) << error;
    }
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.timeout = 30s;
    api_ = std::make_unique<ApiClient>(cfg);
    // Every test starts from three registered, Ready nodes.
    for (const std::string& node : kNodes)
      ASSERT_TRUE(wait_for([&] { return node_phase(node) == "Ready"; }, kWait))
          << node << " did not turn Ready\n" << controller_->logs();
  }

  void TearDown() override {
    for (auto& [node, agent] : agents_) agent->stop(5s);
    controller_->stop(5s);
    kill_marked("");
  }

  // Kills (SIGKILL) every VM process of this test on `node` ("" = all nodes).
  int kill_marked(const std::string& node) {
    int killed = 0;
    for (const auto& [pid, cmd] : process_table()) {
      if (cmd.find(marker_) == std::string::npos) continue;
      if (!node.empty() && cmd.find(" " + node + " ") == std::string::npos) continue;
      if (::kill(pid, SIGKILL) == 0) ++killed;
    }
    return killed;
  }
  int count_marked(const std::string& node) {
    int n = 0;
    for (const auto& [pid, cmd] : process_table()) {
      // A killed process lingers as a zombie with an empty cmdline until reaped: not counted.
      if (cmd.find(marker_) != std::string::npos && cmd.find(" " + node + " ") != std::string::npos) ++n;
    }
    return n;
  }

  Json pool() {
    return Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
      "spec":{"placement":"spread"}})");
  }
  Json vmset(int replicas, std::vector<std::string> command) {
    Json j = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
      "runtime":{"driver":"process"}}}}})");
    j["spec"]["replicas"] = replicas;
    j["spec"]["template"]["spec"]["runtime"]["command"] = command;
    return j;
  }
  // A VM that sleeps, marked with this test, its node and its name.
  std::vector<std::string> sleeper() {
    return {"/usr/bin/python3", "-c", "import time; time.sleep(600)", marker_, "${CORRAL_NODE}",
            "${CORRAL_VM_NAME}", "end"};
  }

  void create(const std::string& plural, Json body) {
    auto r = api_->call("POST", ApiClient::resource_path(plural), &body);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }

  std::map<std::string, VmView> vms() { return list_vm_views(*api_); }

  std::string node_phase(const std::string& node) {
    auto r = api_->call("GET", ApiClient::resource_path("nodes", node));
    if (!r) return "";
    return (*r).value("status", Json::object()).value("phase", "");
  }

  bool all_running(int replicas, const std::string& avoid_node = "") {
    return all_vms_running(vms(), replicas, avoid_node);
  }

  std::string describe_vms() { return describe_vm_views(vms()); }


  // Starts the set and waits for every replica to run; returns the node of the first.
  void start_app() {
    create("pools", pool());
    create("vmsets", vmset(kReplicas, sleeper()));
    ASSERT_TRUE(wait_for([&] { return all_running(kReplicas); }, kWait))
        << describe_vms() << controller_->logs();
  }

  std::string busiest_node() {
    std::map<std::string, int> per_node;
    for (const auto& [name, v] : vms()) ++per_node[v.node];
    std::string best;
    for (const auto& [node, n] : per_node)
      if (best.empty() || n > per_node[best]) best = node;
    return best;
  }

  TempDir dir_;
  std::string marker_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;
};

TEST_F(FailoverTest, KillNineOfAnAgentAndItsVMsReplacesThemOnOtherNodes) {
  start_app();
  const std::string victim = busiest_node();
  auto before = vms();
  agents_[victim]->kill_hard();
  ASSERT_GT(kill_marked(victim), 0);

  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas, victim); }, kWait))
      << describe_vms() << controller_->logs();
  EXPECT_EQ(node_phase(victim), "NotReady");
  for (const auto& [name, v] : vms()) {
    if (before[name].node == victim) {
      EXPECT_EQ(v.epoch, before[name].epoch + 1) << name << " was re-placed: its epoch moves on";
    } else {
      EXPECT_EQ(v.node, before[name].node) << name << " on a live node stays where it is";
      EXPECT_EQ(v.epoch, before[name].epoch);
    }
  }
  EXPECT_EQ(count_marked(victim), 0);
}

TEST_F(FailoverTest, RestartedAgentStopsItsStaleCopiesInsteadOfRunningThemTwice) {
  start_app();
  const std::string victim = busiest_node();
  agents_[victim]->kill_hard();  // its VMs survive: orphans of a dead agent
  ASSERT_GT(count_marked(victim), 0);
  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas, victim); }, kWait))
      << describe_vms() << controller_->logs();
  auto moved = vms();

  std::string error;
  ASSERT_TRUE(agents_[victim]->start(&error)) << error;
  // The restarted agent adopts its old copies from its state file, learns
  // that they are bound elsewhere now, and stops them.
  EXPECT_TRUE(wait_for([&] { return count_marked(victim) == 0; }, kWait))
      << count_marked(victim) << " stale copies still run on " << victim << "\n"
      << agents_[victim]->logs();
  EXPECT_TRUE(wait_for([&] { return node_phase(victim) == "Ready"; }, kWait));
  // The replacements were not disturbed.
  for (const auto& [name, v] : vms()) {
    EXPECT_EQ(v.node, moved[name].node) << name;
    EXPECT_EQ(v.epoch, moved[name].epoch) << name;
    EXPECT_TRUE(v.running()) << describe_vms();
  }
}

// A controller outage — a kill -9 of the real binary and its restart, after
// 0, 1 or 5 s — moves no VM: the agents retry every second and reach the
// returning controller within its startup grace. With the agents' old
// 1-2-4-5 s back-off, 20 s and 60 s outages re-placed every VM (issue 14);
// those lengths, where the test is only waiting, run on the simulated
// cluster (tests/unit/sim_cluster_test.cpp, SimControllerDown), up to 60 s.
class ControllerOutage : public FailoverTest, public ::testing::WithParamInterface<int> {};

TEST_P(ControllerOutage, MovesNoVM) {
  start_app();
  auto before = vms();
  controller_->kill_hard();
  std::map<std::string, double> beats;
  for (const std::string& node : kNodes)
    beats[node] = scrape_metric(agents_[node]->url(), "corral_agent_heartbeats_total").value_or(0);
  // The outage itself: its length is what this test varies.
  std::this_thread::sleep_for(std::chrono::seconds(GetParam()));
  std::string error;
  ASSERT_TRUE(controller_->start(&error)) << error;
  // Every agent answered twice by the restarted controller (its lease renewed
  // there, so the startup grace no longer applies to it), then 20 passes of
  // the node lifecycle loop judging them.
  for (const std::string& node : kNodes)
    ASSERT_TRUE(wait_for(
        [&] {
          auto n = scrape_metric(agents_[node]->url(), "corral_agent_heartbeats_total");
          return n && *n >= beats[node] + 2;
        },
        kWait))
        << node << " was not answered by the restarted controller\n" << agents_[node]->logs();
  ASSERT_TRUE(wait_for_controller_passes(controller_->url(), 20, kWait)) << controller_->logs();
  auto after = vms();
  ASSERT_EQ(after.size(), before.size()) << describe_vms();
  for (const auto& [name, v] : after) {
    EXPECT_EQ(v.node, before[name].node) << name;
    EXPECT_EQ(v.epoch, before[name].epoch) << name;
    EXPECT_TRUE(v.running()) << describe_vms();
  }
  for (const std::string& node : kNodes) EXPECT_EQ(node_phase(node), "Ready") << node;
  // The controller's own account: no VM was marked Lost.
  EXPECT_EQ(scrape_metric(controller_->url(), "corral_vms_lost_total"), 0.0) << controller_->logs();
}

INSTANTIATE_TEST_SUITE_P(Seconds, ControllerOutage, ::testing::Values(0, 1, 5),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "s";
                         });

// A frozen controller (SIGSTOP) finds every lease expired when it resumes:
// the mass-failure guard keeps the VMs where they are — and a host that
// really died during the freeze is still failed over once the others report.
TEST_F(FailoverTest, FrozenControllerKeepsVMsButStillFailsOverAHostThatDied) {
  start_app();
  const std::string victim = busiest_node();
  auto before = vms();
  const pid_t controller = controller_->process()->pid();
  ASSERT_EQ(::kill(controller, SIGSTOP), 0);
  agents_[victim]->kill_hard();
  ASSERT_GT(kill_marked(victim), 0);
  std::this_thread::sleep_for(5s);  // the freeze: longer than grace + probes
  ASSERT_EQ(::kill(controller, SIGCONT), 0);

  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas, victim); }, kWait))
      << describe_vms() << controller_->logs();
  for (const auto& [name, v] : vms()) {
    if (before[name].node == victim) continue;
    EXPECT_EQ(v.node, before[name].node) << name << " on a live node stays where it is";
    EXPECT_EQ(v.epoch, before[name].epoch) << name;
  }
  EXPECT_EQ(node_phase(victim), "NotReady");
  for (const std::string& node : kNodes) {
    if (node == victim) continue;
    EXPECT_TRUE(wait_for([&] { return node_phase(node) == "Ready"; }, kWait)) << node;
  }
}

// An agent stopped for an upgrade (SIGTERM) keeps its node's VMs where they
// are while it is away, and the next agent adopts them: no VM runs twice.
// Before, its VMs were re-placed 2 s after the stop and ran twice.
TEST_F(FailoverTest, AgentStoppedForARestartKeepsItsVMsUntilItReturns) {
  start_app();
  const std::string victim = busiest_node();
  auto before = vms();
  const int running_there = count_marked(victim);
  ASSERT_GT(running_there, 0);
  agents_[victim]->stop(10s);
  ASSERT_TRUE(wait_for([&] { return node_phase(victim) == "Restarting"; }, kWait))
      << node_phase(victim) << "\n" << controller_->logs();
  // Well past the grace (2 s) and the probes: 30 passes, 7.5 s.
  ASSERT_TRUE(wait_for_controller_passes(controller_->url(), 30, kWait));
  EXPECT_EQ(node_phase(victim), "Restarting");
  for (const auto& [name, v] : vms()) {
    EXPECT_EQ(v.node, before[name].node) << name;
    EXPECT_EQ(v.epoch, before[name].epoch) << name;
  }
  EXPECT_EQ(count_marked(victim), running_there) << "its VMs kept running on the host";
  EXPECT_EQ(scrape_metric(controller_->url(), "corral_vms_lost_total"), 0.0);

  std::string error;
  ASSERT_TRUE(agents_[victim]->start(&error)) << error;
  ASSERT_TRUE(wait_for([&] { return node_phase(victim) == "Ready" && all_running(kReplicas); }, kWait))
      << describe_vms() << agents_[victim]->logs();
  for (const auto& [name, v] : vms()) EXPECT_EQ(v.epoch, before[name].epoch) << name << " adopted, not restarted";
  EXPECT_EQ(count_marked(victim), running_there);
}

// Past the restart window the usual rules apply: here the pool grants 10 s.
TEST_F(FailoverTest, AgentThatDoesNotReturnWithinTheWindowIsFailedOver) {
  Json p = pool();
  p["spec"]["failover"]["restartWindowSeconds"] = 10;
  create("pools", p);
  create("vmsets", vmset(kReplicas, sleeper()));
  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas); }, kWait)) << describe_vms();
  const std::string victim = busiest_node();
  agents_[victim]->stop(10s);
  kill_marked(victim);  // and the host goes down for good
  ASSERT_TRUE(wait_for([&] { return node_phase(victim) == "Restarting"; }, kWait)) << controller_->logs();
  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas, victim); }, kWait))
      << describe_vms() << controller_->logs();
  EXPECT_EQ(node_phase(victim), "NotReady");
}

TEST_F(FailoverTest, CrashedVMIsRestartedInPlace) {
  start_app();
  auto before = vms();
  const std::string vm = before.begin()->first;
  const VmView v = before.begin()->second;
  int killed = 0;
  for (const auto& [pid, cmd] : process_table())
    if (cmd.find(marker_) != std::string::npos && cmd.find(" " + vm + " ") != std::string::npos)
      killed += ::kill(pid, SIGKILL) == 0;
  ASSERT_EQ(killed, 1);
  ASSERT_TRUE(wait_for(
      [&] {
        auto now = vms();
        return now[vm].restarts >= 1 && now[vm].running();
      },
      kWait))
      << describe_vms();
  auto after = vms()[vm];
  EXPECT_EQ(after.node, v.node);
  EXPECT_EQ(after.epoch, v.epoch);
}

TEST_F(FailoverTest, VMWhoseCommandDoesNotExistReportsWhy) {
  create("pools", pool());
  create("vmsets", vmset(1, {"/no/such/binary", marker_}));
  ASSERT_TRUE(wait_for(
      [&] {
        auto all = vms();
        return all.size() == 1 && all.begin()->second.last_error.find("/no/such/binary") != std::string::npos;
      },
      kWait))
      << describe_vms();
  // The agents and the controller are undisturbed.
  for (const std::string& node : kNodes)
    EXPECT_TRUE(wait_for([&] { return node_phase(node) == "Ready"; }, kWait)) << node;
}

}  // namespace failover_test
}  // namespace corral::testing
