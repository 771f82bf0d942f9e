// Cluster scenarios on the simulated cluster (tests/support/sim_cluster.h):
// the controller's loops, the heartbeat service and many agents' sync loops
// in one process on one FakeClock. Time bounds below are simulated time; no
// test sleeps, and a run is the same every time.
//
// Ported here from tests/e2e, where their length was waiting: the controller
// outages of 20 s and 60 s (failover_test.cpp keeps 0, 1 and 5 s against the
// real binaries), and the rebalancing scenarios of rebalance_test.cpp that
// ran real sim-driver agents (the drains, which run `corralctl drain`, stay
// there).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "api/json.h"
#include "api/kinds.h"
#include "tests/support/sim_cluster.h"

namespace corral::testing {
namespace sim_cluster_test {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

std::string vmset_of(const VM& vm) {
  auto it = vm.metadata.labels.find("corral.io/vmset");
  return it == vm.metadata.labels.end() ? "" : it->second;
}

// Hosts node-0 … node-(n-1), labelled role=web and zone z0/z1/z2.
void add_nodes(SimCluster& c, int n, int64_t cpu_milli = 8000) {
  for (int i = 0; i < n; ++i) {
    SimNode node;
    node.name = "node-" + std::to_string(i);
    node.labels = {{"role", "web"}, {"zone", "z" + std::to_string(i % 3)}};
    node.cpu_milli = cpu_milli;
    c.add_node(node);
  }
}

constexpr const char* kWebPool = R"(
apiVersion: corral/v1
kind: Pool
metadata: {name: web}
spec:
  nodeSelector: {role: web}
  placement: spread
)";

std::string vmset_yaml(const std::string& name, int replicas, const std::string& extra_spec = "",
                       const std::string& restart_policy = "Always") {
  return "apiVersion: corral/v1\nkind: VMSet\nmetadata: {name: " + name +
         "}\nspec:\n  pool: web\n  replicas: " + std::to_string(replicas) + "\n" + extra_spec +
         "  template:\n    spec:\n      resources: {cpu: 100m, memory: 128Mi}\n"
         "      runtime: {driver: sim, sim: {cpu: 50m, memory: 64Mi}}\n"
         "      restartPolicy: " +
         restart_policy + "\n";
}

bool nodes_ready(SimCluster& c) {
  for (const std::string& n : c.node_names()) {
    auto node = c.node(n);
    if (!node || node->status.phase != "Ready") return false;
  }
  return true;
}

std::map<std::string, int> per_node(SimCluster& c) {
  std::map<std::string, int> out;
  for (const VM& vm : c.vms()) ++out[vm.spec.nodeName];
  return out;
}

// The node with the most VMs bound.
std::string busiest(SimCluster& c) {
  auto counts = per_node(c);
  std::string best;
  for (const auto& [node, n] : counts)
    if (!node.empty() && (best.empty() || n > counts[best])) best = node;
  return best;
}

// Records every breach of the "no VM runs twice" rules, checked after every tick.
struct DoubleRunWatch {
  explicit DoubleRunWatch(SimCluster& c) {
    c.after_each_tick([this, &c] {
      for (const std::string& b : c.double_runs())
        breaches.push_back("t=" + std::to_string(c.elapsed().count()) + "ms " + b);
    });
  }
  std::vector<std::string> breaches;
};

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// ---- scale -----------------------------------------------------------------------

TEST(SimCluster, AThousandNodesPlaceAndRunTwoThousandVMs) {
  SimCluster c;
  add_nodes(c, 1000);
  ASSERT_TRUE(c.apply_yaml(kWebPool).ok());
  auto ok = c.apply_yaml(vmset_yaml("app", 2000));
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  // Every node registers with its first beat (within 1 s); the VMs are
  // bound as nodes turn Ready, and each agent, nudged, starts its VMs at
  // once and reports them — possibly before the last nodes have registered.
  EXPECT_TRUE(c.step_until([&] { return c.running("app") == 2000; }, 10s))
      << c.running("app") << " of 2000 running after " << c.elapsed().count() << " ms";
  EXPECT_TRUE(c.step_until([&] { return nodes_ready(c); }, 2s));
  // Every VM is bound to a registered node, and each runs exactly once,
  // where it is bound.
  auto copies = c.running_copies();
  EXPECT_EQ(copies.size(), 2000u);
  const auto names = c.node_names();
  const std::set<std::string> nodes(names.begin(), names.end());
  for (const VM& vm : c.vms()) {
    ASSERT_TRUE(nodes.count(vm.spec.nodeName)) << vm.metadata.name << " on " << vm.spec.nodeName;
    ASSERT_EQ(copies[vm.metadata.name].size(), 1u) << vm.metadata.name;
    EXPECT_EQ(copies[vm.metadata.name][0].node, vm.spec.nodeName) << vm.metadata.name;
  }
  EXPECT_TRUE(c.errors().empty()) << join(c.errors());
}

// ---- fail-over -------------------------------------------------------------------

class SimFailover : public ::testing::Test {
 protected:
  void SetUp() override {
    add_nodes(c_, 10);
    ASSERT_TRUE(c_.apply_yaml(kWebPool).ok());
    ASSERT_TRUE(c_.apply_yaml(vmset_yaml("web", 20)).ok());
    ASSERT_TRUE(c_.apply_yaml(vmset_yaml("db", 10, "  fencing: selfFence\n")).ok());
    ASSERT_TRUE(c_.step_until([&] { return c_.running() == 30; }, 30s)) << c_.running();
  }
  // Every VM of `set` runs where it is bound, none on `avoid`.
  bool all_running_off(const std::string& set, int replicas, const std::string& avoid) {
    int n = 0;
    for (const VM& vm : c_.vms()) {
      if (vmset_of(vm) != set) continue;
      if (vm.spec.nodeName == avoid || vm.status.phase != "Running" ||
          vm.status.epoch != vm.spec.epoch || vm.status.nodeName != vm.spec.nodeName)
        return false;
      ++n;
    }
    return n == replicas;
  }
  std::map<std::string, VM> by_name() {
    std::map<std::string, VM> out;
    for (VM& vm : c_.vms()) out[vm.metadata.name] = std::move(vm);
    return out;
  }

