// Drains end to end: a real controller (SQLite) and real agents with the sim
// driver, and `corralctl drain` following the drain to its end. Six VMs of
// 500m simulated CPU on 4-core nodes. Every poll is bounded (generously: a
// poll ends as soon as its condition holds).
//
// The rebalancing scenarios (skewed load converging without flapping,
// rebalancing disabled, a new node receiving load) run on the simulated
// cluster instead (tests/unit/sim_cluster_test.cpp, SimRebalance): they
// only waited for hold and interval timers here, with sim-driver agents a
// real binary added nothing to.
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {
namespace rebalance_test {

using namespace std::chrono_literals;

// Generous deadlines: a wait ends as soon as its condition holds.
constexpr auto kWait = 60s;

struct VmView {
  std::string node;
  std::string phase;
  std::string replaces;
  bool in_service = false;  // Running, current epoch, Ready
};

class RebalanceTest : public ::testing::Test {
 protected:
  static constexpr int kReplicas = 6;

  void SetUp() override {
    ControllerOptions o;
    o.binary = controller_binary();
    o.data_dir = (dir_.path() / "controller").string();
    controller_ = std::make_unique<Controller>(o);
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.timeout = 30s;
    api_ = std::make_unique<ApiClient>(cfg);
    for (const char* node : {"h1", "h2"}) start_agent(node);
  }

  void TearDown() override {
    for (auto& [node, agent] : agents_) agent->stop(5s);
    controller_->stop(5s);
  }

  void start_agent(const std::string& node) {
    AgentOptions a;
    a.binary = agent_binary();
    a.server = controller_->url();
    a.node = node;
    a.driver = "sim";
    a.data_dir = (dir_.path() / node).string();
    a.extra_args = {"--cpu", "4", "--memory", "8Gi", "--heartbeat-interval", "500ms"};
    agents_[node] = std::make_unique<Agent>(a);
    std::string error;
    ASSERT_TRUE(agents_[node]->start(&error)) << error;
    ASSERT_TRUE(wait_for([&] { return node_phase(node) == "Ready"; }, kWait))
        << node << " did not turn Ready\n" << controller_->logs();
  }

  void create_pool() {
    create("pools", Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
      "spec":{"placement":"spread"}})"));
  }
  void create_vmset(int max_unavailable) {
    Json j = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
      "runtime":{"driver":"sim","sim":{"cpu":"500m","memory":"64Mi"}}}}}})");
    j["spec"]["replicas"] = kReplicas;
    j["spec"]["disruption"]["maxUnavailable"] = max_unavailable;
    create("vmsets", j);
  }

  void create(const std::string& plural, Json body) {
    auto r = api_->call("POST", ApiClient::resource_path(plural), &body);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  std::map<std::string, VmView> vms() {
    std::map<std::string, VmView> out;
    auto r = api_->call("GET", ApiClient::resource_path("vms"));
    if (!r) return out;
    for (const Json& item : (*r)["items"]) {
      VmView v;
      const Json& spec = item["spec"];
      const Json status = item.value("status", Json::object());
      const Json annotations = item["metadata"].value("annotations", Json::object());
      v.node = spec.value("nodeName", "");
      v.phase = status.value("phase", "");
      v.replaces = annotations.value("corral.io/replaces", "");
      bool ready = false;
      for (const Json& c : status.value("conditions", Json::array()))
        if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
      v.in_service = v.phase == "Running" && ready &&
                     status.value("epoch", int64_t{0}) == spec.value("epoch", int64_t{0}) &&
                     status.value("nodeName", "") == v.node;
      out[item["metadata"]["name"].get<std::string>()] = v;
    }
    return out;
  }
  std::map<std::string, int> per_node() {
    std::map<std::string, int> out;
    for (const auto& [name, v] : vms())
      if (v.in_service) ++out[v.node];
    return out;
  }
  // Replica slots with a copy in service (a VM and its replacement are one).
  int slots_in_service(const std::map<std::string, VmView>& all) {
    std::set<std::string> slots;
    for (const auto& [name, v] : all)
      if (v.in_service) slots.insert(!v.replaces.empty() && all.count(v.replaces) ? v.replaces : name);
    return static_cast<int>(slots.size());
  }
  std::string describe() {
    std::string out;
    for (const auto& [name, v] : vms())
      out += name + " node=" + v.node + " phase=" + v.phase + " replaces=" + v.replaces +
             (v.in_service ? " in-service" : "") + "\n";
    auto pool = api_->call("GET", ApiClient::resource_path("pools", "web"));
    if (pool) out += pool->value("status", Json::object()).dump() + "\n";
    return out;
  }
  int moved_events() {
    auto r = api_->call("GET", ApiClient::resource_path("events"));
    int n = 0;
    if (r)
      for (const Json& e : (*r)["items"])
        if (e.value("reason", "") == "Moved") n += e.value("count", 1);
    return n;
  }

  std::string node_phase(const std::string& node) {
    auto r = api_->call("GET", ApiClient::resource_path("nodes", node));
    if (!r) return "";
    return (*r).value("status", Json::object()).value("phase", "");
  }
  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;
};

