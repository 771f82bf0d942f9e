// Scale-down that keeps the spread, end to end: a real controller, three real
// agents in zones a, b and c (sim driver), a VMSet spread over zones scaled
// 5 → 3 through the API. One replica per zone must remain, and the Events
// (placements, creates, deletes) must be listed by `corralctl get events`
// oldest first. Waits on conditions only; asserts no timings.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"

namespace corral::testing {
namespace spread_test {

using namespace std::chrono_literals;

constexpr auto kWait = 60s;

class SpreadE2E : public ::testing::Test {
 protected:
  const std::map<std::string, std::string> kZoneOf = {
      {"node-a", "a"}, {"node-b", "b"}, {"node-c", "c"}};

  void SetUp() override {
    controller_ = std::make_unique<Controller>(local_controller_options(dir_.path()));
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    for (const auto& [node, zone] : kZoneOf) {
      AgentOptions a = local_agent_options(controller_->url(), dir_.path(), node);
      a.driver = "sim";
      a.extra_args = {"--zone", zone};  // the label topology.corral.io/zone
      agents_[node] = std::make_unique<Agent>(a);
      ASSERT_TRUE(agents_[node]->start(&error)) << error;
    }
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.timeout = 30s;
    api_ = std::make_unique<ApiClient>(cfg);
    for (const auto& entry : kZoneOf) {
      const std::string& node = entry.first;  // a lambda cannot capture a structured binding (clang 14)
      ASSERT_TRUE(wait_for([&] { return node_phase(*api_, node) == "Ready"; }, kWait))
          << node << " did not turn Ready\n"
          << controller_->logs();
      // The well-known labels every agent sets (api/node_labels.h).
      auto n = api_->call("GET", ApiClient::resource_path("nodes", node));
      ASSERT_TRUE(n.ok());
      EXPECT_EQ((*n)["metadata"]["labels"].value("corral.io/hostname", ""), node);
      EXPECT_EQ((*n)["metadata"]["labels"].value("topology.corral.io/zone", ""), kZoneOf.at(node));
    }
  }

  void TearDown() override {
    for (auto& [node, agent] : agents_) agent->stop(5s);
    controller_->stop(5s);
  }

  // Replica count per zone of the set's VMs that are not on their way out,
  // and whether all of them run.
  std::map<std::string, int> zones(bool* all_running = nullptr) {
    std::map<std::string, int> out;
    if (all_running) *all_running = true;
    auto r = api_->call("GET", ApiClient::resource_path("vms"));
    if (!r) return {{"error", -1}};
    for (const Json& item : (*r)["items"]) {
      const Json status = item.value("status", Json::object());
      const std::string phase = status.value("phase", "");
      if (phase == "Terminating") continue;
      const std::string node = item["spec"].value("nodeName", "");
      auto zone = kZoneOf.find(node);
      ++out[zone == kZoneOf.end() ? "unbound" : zone->second];
      if (all_running && phase != "Running") *all_running = false;
    }
    return out;
  }
  std::string describe() {
    std::string out;
    for (const auto& [zone, n] : zones()) out += zone + "=" + std::to_string(n) + " ";
    return out + "\n" + controller_->logs();
  }
  CommandResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", controller_->url()});
    return run_command(corralctl_binary(), args);
  }

  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;
};

TEST_F(SpreadE2E, ScaleFiveToThreeKeepsOneReplicaPerZoneAndTellsWhatItDid) {
  Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
    "spec":{"placement":"spread"}})");
  ASSERT_TRUE(api_->call("POST", ApiClient::resource_path("pools"), &pool).ok());
  Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
    "spec":{"pool":"web","replicas":5,"spread":{"topologyKey":"topology.kubernetes.io/zone","maxSkew":1},
    "template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},"runtime":{"driver":"sim"}}}}})");
  // Kubernetes' zone label, as a user from Kubernetes writes it: stored as
  // Corral's, which the agents' --zone set.
  auto created = api_->call("POST", ApiClient::resource_path("vmsets"), &set);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ((*created)["spec"]["spread"]["topologyKey"], "topology.corral.io/zone");

  bool running = false;
  ASSERT_TRUE(wait_for(
      [&] {
        auto z = zones(&running);
        return running && z.size() == 3 && z["a"] + z["b"] + z["c"] == 5;
      },
      kWait))
      << describe();

  // Scale down through the API, as `corralctl apply` would.
  ASSERT_TRUE(wait_for(
      [&] {
        auto current = api_->call("GET", ApiClient::resource_path("vmsets", "app"));
        if (!current) return false;
        Json next = *current;
        next["spec"]["replicas"] = 3;
        return api_->call("PUT", ApiClient::resource_path("vmsets", "app"), &next).ok();
      },
      kWait));
  const std::map<std::string, int> one_each = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_TRUE(wait_for([&] { return zones() == one_each; }, kWait)) << describe();

  // The SpreadSatisfied condition says it holds.
  EXPECT_TRUE(wait_for(
      [&] {
        auto s = api_->call("GET", ApiClient::resource_path("vmsets", "app"));
        if (!s) return false;
        for (const Json& c : (*s)["status"].value("conditions", Json::array()))
          if (c.value("type", "") == "SpreadSatisfied") return c.value("status", "") == "True";
        return false;
      },
      kWait))
      << describe();

  // The timeline: 5 creates and 5 placements, then 2 deletes, oldest first.
  CommandResult r;
  EXPECT_TRUE(wait_for(
      [&] {
        r = ctl({"get", "events"});
        return r.exit_code == 0 && r.out.find("SuccessfulDelete") != std::string::npos;
      },
      kWait))
      << r.out << r.err;
  const size_t first_create = r.out.find("SuccessfulCreate");
  const size_t first_scheduled = r.out.find("Scheduled");
  const size_t first_delete = r.out.find("SuccessfulDelete");
  ASSERT_NE(first_create, std::string::npos) << r.out;
  ASSERT_NE(first_scheduled, std::string::npos) << r.out;
  EXPECT_LT(first_create, first_delete) << r.out;
  EXPECT_LT(first_scheduled, first_delete) << r.out;
  EXPECT_NE(r.out.find("Successfully assigned vm/app-"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Deleted vm: app-"), std::string::npos) << r.out;
}

}  // namespace spread_test
}  // namespace corral::testing