  SimCluster c_;
};

TEST_F(SimFailover, KilledAgentsVMsAreReplacedElsewhereAndNoneRunsTwice) {
  DoubleRunWatch watch(c_);
  const std::string victim = busiest(c_);
  auto before = by_name();
  c_.kill_agent(victim);
  const milliseconds killed_at = c_.elapsed();

  // fencing none: re-placed once the grace (2 s) and the probe ran out.
  ASSERT_TRUE(c_.step_until([&] { return all_running_off("web", 20, victim); }, 10s))
      << "web not re-placed " << (c_.elapsed() - killed_at).count() << " ms after the kill";
  EXPECT_LE(c_.elapsed() - killed_at, 2s + 3s);
  // selfFence: only after the grace and the fence wait (12 s), when the
  // host's watchdog has stopped the old copies.
  ASSERT_TRUE(c_.step_until([&] { return all_running_off("db", 10, victim); }, 30s));
  EXPECT_GE(c_.elapsed() - killed_at, 2s + 12s) << "selfFence VMs re-placed before the fence wait";
  EXPECT_LE(c_.elapsed() - killed_at, 2s + 12s + 3s);
  EXPECT_EQ(c_.node(victim)->status.phase, "NotReady");

  int moved = 0;
  for (const auto& [name, vm] : by_name()) {
    const VM& was = before.at(name);
    if (was.spec.nodeName == victim) {
      ++moved;
      EXPECT_EQ(vm.spec.epoch, was.spec.epoch + 1) << name << " was re-placed: its epoch moves on";
    } else {
      EXPECT_EQ(vm.spec.nodeName, was.spec.nodeName) << name << " on a live node stays";
      EXPECT_EQ(vm.spec.epoch, was.spec.epoch) << name;
    }
  }
  EXPECT_GT(moved, 0);
  // The dead host still runs its fencing:none copies (nobody stops them);
  // its selfFence copies were stopped by its fence watchdog.
  int stale_web = 0;
  for (const auto& [name, copies] : c_.running_copies())
    for (const SimCopy& copy : copies)
      if (copy.node == victim) {
        EXPECT_EQ(vmset_of(before.at(name)), "web") << name << " (selfFence) still runs on " << victim;
        ++stale_web;
      }
  EXPECT_GT(stale_web, 0);

  // The agent comes back: it stops its stale copies before reporting them.
  c_.restart_agent(victim);
  c_.step(5s);
  for (const auto& [name, copies] : c_.running_copies())
    for (const SimCopy& copy : copies) EXPECT_NE(copy.node, victim) << name << " still runs there";
  EXPECT_EQ(c_.node(victim)->status.phase, "Ready");
  EXPECT_EQ(c_.running(), 30u);
  EXPECT_TRUE(watch.breaches.empty()) << join(watch.breaches);
  EXPECT_TRUE(c_.errors().empty()) << join(c_.errors());
}

TEST_F(SimFailover, FrozenAgentFencesItsSelfFenceVMsAndStopsStaleCopiesWhenThawed) {
  DoubleRunWatch watch(c_);
  const std::string victim = busiest(c_);
  c_.freeze_agent(victim);
  ASSERT_TRUE(c_.step_until(
      [&] { return all_running_off("web", 20, victim) && all_running_off("db", 10, victim); }, 30s));
  c_.thaw_agent(victim);
  c_.step(3s);
  for (const auto& [name, copies] : c_.running_copies())
    for (const SimCopy& copy : copies) EXPECT_NE(copy.node, victim) << name << " still runs there";
  EXPECT_EQ(c_.running(), 30u);
  EXPECT_TRUE(watch.breaches.empty()) << join(watch.breaches);
}

// ---- restarts --------------------------------------------------------------------

TEST(SimCluster, CrashedVMIsRestartedPerItsRestartPolicy) {
  SimCluster c;
  add_nodes(c, 3);
  ASSERT_TRUE(c.apply_yaml(kWebPool).ok());
  ASSERT_TRUE(c.apply_yaml(vmset_yaml("always", 1, "", "Always")).ok());
  ASSERT_TRUE(c.apply_yaml(vmset_yaml("onfailure", 2, "", "OnFailure")).ok());
  ASSERT_TRUE(c.apply_yaml(vmset_yaml("never", 1, "", "Never")).ok());
  ASSERT_TRUE(c.step_until([&] { return c.running() == 4; }, 30s));
  std::map<std::string, VM> vm;  // one per policy (onfailure: two)
  std::vector<VM> onfailure;
  for (const VM& v : c.vms()) {
    if (vmset_of(v) == "onfailure") onfailure.push_back(v);
    else vm[vmset_of(v)] = v;
  }
  ASSERT_EQ(onfailure.size(), 2u);
  auto crash = [&](const VM& v, int code) {
    ASSERT_TRUE(c.crash_vm(v.spec.nodeName, v.metadata.name, code).ok());
  };
  crash(vm["always"], 1);
  crash(vm["never"], 1);
  crash(onfailure[0], 1);  // a failure: restarted
  crash(onfailure[1], 0);  // a clean exit: left alone
  auto now = [&](const VM& v) { return *c.vm(v.metadata.name); };
  auto restarted = [&](const VM& v) {
    VM n = now(v);
    return n.status.restarts >= 1 && n.status.phase == "Running";
  };
  ASSERT_TRUE(c.step_until([&] { return restarted(vm["always"]) && restarted(onfailure[0]); }, 10s))
      << now(vm["always"]).status.phase << " " << now(onfailure[0]).status.phase;
  c.step(10s);  // long past the restart back-off (1 s)
  for (const VM& v : {vm["always"], onfailure[0]}) {
    VM n = now(v);
    EXPECT_EQ(n.spec.nodeName, v.spec.nodeName) << "restarted in place";
    EXPECT_EQ(n.spec.epoch, v.spec.epoch);
    EXPECT_EQ(n.status.restarts, 1);
  }
  for (const VM& v : {vm["never"], onfailure[1]}) {
    VM n = now(v);
    EXPECT_NE(n.status.phase, "Running") << v.metadata.name;
    EXPECT_EQ(n.status.restarts, 0) << v.metadata.name;
    EXPECT_EQ(n.spec.nodeName, v.spec.nodeName) << v.metadata.name << " is not re-placed either";
    EXPECT_EQ(c.running_copies().count(v.metadata.name), 0u) << v.metadata.name;
  }
  EXPECT_TRUE(c.errors().empty()) << join(c.errors());
}

// ---- determinism -----------------------------------------------------------------

// A scenario with placement, a node failure and re-placement; what it leaves.
std::map<std::string, std::string> scenario_placements(int64_t* epochs_sum) {
  SimCluster c;
  add_nodes(c, 40);
  EXPECT_TRUE(c.apply_yaml(kWebPool).ok());
  EXPECT_TRUE(c.apply_yaml(vmset_yaml("app", 150)).ok());
  EXPECT_TRUE(c.step_until([&] { return c.running() == 150; }, 30s));
  c.kill_agent(busiest(c));
  c.step(10s);
  *epochs_sum = 0;
  for (const VM& vm : c.vms()) *epochs_sum += vm.spec.epoch;
  return c.placements();
}

TEST(SimCluster, SameInputsGiveTheSamePlacements) {
  int64_t epochs_a = 0, epochs_b = 0;
  auto a = scenario_placements(&epochs_a);
  auto b = scenario_placements(&epochs_b);
  ASSERT_EQ(a.size(), 150u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(epochs_a, epochs_b);
  EXPECT_GT(epochs_a, 150) << "the failure re-placed some VMs";
}

// ---- controller outage (from tests/e2e/failover_test.cpp) ---------------------------

// A controller outage of any length moves no VM: the agents retry every
// second and reach the returning controller within its startup grace.
class SimControllerDown : public ::testing::TestWithParam<int> {};

TEST_P(SimControllerDown, ForAnyLengthMovesNoVM) {
  SimCluster c;
  add_nodes(c, 3);
  ASSERT_TRUE(c.apply_yaml(kWebPool).ok());
  ASSERT_TRUE(c.apply_yaml(vmset_yaml("app", 4)).ok());
  ASSERT_TRUE(c.step_until([&] { return c.running() == 4; }, 30s));
  auto before = c.vms();
  c.stop_controller();
  c.step(std::chrono::seconds(GetParam()));
  c.start_controller();
  // Past the startup grace (10 s) with every node beating, and 20 more passes
  // of the node lifecycle loop judging them.
  c.step(15s);
  auto after = c.vms();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].metadata.name, before[i].metadata.name);
    EXPECT_EQ(after[i].spec.nodeName, before[i].spec.nodeName) << after[i].metadata.name;
    EXPECT_EQ(after[i].spec.epoch, before[i].spec.epoch) << after[i].metadata.name;
  }
  EXPECT_EQ(c.running(), 4u);
  EXPECT_TRUE(nodes_ready(c));
  EXPECT_EQ(c.controller_metrics().counter("corral_vms_lost_total", "").with({}).value(), 0.0);
  EXPECT_TRUE(c.errors().empty()) << join(c.errors());
}

