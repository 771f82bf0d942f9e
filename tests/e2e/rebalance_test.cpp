// Rebalancing, new nodes and drains end to end: a real controller (SQLite)
// and real agents with the sim driver, whose simulated VMs load their
// simulated host (agent: HostUsage::sample_simulated), so the load the
// rebalancer sees is exactly what the VMs declare in runtime.sim.
//
// Six VMs of 500m simulated CPU on 4-core nodes: each VM is 0.125 of a node's
// load. Every poll is bounded (generously: a poll ends as soon as its
// condition holds). Where a test checks that something does NOT happen, it
// first waits for the controller to have seen the state in question and then
// for its loops to have run long enough to act on it (node-monitor passes of
// the controller's own clock; see controller_lifecycle_passes), never for a
// fixed time.
#include <gtest/gtest.h>

#include <cmath>
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
// Node-monitor passes (250 ms each, of the controller's clock) to watch for a
// move that should not come: 20 is ≥ 4.75 s, past holdSeconds (2) plus an
// intervalSeconds (1) with room to spare — what a move would need to start.
constexpr int kQuietPasses = 20;

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

  // hold 2 s, every 1 s, two moves a round, 20 s cooldown: fast enough for a
  // test, slow enough that a flap would show.
  void create_pool(bool rebalance) {
    Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
      "spec":{"placement":"spread","rebalance":{"maxImbalance":0.2,"highWatermark":0.95,
      "minGain":0.05,"holdSeconds":2,"intervalSeconds":1,"maxMovesPerRound":2,
      "cooldownSeconds":20}}})");
    pool["spec"]["rebalance"]["enabled"] = rebalance;
    create("pools", pool);
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
  void set_cordon(const std::string& node, bool on) {
    auto r = run_command(corralctl_binary(),
                         {on ? "cordon" : "uncordon", node, "--server", controller_->url()});
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
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

  // Whether the Pool's status shows exactly these loads (Rᵢ) per Ready node:
  // the controller has seen the VMs' load where they run now.
  bool pool_loads_are(const std::map<std::string, double>& want) {
    auto pool = api_->call("GET", ApiClient::resource_path("pools", "web"));
    if (!pool) return false;
    std::map<std::string, double> got;
    for (const Json& l : pool->value("status", Json::object()).value("nodeLoads", Json::array()))
      got[l.value("name", "")] = l.value("load", -1.0);
    if (got.size() != want.size()) return false;
    for (const auto& [node, load] : want)
      if (!got.count(node) || std::abs(got[node] - load) > 0.02) return false;
    return true;
  }
  // Waits for kQuietPasses node-monitor passes of the controller.
  void let_the_controller_run() {
    ASSERT_TRUE(wait_for_controller_passes(controller_->url(), kQuietPasses, kWait))
        << "the controller's loops did not run\n" << controller_->logs();
  }

  std::string node_phase(const std::string& node) {
    auto r = api_->call("GET", ApiClient::resource_path("nodes", node));
    if (!r) return "";
    return (*r).value("status", Json::object()).value("phase", "");
  }
  // All six on h1 (h2 cordoned while they are placed), then h2 uncordoned.
  void skew_onto_h1(bool rebalance) {
    set_cordon("h2", true);
    create_pool(rebalance);
    create_vmset(1);
    ASSERT_TRUE(wait_for([&] { return per_node()["h1"] == kReplicas; }, kWait)) << describe();
    set_cordon("h2", false);
  }

  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;
};

// h1 at 0.75, h2 at 0: L = 0.375, both 0.375 out of a 0.2 band. Two moves of
// 0.125 bring them to 0.5 / 0.25 (±0.125): inside, and nothing moves after.
TEST_F(RebalanceTest, SkewedLoadConvergesInsideTheBandWithoutFlapping) {
  skew_onto_h1(true);
  ASSERT_TRUE(wait_for(
      [&] {
        auto n = per_node();
        return n["h1"] == 4 && n["h2"] == 2 && static_cast<int>(vms().size()) == kReplicas;
      },
      kWait))
      << describe() << controller_->logs();
  EXPECT_TRUE(wait_for([&] { return moved_events() >= 2; }, kWait)) << describe();
  EXPECT_EQ(moved_events(), 2);
  // Converged: nothing moves back and forth. Watched while the loads the
  // controller sees catch up with the moves (Node usage is written on a 5 %
  // change or every ~10 s, so they lag: h1 still looks out of band for a
  // while), then once it sees 0.5 and 0.25 (inside the band), for long enough
  // that the rebalancer would have started a move by then (hold, then a round).
  const auto placed = per_node();
  ASSERT_TRUE(wait_for([&] { return pool_loads_are({{"h1", 0.5}, {"h2", 0.25}}); }, kWait)) << describe();
  let_the_controller_run();
  EXPECT_EQ(per_node(), placed) << describe();
  EXPECT_EQ(static_cast<int>(vms().size()), kReplicas) << "a move started:\n" << describe();
  EXPECT_EQ(moved_events(), 2);
}

TEST_F(RebalanceTest, DisabledRebalanceLeavesTheSkewAlone) {
  skew_onto_h1(false);
  // The controller sees the skew (h1 at 0.75, h2 at 0, out of the band) with
  // h2 schedulable again, and runs long enough that an enabled rebalancer
  // would have moved (SkewedLoadConverges… shows it does).
  ASSERT_TRUE(wait_for([&] { return pool_loads_are({{"h1", 0.75}, {"h2", 0.0}}); }, kWait)) << describe();
  let_the_controller_run();
  EXPECT_EQ(per_node()["h1"], kReplicas) << describe();
  EXPECT_EQ(static_cast<int>(vms().size()), kReplicas) << "a move started:\n" << describe();
  EXPECT_EQ(moved_events(), 0);
}

// A node that joins a balanced pool takes load without anyone redeploying.
TEST_F(RebalanceTest, ANewNodeReceivesLoad) {
  create_pool(true);
  create_vmset(1);
  ASSERT_TRUE(wait_for([&] {
    auto n = per_node();
    return n["h1"] == 3 && n["h2"] == 3;
  }, kWait)) << describe();
  // h1, h2 at 0.375 and h3 at 0: L = 0.25, h3 0.25 under: out of band.
  start_agent("h3");
  ASSERT_TRUE(wait_for([&] { return per_node()["h3"] >= 1; }, kWait))
      << describe() << controller_->logs();
  ASSERT_TRUE(wait_for([&] { return static_cast<int>(vms().size()) == kReplicas; }, kWait))
      << describe();
}

// Drain h1 with maxUnavailable 1: corralctl drain follows it to the end, and at
// no sampled instant are fewer than replicas − 1 slots in service.
TEST_F(RebalanceTest, DrainEmptiesTheNodeWithinTheBudget) {
  create_pool(false);
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
  create_pool(false);
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
