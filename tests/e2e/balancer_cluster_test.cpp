// A Balancer in a real cluster: a controller (SQLite), three agents with the
// process driver running small HTTP servers as VMs, and corral-balancer
// following the Balancer through the API. Kills a host for real and counts
// the requests that fail between the kill and the controller's detection.
// How long detection or a drain takes is measured and printed, never asserted
// (timings belong to bench/lb_failover_bench); what is asserted is what
// happened to every request sent.
//
// Every VM process carries this test's marker, its node and its name in its
// argv, so "killing a host" is its agent and its VM processes together.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/balancer_process.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/http_backend.h"
#include "tests/support/python_http_vm.h"

namespace corral::testing {
namespace balancer_cluster_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous deadlines: a wait ends as soon as its condition holds.
constexpr auto kWait = 60s;
// A client request that has no answer after this long failed; it was not
// merely slow on a loaded machine.
constexpr int kRequestTimeoutMs = 30'000;

struct Sample {
  Clock::time_point at;  // when the answer (or the failure) came
  int status = 0;
  std::string node;  // which node's VM answered
};

// One client sending requests through the balancer back to back on a thread
// of its own, each outcome recorded, until stopped (or destroyed: an ASSERT
// that returns early still joins the thread).
class Traffic {
 public:
  explicit Traffic(std::string listen)
      : thread_([this, listen = std::move(listen)] {
          while (!stop_) {
            HttpResult r = http_get(listen, "/", "", kRequestTimeoutMs);
            Sample s{Clock::now(), r.status, ""};
            if (size_t sp = r.body.find(' '); sp != std::string::npos)
              s.node = r.body.substr(sp + 1, r.body.find('\n') - sp - 1);
            std::lock_guard lock(mu_);
            samples_.push_back(s);
          }
        }) {}
  ~Traffic() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<Sample> samples() const {
    std::lock_guard lock(mu_);
    return samples_;
  }
  // Requests that finished at or after `since`.
  int finished_since(Clock::time_point since) const {
    std::lock_guard lock(mu_);
    int n = 0;
    for (const Sample& s : samples_) n += s.at >= since;
    return n;
  }
  // Waits until `n` requests finished at or after `since`.
  bool wait_for_requests_since(Clock::time_point since, int n) {
    return wait_for([&] { return finished_since(since) >= n; }, kWait);
  }

 private:
  mutable std::mutex mu_;
  std::vector<Sample> samples_;  // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: started once the rest is built
};

class BalancerClusterTest : public ::testing::Test {
 protected:
  const std::vector<std::string> kNodes = {"node-a", "node-b", "node-c"};

  void SetUp() override {
    marker_ = "corral-lb-e2e-" + std::to_string(::getpid());
    controller_ = std::make_unique<Controller>(local_controller_options(dir_.path()));
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    for (const std::string& node : kNodes) {
      agents_[node] = std::make_unique<Agent>(local_agent_options(controller_->url(), dir_.path(), node));
      ASSERT_TRUE(agents_[node]->start(&error)) << error;
    }
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.timeout = 30s;
    api_ = std::make_unique<ApiClient>(cfg);
    for (const std::string& node : kNodes)
      ASSERT_TRUE(wait_for([&] { return node_phase(*api_, node) == "Ready"; }, kWait)) << node;

    for (ApiObject& o : python_http_service(marker_)) {
      // A moved VM's endpoint drains until the data plane reports it drained,
      // or drainSeconds (30 s by default) passed. An hour here: a drain that
      // ends at all ended by the data plane's report.
      if (o.plural == "balancers") o.body["spec"]["timeouts"]["drainSeconds"] = 3600;
      create(o.plural, std::move(o.body));
    }
    ASSERT_TRUE(balancer_.start({"--server", controller_->url(), "--balancer", "lb", "--threads", "1",
                                 "--instance", "e2e"},
                                &error))
        << error;
    listen_ = balancer_.listener("lb");
    ASSERT_FALSE(listen_.empty()) << balancer_.logs();
    ASSERT_TRUE(wait_for([&] { return healthy_endpoints() == 3; }, kWait))
        << "the Balancer never had 3 healthy endpoints:\n" << balancer_object().dump(2) << "\n"
        << balancer_.logs();
  }