// Drain h1 with maxUnavailable 1: corralctl drain follows it to the end, and at
// no sampled instant are fewer than replicas − 1 slots in service.
TEST_F(RebalanceTest, DrainEmptiesTheNodeWithinTheBudget) {
  create_pool();
  create_vmset(1);
  ASSERT_TRUE(wait_for([&] { return slots_in_service(vms()) == kReplicas; }, kWait)) << describe();
  const int on_h1 = per_node()["h1"];
  ASSERT_GT(on_h1, 0);

  std::atomic<bool> done{false};
  int min_in_service = kReplicas;
  int samples = 0;
  // Samples the slots in service every 50 ms (the sampling period, not a
  // wait for anything) while the drain runs.
  std::thread sampler([&] {
    while (!done) {
      min_in_service = std::min(min_in_service, slots_in_service(vms()));
      ++samples;
      std::this_thread::sleep_for(50ms);
    }
  });
  auto r = run_command(corralctl_binary(),
                       {"drain", "h1", "--timeout", "120s", "--server", controller_->url()},
                       CommandOptions{{}, "", 150s});
  done = true;
  sampler.join();
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err << describe() << controller_->logs();
  EXPECT_NE(r.out.find("node/h1 drained"), std::string::npos) << r.out;
  EXPECT_EQ(per_node()["h1"], 0) << describe();
  EXPECT_EQ(per_node()["h2"], kReplicas);
  EXPECT_GE(min_in_service, kReplicas - 1) << samples << " samples";
  EXPECT_TRUE(wait_for([&] { return moved_events() >= on_h1; }, kWait)) << describe();
  EXPECT_EQ(moved_events(), on_h1);

  // The node stays drained: cordoned, and nothing comes back.
  auto get = run_command(corralctl_binary(), {"get", "node", "h1", "--server", controller_->url()});
  EXPECT_NE(get.out.find("SchedulingDisabled"), std::string::npos) << get.out;
}

// A budget of 0 holds every serving VM back; the drain says why and times out.
TEST_F(RebalanceTest, DrainWaitsForTheBudgetAndTimesOutNamingIt) {
  create_pool();
  Json j = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","replicas":2,"disruption":{"maxUnavailable":0},
      "template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
      "runtime":{"driver":"sim","sim":{"cpu":"500m","memory":"64Mi"}}}}}})");
  create("vmsets", j);
  ASSERT_TRUE(wait_for([&] { return slots_in_service(vms()) == 2; }, kWait)) << describe();
  auto r = run_command(corralctl_binary(),
                       {"drain", "h1", "--timeout", "3s", "--server", controller_->url()});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("not drained after 3s"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("disruption budget"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("uncordon h1"), std::string::npos) << r.err;
  EXPECT_EQ(per_node()["h1"], 1) << describe();
}

}  // namespace rebalance_test
}  // namespace corral::testing