INSTANTIATE_TEST_SUITE_P(Seconds, SimControllerDown, ::testing::Values(0, 1, 5, 20, 60),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::to_string(info.param) + "s";
                         });

// ---- rebalancing (from tests/e2e/rebalance_test.cpp) --------------------------------

// Six VMs of 500m simulated CPU on 4-core nodes: each is 0.125 of a node's
// load. hold 2 s, every 1 s, two moves a round, 20 s cooldown.
class SimRebalance : public ::testing::Test {
 protected:
  static constexpr int kReplicas = 6;

  static SimClusterOptions options() {
    SimClusterOptions o;
    o.heartbeat_interval = 500ms;  // as the e2e agents' --heartbeat-interval
    return o;
  }
  void add_host(const std::string& name) {
    SimNode n;
    n.name = name;
    n.cpu_milli = 4000;
    n.memory_bytes = int64_t{8} << 30;
    c_.add_node(n);
    ASSERT_TRUE(c_.step_until(
        [&] {
          auto node = c_.node(name);
          return node && node->status.phase == "Ready";
        },
        10s));
  }
  void create_pool(bool rebalance) {
    Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
      "spec":{"placement":"spread","rebalance":{"maxImbalance":0.2,"highWatermark":0.95,
      "minGain":0.05,"holdSeconds":2,"intervalSeconds":1,"maxMovesPerRound":2,
      "cooldownSeconds":20}}})");
    pool["spec"]["rebalance"]["enabled"] = rebalance;
    ASSERT_TRUE(c_.apply(pool).ok());
  }
  void create_vmset() {
    Json j = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","disruption":{"maxUnavailable":1},
      "template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
      "runtime":{"driver":"sim","sim":{"cpu":"500m","memory":"64Mi"}}}}}})");
    j["spec"]["replicas"] = kReplicas;
    auto ok = c_.apply(j);
    ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  }
  // VMs in service (Running at their binding, Ready) per node.
  std::map<std::string, int> in_service() {
    std::map<std::string, int> out;
    for (const VM& vm : c_.vms()) {
      bool ready = false;
      for (const Condition& cond : vm.status.conditions)
        if (cond.type == "Ready") ready = cond.status == "True";
      if (ready && vm.status.phase == "Running" && vm.status.epoch == vm.spec.epoch &&
          vm.status.nodeName == vm.spec.nodeName)
        ++out[vm.spec.nodeName];
    }
    return out;
  }
  int moved_events() {
    int n = 0;
    auto list = c_.store().list("Event", {});
    if (list)
      for (const auto& r : list->items) {
        Json e = r->parse();
        if (e.value("reason", "") == "Moved") n += e.value("count", 1);
      }
    return n;
  }
  // The Pool's status shows these loads (Rᵢ) per node: the controller has
  // seen the VMs' load where they run now.
  bool pool_loads_are(const std::map<std::string, double>& want) {
    auto r = c_.store().get("Pool", "web");
    if (!r) return false;
    auto pool = from_json<Pool>((*r)->parse());
    if (!pool || pool->status.nodeLoads.size() != want.size()) return false;
    for (const NodeLoad& l : pool->status.nodeLoads) {
      auto it = want.find(l.name);
      if (it == want.end() || std::abs(it->second - l.load) > 0.02) return false;
    }
    return true;
  }
  // All six on h1 (h2 cordoned while they are placed), then h2 uncordoned.
  void skew_onto_h1(bool rebalance) {
    add_host("h1");
    add_host("h2");
    ASSERT_TRUE(c_.cordon("h2", true).ok());
    create_pool(rebalance);
    create_vmset();
    ASSERT_TRUE(c_.step_until([&] { return in_service()["h1"] == kReplicas; }, 30s));
    ASSERT_TRUE(c_.cordon("h2", false).ok());
  }

  SimCluster c_{options()};
};