  void TearDown() override {
    balancer_.kill_hard();
    for (auto& [node, agent] : agents_) agent->stop(5s);
    controller_->stop(5s);
    kill_processes_matching({marker_});
  }

  void create(const std::string& plural, Json body) {
    auto r = api_->call("POST", ApiClient::resource_path(plural), &body);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  Json balancer_object() {
    auto r = api_->call("GET", ApiClient::resource_path("balancers", "lb"));
    return r ? *r : Json::object();
  }
  std::vector<Json> endpoints() {
    std::vector<Json> out;
    Json b = balancer_object();
    for (const Json& e : b.value("status", Json::object()).value("endpoints", Json::array())) out.push_back(e);
    return out;
  }
  int healthy_endpoints() {
    int n = 0;
    for (const Json& e : endpoints()) n += e.value("health", "") == "Healthy";
    return n;
  }
  bool published_on(const std::string& node) {
    for (const Json& e : endpoints())
      if (e.value("node", "") == node) return true;
    return false;
  }

  TempDir dir_;
  std::string marker_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;
  BalancerProcess balancer_{balancer_binary()};
  std::string listen_;
};

TEST_F(BalancerClusterTest, KillingAHostMovesTrafficAndNothingFailsOnceDetected) {
  const std::string victim = "node-b";
  Traffic traffic(listen_);
  // Traffic flows to every node, the victim's included.
  ASSERT_TRUE(wait_for(
      [&] {
        std::set<std::string> answered;
        for (const Sample& s : traffic.samples())
          if (s.status == 200) answered.insert(s.node);
        return answered.size() == kNodes.size();
      },
      kWait))
      << "not every node's VM answered";
  const auto killed_at = Clock::now();
  agents_[victim]->kill_hard();
  int vms_killed = kill_processes_matching({marker_, " " + victim + " "});
  EXPECT_EQ(vms_killed, 1);
  // Detection: the controller took the dead host's endpoint out of the Balancer.
  bool detected = wait_for([&] { return !published_on(victim); }, kWait);
  const auto detected_at = Clock::now();
  ASSERT_TRUE(detected) << balancer_object().dump(2);
  // A fixed number of requests after detection, however long they take.
  constexpr int kAfter = 30;
  ASSERT_TRUE(traffic.wait_for_requests_since(detected_at, kAfter))
      << "only " << traffic.finished_since(detected_at) << " requests after detection";
  traffic.stop();

  int before = 0, failed_before = 0, after = 0, failed_after = 0, victim_after = 0;
  for (const Sample& s : traffic.samples()) {
    if (s.at < killed_at) continue;
    bool ok = s.status == 200;
    if (s.at < detected_at) {
      ++before;
      failed_before += !ok;
    } else {
      ++after;
      failed_after += !ok;
      victim_after += s.node == victim;
    }
  }
  double window = std::chrono::duration<double>(detected_at - killed_at).count();
  std::cout << "[ balancer ] kill -> detection " << window << " s: " << failed_before << " of " << before
            << " requests failed; after detection " << failed_after << " of " << after << " failed\n";
  RecordProperty("detection_seconds", std::to_string(window));
  RecordProperty("failed_before_detection", failed_before);
  RecordProperty("requests_before_detection", before);
  EXPECT_GE(after, kAfter);
  EXPECT_EQ(failed_after, 0);
  EXPECT_EQ(victim_after, 0);
  // Retries on connect failure hide the dead host even before detection;
  // only the one request in flight on it at the kill (one client, one
  // request at a time) can fail.
  EXPECT_LE(failed_before, 1);
}

TEST_F(BalancerClusterTest, DrainingAHostDrainsItsEndpointFirstAndNoRequestFails) {
  // A fourth node to move to (the set's anti-affinity keeps one replica per node).
  agents_["node-d"] = std::make_unique<Agent>(local_agent_options(controller_->url(), dir_.path(), "node-d"));
  std::string error;
  ASSERT_TRUE(agents_["node-d"]->start(&error)) << error;
  ASSERT_TRUE(wait_for([&] { return node_phase(*api_, "node-d") == "Ready"; }, kWait));

  Traffic traffic(listen_);
  ASSERT_TRUE(traffic.wait_for_requests_since(Clock::time_point{}, 10)) << "no traffic flows";
  CommandOptions env;
  env.env["CORRAL_SERVER"] = controller_->url();
  env.timeout = 150s;
  const auto started = Clock::now();
  // drainSeconds is an hour (SetUp): only the data plane's `drained` report
  // can end the drain wait within --timeout.
  CommandResult drain = run_command(corralctl_binary(), {"drain", "node-a", "--timeout", "120s"}, env);
  const auto drained_at = Clock::now();
  // Requests go on after the drain: still none may fail.
  constexpr int kAfter = 20;
  ASSERT_TRUE(traffic.wait_for_requests_since(drained_at, kAfter))
      << "only " << traffic.finished_since(drained_at) << " requests after the drain";
  traffic.stop();
  ASSERT_EQ(drain.exit_code, 0) << drain.out << drain.err << balancer_object().dump(2);

  int sent = 0, failed = 0, during = 0;
  for (const Sample& s : traffic.samples()) {
    ++sent;
    failed += s.status != 200;
    during += s.at >= started && s.at < drained_at;
  }
  double took = std::chrono::duration<double>(drained_at - started).count();
  std::cout << "[ balancer ] drain of node-a took " << took << " s; " << failed << " of " << sent
            << " requests failed (" << during << " during the drain)\n";
  EXPECT_EQ(failed, 0);
  // One client sends back to back: requests were in flight while it drained.
  EXPECT_GE(during, 1);
  EXPECT_TRUE(wait_for([&] { return !published_on("node-a"); }, kWait)) << balancer_object().dump(2);
  EXPECT_TRUE(wait_for([&] { return published_on("node-d"); }, kWait)) << balancer_object().dump(2);
  CommandResult events = run_command(corralctl_binary(), {"get", "events"}, env);
  EXPECT_NE(events.out.find("EndpointDraining"), std::string::npos) << events.out;
}

TEST_F(BalancerClusterTest, CorralctlShowsEndpointsHealthAndTheDataPlaneReport) {
  CommandOptions env;
  env.env["CORRAL_SERVER"] = controller_->url();
  CommandResult get = run_command(corralctl_binary(), {"get", "lb"}, env);
  ASSERT_EQ(get.exit_code, 0) << get.err;
  EXPECT_NE(get.out.find("lb"), std::string::npos);
  EXPECT_NE(get.out.find("3/3"), std::string::npos) << get.out;
  CommandResult describe = run_command(corralctl_binary(), {"describe", "lb", "lb"}, env);
  ASSERT_EQ(describe.exit_code, 0) << describe.err;
  for (const std::string& node : kNodes) EXPECT_NE(describe.out.find(node), std::string::npos) << describe.out;
  EXPECT_NE(describe.out.find("Healthy"), std::string::npos) << describe.out;
  Json b = balancer_object();
  EXPECT_EQ(b["status"].value("reportedBy", ""), "e2e");
  bool serving = false;
  for (const Json& c : b["status"].value("conditions", Json::array()))
    serving = serving || (c.value("type", "") == "Serving" && c.value("status", "") == "True");
  EXPECT_TRUE(serving) << b.dump(2);

  // A second data plane asked for a Balancer that does not exist serves the
  // one that does, and says what is missing on /healthz.
  EXPECT_EQ(http_get(balancer_.admin(), "/healthz").status, 200);
  BalancerProcess both{balancer_binary()};
  std::string error;
  ASSERT_TRUE(both.start({"--server", controller_->url(), "--balancer", "lb,ghost", "--threads", "1"}, &error))
      << error;
  EXPECT_FALSE(both.listener("lb").empty()) << both.logs();
  HttpResult health;
  EXPECT_TRUE(wait_for(
      [&] {
        health = http_get(both.admin(), "/healthz");
        return health.body.find("balancer ghost is not configured") != std::string::npos;
      },
      kWait))
      << health.status << " " << health.body;
  EXPECT_EQ(health.status, 503);
  both.kill_hard();
}

}  // namespace balancer_cluster_test
}  // namespace corral::testing