// h1 at 0.75, h2 at 0: L = 0.375, both 0.375 out of a 0.2 band. Two moves of
// 0.125 bring them to 0.5 / 0.25 (±0.125): inside, and nothing moves after.
TEST_F(SimRebalance, SkewedLoadConvergesInsideTheBandWithoutFlapping) {
  skew_onto_h1(true);
  ASSERT_TRUE(c_.step_until(
      [&] {
        auto n = in_service();
        return n["h1"] == 4 && n["h2"] == 2 && c_.vms().size() == kReplicas;
      },
      60s));
  EXPECT_EQ(moved_events(), 2);
  const auto placed = in_service();
  ASSERT_TRUE(c_.step_until([&] { return pool_loads_are({{"h1", 0.5}, {"h2", 0.25}}); }, 60s));
  // Converged: well past hold + interval + cooldown, nothing moves.
  c_.step(60s);
  EXPECT_EQ(in_service(), placed);
  EXPECT_EQ(c_.vms().size(), static_cast<size_t>(kReplicas)) << "a move started";
  EXPECT_EQ(moved_events(), 2);
  EXPECT_TRUE(c_.errors().empty()) << join(c_.errors());
}

TEST_F(SimRebalance, DisabledRebalanceLeavesTheSkewAlone) {
  skew_onto_h1(false);
  ASSERT_TRUE(c_.step_until([&] { return pool_loads_are({{"h1", 0.75}, {"h2", 0.0}}); }, 60s));
  c_.step(60s);
  EXPECT_EQ(in_service()["h1"], kReplicas);
  EXPECT_EQ(c_.vms().size(), static_cast<size_t>(kReplicas)) << "a move started";
  EXPECT_EQ(moved_events(), 0);
}

// A node that joins a balanced pool takes load without anyone redeploying.
TEST_F(SimRebalance, ANewNodeReceivesLoad) {
  add_host("h1");
  add_host("h2");
  create_pool(true);
  create_vmset();
  ASSERT_TRUE(c_.step_until(
      [&] {
        auto n = in_service();
        return n["h1"] == 3 && n["h2"] == 3;
      },
      30s));
  // h1, h2 at 0.375 and h3 at 0: L = 0.25, h3 0.25 under: out of band.
  add_host("h3");
  ASSERT_TRUE(c_.step_until([&] { return in_service()["h3"] >= 1; }, 60s));
  ASSERT_TRUE(c_.step_until([&] { return c_.vms().size() == kReplicas; }, 60s));
}

}  // namespace sim_cluster_test
}  // namespace corral::testing
