// High availability end to end (issue 16): three real corral-controller
// processes on one etcd (one member, or a cluster of three), real agents with
// the sim driver that know all three controllers, a VMSet of 3 replicas over
// 4 nodes. Each test takes something away for real — the leader with a host,
// the leader's CPU (SIGSTOP past its lease), an etcd member, every controller
// — and checks what must survive: one leader, acknowledged writes, one copy
// of each VM, VMs left where they run.
//
// Waits are polls with deadlines, except where the test is about time
// passing (a frozen leader, a control plane away for 30 s). The measured
// take-over and fail-over times are printed ("[ha] ...") for the run log.
// Unlike other end-to-end tests, two timings are asserted as well: they are
// the contract of the design (ARCHITECTURE.md, "etcd and several
// controllers") rather than a benchmark — another controller leads within the
// lease TTL + 1 s of the leader's death, and a dead host's VMs run elsewhere
// within the new leader's startup grace + detection (30 s). Measured on 2
// cores with two CPU hogs: 2.5 s and 12.6 s.
#include <signal.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "client/client.h"
#include "controller/store/etcd/etcd_client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_process.h"
#include "tests/support/vm_view.h"

namespace corral::testing {
namespace ha_test {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

// Generous: a wait ends as soon as its condition holds.
constexpr auto kWait = 60s;
// The leader's lease TTL (leader_election.h: 2 s) and one second for a
// follower to see the key gone and win the campaign.
constexpr auto kTakeOverBound = 3s;
// A new leader gives every node its startup grace (10 s) from its election,
// then the node grace (2 s), the peers' probes and a scheduling pass.
constexpr auto kFailOverBound = 30s;
constexpr int kReplicas = 3;
const std::vector<std::string> kNodes = {"node-a", "node-b", "node-c", "node-d"};

double seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

std::string fixed(double v) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(2) << v;
  return out.str();
}

// What /version says under "controlPlane".
struct ControlPlaneView {
  bool answered = false;
  std::string self;
  bool leading = false;
  std::string leader;
  std::string leader_url;
  int64_t term = 0;
};

// corralctl YAML for the set, so that `apply` can change its replicas.
std::string vmset_yaml(int replicas) {
  return "apiVersion: corral/v1\nkind: VMSet\nmetadata:\n  name: app\nspec:\n  pool: web\n  "
         "replicas: " +
         std::to_string(replicas) +
         "\n  template:\n    spec:\n      resources: {cpu: 100m, memory: 32Mi}\n"
         "      runtime: {driver: sim}\n";
}

Json small_secret(const std::string& name) {
  return Json{{"apiVersion", "corral/v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"labels", {{"test", "ha"}}}}},
              {"stringData", {{"n", name}}}};
}

class HighAvailability : public ::testing::Test {
 protected:
  void TearDown() override {
    for (auto& [node, agent] : agents_) agent->stop(5s);
    for (auto& c : controllers_) {
      if (c->process()) c->process()->kill(SIGCONT);  // a frozen one cannot act on SIGTERM
      c->stop(5s);
    }
  }

  // ---- starting the cluster -------------------------------------------------------

  // etcd (`members` of them), three controllers on it, four agents, all Ready.
  void start_cluster(int members) {
    std::string error;
    std::vector<std::string> endpoints;
    if (members == 1) {
      etcd_ = std::make_unique<EtcdProcess>();
      ASSERT_TRUE(etcd_->start(&error)) << error;
      endpoints = {etcd_->endpoint()};
    } else {
      etcd_cluster_ = std::make_unique<EtcdCluster>(members);
      ASSERT_TRUE(etcd_cluster_->start(&error)) << error;
      // A follower of etcd's raft first: the controllers' clients (their
      // watches, their elections) start on it, so losing it makes every one
      // of them move to another member.
      etcd_first_ = etcd_cluster_->follower(kWait);
      ASSERT_GE(etcd_first_, 0);
      endpoints = etcd_cluster_->endpoints_from(etcd_first_);
    }
    std::string joined;
    for (const std::string& e : endpoints) joined += (joined.empty() ? "" : ",") + e;
    for (int i = 0; i < 3; ++i) {
      ControllerOptions o;
      o.binary = controller_binary();
      // No --data-dir: the state is in etcd (the agents' endpoint key too).
      o.extra_args = {"--store", "etcd",   "--etcd-endpoints",
                      joined,    "--name", "c" + std::to_string(i + 1)};
      controllers_.push_back(std::make_unique<Controller>(o));
      ASSERT_TRUE(controllers_.back()->start(&error)) << error;
    }
    for (const std::string& node : kNodes) {
      AgentOptions a = local_agent_options(servers(), dir_.path(), node);
      a.driver = "sim";
      a.labels = "zone=" + node;
      agents_[node] = std::make_unique<Agent>(a);
      ASSERT_TRUE(agents_[node]->start(&error)) << error;
    }
    api_ = client(servers());
    ASSERT_GE(wait_for_leader({}, kWait), 0) << all_logs();
    for (const std::string& node : kNodes)
      ASSERT_TRUE(wait_for([&] { return node_phase(*api_, node) == "Ready"; }, kWait))
          << node << " did not turn Ready\n"
          << all_logs();
  }

  // The pool and the set of kReplicas sim VMs, all Running (one per node: spread).
  void start_app() {
    Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"},
      "spec":{"placement":"spread"}})");
    auto p = api_->call("POST", ApiClient::resource_path("pools"), &pool);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","template":{"spec":{"resources":{"cpu":"100m","memory":"32Mi"},
      "runtime":{"driver":"sim"}}}}})");
    set["spec"]["replicas"] = kReplicas;
    auto s = api_->call("POST", ApiClient::resource_path("vmsets"), &set);
    ASSERT_TRUE(s.ok()) << s.error().to_string();
    ASSERT_TRUE(wait_for([&] { return all_running(kReplicas); }, kWait))
        << describe_vms() << all_logs();
  }

  // ---- reading the cluster ---------------------------------------------------------

  // The raft leader's member id as every member of etcd_cluster_ reports it
  // (0: a member did not answer, or they disagree); *ids: each member's id.
  uint64_t raft_leader(std::vector<uint64_t>* ids) {
    ids->assign(static_cast<size_t>(etcd_cluster_->size()), 0);
    std::set<uint64_t> leaders;
    for (int i = 0; i < etcd_cluster_->size(); ++i) {
      etcd::EtcdOptions o;
      o.endpoints = {etcd_cluster_->member(i).endpoint()};
      o.request_timeout = 1s;
      etcd::EtcdClient c(o);
      auto s = c.status();
      if (!s) return 0;
      (*ids)[static_cast<size_t>(i)] = s->member_id;
      leaders.insert(s->leader);
    }
    return leaders.size() == 1 ? *leaders.begin() : 0;
  }

  // Every controller's URL but `except`'s, comma-separated.
  std::string servers(const std::set<size_t>& except = {}) {
    std::string out;
    for (size_t i = 0; i < controllers_.size(); ++i)
      if (!except.count(i)) out += (out.empty() ? "" : ",") + controllers_[i]->url();
    return out;
  }

  static std::unique_ptr<ApiClient> client(const std::string& servers,
                                           std::chrono::milliseconds timeout = 10s) {
    ClientConfig cfg;
    cfg.server = servers;
    cfg.timeout = timeout;
    cfg.connect_timeout = std::min<std::chrono::milliseconds>(timeout, 1s);
    return std::make_unique<ApiClient>(cfg);
  }

  ControlPlaneView control_plane(size_t i) {
    ControlPlaneView v;
    // Short: a frozen controller answers nothing.
    auto api = client(controllers_[i]->url(), 500ms);
    auto r = api->call("GET", "/version");
    if (!r || !r->contains("controlPlane")) return v;
    const Json& cp = (*r)["controlPlane"];
    v.answered = true;
    v.self = cp.value("self", "");
    v.leading = cp.value("leading", false);
    v.leader = cp.value("leader", "");
    v.leader_url = cp.value("leaderURL", "");
    v.term = cp.value("term", int64_t{0});
    return v;
  }

  // The controller (not in `except`) whose /version says it leads, in a term
  // after `after_term`; -1 when none does by the deadline. Polls every 20 ms:
  // its result times a take-over.
  int wait_for_leader(const std::set<size_t>& except, std::chrono::milliseconds timeout,
                      int64_t after_term = 0, int64_t* term = nullptr) {
    auto deadline = SteadyClock::now() + timeout;
    do {
      for (size_t i = 0; i < controllers_.size(); ++i) {
        if (except.count(i)) continue;
        ControlPlaneView v = control_plane(i);
        if (v.leading && v.term > after_term) {
          if (term) *term = v.term;
          return static_cast<int>(i);
        }
      }
      std::this_thread::sleep_for(20ms);
    } while (SteadyClock::now() < deadline);
    return -1;
  }

  std::map<std::string, VmView> vms(ApiClient& api) { return list_vm_views(api); }
  std::map<std::string, VmView> vms() { return list_vm_views(*api_); }
  bool all_running(int replicas, const std::string& avoid_node = "") {
    return all_vms_running(vms(), replicas, avoid_node);
  }
  std::string describe_vms() { return describe_vm_views(vms()); }

  // The VMs an agent runs by its own account: its state file (name → epoch).
  std::map<std::string, int64_t> agent_vms(const std::string& node) {
    std::map<std::string, int64_t> out;
    const auto file = std::filesystem::path(agents_[node]->options().data_dir) / "agent-state.json";
    Json state = Json::parse(read_file(file.string()), nullptr, false);
    if (!state.is_object()) return out;
    const Json entries = state.value("vms", Json::object());
    for (const auto& [name, entry] : entries.items()) out[name] = entry.value("epoch", int64_t{0});
    return out;
  }

  // Every VM runs on exactly one live agent, the one of its node, at its
  // epoch, and no live agent runs a VM the API does not bind to it.
  bool one_copy_each(std::string* why) {
    std::map<std::string, std::vector<std::string>> holders;
    std::map<std::string, int64_t> held_epoch;
    for (const std::string& node : kNodes) {
      if (!agents_[node]->running()) continue;
      for (const auto& [name, epoch] : agent_vms(node)) {
        holders[name].push_back(node);
        held_epoch[name] = epoch;
      }
    }
    auto all = vms();
    std::string out;
    for (const auto& [name, nodes] : holders) {
      if (nodes.size() > 1) out += name + " runs on " + std::to_string(nodes.size()) + " nodes\n";
      auto v = all.find(name);
      if (v == all.end()) {
        out += name + " runs on " + nodes.front() + " but is not in the API\n";
      } else if (v->second.node != nodes.front() || v->second.epoch != held_epoch[name]) {
        out += name + " runs on " + nodes.front() + " at epoch " +
               std::to_string(held_epoch[name]) + ", bound to " + v->second.node + " at epoch " +
               std::to_string(v->second.epoch) + "\n";
      }
    }
    for (const auto& [name, v] : all)
      if (!holders.count(name)) out += name + " runs on no live agent (bound to " + v.node + ")\n";
    *why = out;
    return out.empty();
  }

  // Names of the test's Secrets as `api` lists them.
  std::set<std::string> secrets(ApiClient& api) {
    std::set<std::string> out;
    auto r = api.call("GET", ApiClient::resource_path("secrets") + "?labelSelector=test%3Dha");
    if (!r) return out;
    for (const Json& item : (*r)["items"]) out.insert(item["metadata"].value("name", ""));
    return out;
  }

  std::string all_logs() {
    std::string out;
    for (size_t i = 0; i < controllers_.size(); ++i) {
      std::string log = controllers_[i]->logs();
      out += "---- controller c" + std::to_string(i + 1) + " (last 6000 bytes)\n" +
             log.substr(log.size() > 6000 ? log.size() - 6000 : 0);
    }
    return out;
  }

  TempDir dir_;
  std::unique_ptr<EtcdProcess> etcd_;
  std::unique_ptr<EtcdCluster> etcd_cluster_;
  int etcd_first_ = -1;  // the member of etcd_cluster_ the controllers were given first
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::unique_ptr<ApiClient> api_;  // all three controllers
};

// Creates Secrets w-0, w-1, ... through every controller, one after another,
// from its own thread until stopped, and remembers which were acknowledged.
class Writer {
 public:
  explicit Writer(std::string servers) : servers_(std::move(servers)) {
    thread_ = std::thread([this] { run(); });
  }
  ~Writer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<std::string> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }
  std::string last_error() {
    std::lock_guard lock(mu_);
    return last_error_;
  }

 private:
  void run() {
    ClientConfig cfg;
    cfg.server = servers_;
    cfg.timeout = 10s;
    cfg.connect_timeout = 1s;
    ApiClient api(cfg);
    for (int i = 0; !stop_; ++i) {
      const std::string name = "w-" + std::to_string(i);
      Json body = small_secret(name);
      auto r = api.call("POST", ApiClient::resource_path("secrets"), &body);
      {
        std::lock_guard lock(mu_);
        if (r) {
          acked_.insert(name);
        } else {
          // May or may not have landed (the controller died mid-request):
          // not acknowledged, so not checked.
          ++failed_;
          last_error_ = r.error().to_string();
        }
      }
      std::this_thread::sleep_for(10ms);  // a steady stream, not a flood on two cores
    }
  }

  const std::string servers_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::set<std::string> acked_;  // guarded by mu_
  int failed_ = 0;               // guarded by mu_
  std::string last_error_;       // guarded by mu_
  std::thread thread_;
};

}  // namespace ha_test

using ha_test::HighAvailability;
using ha_test::kFailOverBound;
using ha_test::kNodes;
using ha_test::kReplicas;
using ha_test::kTakeOverBound;
using ha_test::kWait;
using ha_test::SteadyClock;
using namespace std::chrono_literals;

TEST_F(HighAvailability, KillNineTheLeaderAndAHostTogether) {
  ASSERT_NO_FATAL_FAILURE(start_cluster(1));
  ASSERT_NO_FATAL_FAILURE(start_app());
  int64_t old_term = 0;
  const int leader = wait_for_leader({}, kWait, 0, &old_term);
  ASSERT_GE(leader, 0) << all_logs();
  const auto before = vms();
  const std::string victim = before.begin()->second.node;
  std::set<std::string> moving;
  for (const auto& [name, v] : before)
    if (v.node == victim) moving.insert(name);

  ha_test::Writer writer(servers());
  ASSERT_TRUE(wait_for([&] { return writer.acked().size() >= 20; }, kWait)) << writer.last_error();

  // The same moment: both signals first, then reap.
  ASSERT_TRUE(controllers_[leader]->process()->kill(SIGKILL));
  ASSERT_TRUE(agents_[victim]->signal(SIGKILL));
  const auto killed_at = SteadyClock::now();
  controllers_[leader]->kill_hard();
  agents_[victim]->kill_hard();
  const std::set<size_t> dead = {static_cast<size_t>(leader)};

  int64_t new_term = 0;
  const int next = wait_for_leader(dead, kWait, old_term, &new_term);
  const auto take_over = SteadyClock::now() - killed_at;
  ASSERT_GE(next, 0) << all_logs();
  std::cout << "[ha] kill -9 of leader c" << leader + 1 << ": c" << next + 1 << " leads (term "
            << new_term << ") after " << ha_test::fixed(ha_test::seconds(take_over)) << " s"
            << std::endl;
  EXPECT_LE(take_over, kTakeOverBound) << "take-over took " << ha_test::seconds(take_over) << " s";

  // Reads through the survivors from now on.
  api_ = client(servers(dead));
  const bool failed_over = wait_for([&] { return all_running(kReplicas, victim); }, kWait);
  const auto fail_over = SteadyClock::now() - killed_at;
  ASSERT_TRUE(failed_over) << describe_vms() << all_logs();
  std::cout << "[ha] " << victim << "'s VM(s) re-placed and Running "
            << ha_test::fixed(ha_test::seconds(fail_over)) << " s after the kill" << std::endl;
  EXPECT_LE(fail_over, kFailOverBound);

  writer.stop();
  const std::set<std::string> acked = writer.acked();
  std::cout << "[ha] writer: " << acked.size() << " creates acknowledged, " << writer.failed()
            << " failed (last: " << writer.last_error() << ")" << std::endl;
  // Every acknowledged create, through each survivor (its cache may trail
  // the other's by a moment).
  for (size_t i = 0; i < controllers_.size(); ++i) {
    if (dead.count(i)) continue;
    auto api = client(controllers_[i]->url());
    std::set<std::string> missing;
    wait_for(
        [&] {
          const std::set<std::string> stored = secrets(*api);
          missing.clear();
          for (const std::string& name : acked)
            if (!stored.count(name)) missing.insert(name);
          return missing.empty();
        },
        10s);
    EXPECT_TRUE(missing.empty()) << missing.size() << " acknowledged creates missing on c" << i + 1
                                 << ", e.g. " << *missing.begin();
  }

  // Where everything is now: the host's VMs moved on (next epoch), the
  // others stayed; every VM runs once, on its node.
  const auto after = vms();
  ASSERT_EQ(after.size(), before.size()) << describe_vms();
  for (const auto& [name, v] : after) {
    ASSERT_TRUE(before.count(name)) << name << " is new: " << describe_vms();
    if (moving.count(name)) {
      EXPECT_NE(v.node, victim) << name;
      EXPECT_EQ(v.epoch, before.at(name).epoch + 1) << name << " was re-placed: its epoch moves on";
    } else {
      EXPECT_EQ(v.node, before.at(name).node) << name << " on a live node stays where it is";
      EXPECT_EQ(v.epoch, before.at(name).epoch) << name;
    }
  }
  EXPECT_EQ(node_phase(*api_, victim), "NotReady");
  std::string why;
  EXPECT_TRUE(wait_for([&] { return one_copy_each(&why); }, 10s)) << why << describe_vms();
}

TEST_F(HighAvailability, SigstopTheLeaderPastItsLease) {
  ASSERT_NO_FATAL_FAILURE(start_cluster(1));
  ASSERT_NO_FATAL_FAILURE(start_app());
  int64_t old_term = 0;
  const int leader = wait_for_leader({}, kWait, 0, &old_term);
  ASSERT_GE(leader, 0) << all_logs();
  Controller& frozen = *controllers_[leader];
  const std::set<size_t> stopped = {static_cast<size_t>(leader)};
  api_ = client(servers(stopped));
  const auto before = vms();
  ASSERT_EQ(before.size(), static_cast<size_t>(kReplicas));
  const double lost_before = scrape_metric(frozen.url(), "corral_vms_lost_total").value_or(-1);

  ASSERT_TRUE(frozen.process()->kill(SIGSTOP));
  const auto stopped_at = SteadyClock::now();
  int64_t new_term = 0;
  const int next = wait_for_leader(stopped, 4500ms, old_term, &new_term);
  const auto take_over = SteadyClock::now() - stopped_at;
  ASSERT_GE(next, 0) << "nobody took over from the frozen leader\n" << all_logs();
  std::cout << "[ha] SIGSTOP of leader c" << leader + 1 << ": c" << next + 1 << " leads (term "
            << new_term << ") after " << ha_test::fixed(ha_test::seconds(take_over)) << " s"
            << std::endl;
  EXPECT_LE(take_over, kTakeOverBound);

  // The freeze: 5 s, past the 2 s lease (this test is about time passing).
  std::this_thread::sleep_until(stopped_at + 5s);
  const size_t log_before_wake = frozen.logs().size();
  ASSERT_TRUE(frozen.process()->kill(SIGCONT));
  const auto woken_at = SteadyClock::now();
  // It wakes believing it leads, with every lease in its table 5 s old: three
  // seconds for whatever it would do about that.
  std::this_thread::sleep_until(woken_at + 3s);

  ha_test::ControlPlaneView woken = control_plane(static_cast<size_t>(leader));
  ASSERT_TRUE(woken.answered) << frozen.logs();
  EXPECT_FALSE(woken.leading) << "the woken controller still says it leads";
  EXPECT_EQ(woken.leader, "c" + std::to_string(next + 1));
  EXPECT_EQ(woken.term, new_term);
  EXPECT_EQ(scrape_metric(frozen.url(), "corral_controller_leading"), 0.0);
  ha_test::ControlPlaneView current = control_plane(static_cast<size_t>(next));
  EXPECT_TRUE(current.leading && current.term == new_term) << "the new leader lost its lead";

  // Nothing moved, nothing was placed twice, and no VM object was written
  // (every node was alive throughout: nobody had a reason to).
  const auto after = vms();
  ASSERT_EQ(after.size(), static_cast<size_t>(kReplicas)) << describe_vms();
  for (const auto& [name, v] : after) {
    ASSERT_TRUE(before.count(name)) << name << " is new: " << describe_vms();
    EXPECT_EQ(v.node, before.at(name).node) << name;
    EXPECT_EQ(v.epoch, before.at(name).epoch) << name;
    EXPECT_EQ(v.resource_version, before.at(name).resource_version) << name << " was written";
    EXPECT_TRUE(v.running()) << describe_vms();
  }
  for (const std::string& node : kNodes) EXPECT_EQ(node_phase(*api_, node), "Ready") << node;
  std::string why;
  EXPECT_TRUE(one_copy_each(&why)) << why;
  // Its own account: it marked no VM Lost (a fenced write counts none).
  EXPECT_EQ(scrape_metric(frozen.url(), "corral_vms_lost_total").value_or(-2), lost_before);
  const std::string woke_log = frozen.logs().substr(log_before_wake);
  std::cout << "[ha] the woken controller's log after SIGCONT (at most 4000 bytes):\n"
            << woke_log.substr(0, 4000) << std::endl;
}

TEST_F(HighAvailability, KillOneEtcdMemberOfThree) {
  ASSERT_NO_FATAL_FAILURE(start_cluster(3));
  ASSERT_NO_FATAL_FAILURE(start_app());

  // A follower of etcd's raft: the controllers' first endpoint if it still
  // is one (start_cluster chose it so), else the other follower.
  std::vector<uint64_t> ids;
  uint64_t raft = 0;
  ASSERT_TRUE(wait_for([&] { return (raft = raft_leader(&ids)) != 0; }, kWait));
  int victim = ids[static_cast<size_t>(etcd_first_)] != raft ? etcd_first_ : -1;
  for (int i = 0; i < 3 && victim < 0; ++i)
    if (ids[static_cast<size_t>(i)] != raft) victim = i;
  ASSERT_GE(victim, 0);
  std::cout << "[ha] etcd: killing member m" << victim << " (a follower"
            << (victim == etcd_first_ ? ", every controller's first endpoint" : "") << ")"
            << std::endl;
  int64_t term = 0;
  const int leader = wait_for_leader({}, kWait, 0, &term);
  ASSERT_GE(leader, 0) << all_logs();
  ASSERT_TRUE(etcd_cluster_->member(victim).kill());

  // The API takes writes, through corralctl and any controller.
  auto ctl = [&](std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.begin(), {"--server", servers()});
    CommandOptions o;
    o.stdin_text = stdin_text;
    return run_command(corralctl_binary(), args, o);
  };
  std::string secrets_yaml;
  for (int i = 0; i < 5; ++i)
    secrets_yaml += "---\napiVersion: corral/v1\nkind: Secret\nmetadata:\n  name: s-" +
                    std::to_string(i) + "\n  labels: {test: ha}\nstringData: {n: \"" +
                    std::to_string(i) + "\"}\n";
  const auto wrote_at = SteadyClock::now();
  CommandResult r = ctl({"apply", "-f", "-"}, secrets_yaml);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << all_logs();
  std::cout << "[ha] 5 creates through corralctl with one etcd member down: "
            << ha_test::fixed(ha_test::seconds(SteadyClock::now() - wrote_at)) << " s" << std::endl;
  // Every controller's cache saw them: its watch moved on to a live member.
  for (size_t i = 0; i < controllers_.size(); ++i) {
    auto api = client(controllers_[i]->url());
    EXPECT_TRUE(wait_for([&] { return secrets(*api).size() == 5; }, 10s))
        << "c" << i + 1 << " lists " << secrets(*api).size() << " of the 5 Secrets\n"
        << controllers_[i]->logs();
  }

  // The loops run: a fourth replica is created, placed and started.
  const auto scaled_at = SteadyClock::now();
  r = ctl({"apply", "-f", "-"}, ha_test::vmset_yaml(kReplicas + 1));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  ASSERT_TRUE(wait_for([&] { return all_running(kReplicas + 1); }, kWait))
      << describe_vms() << all_logs();
  std::cout << "[ha] scaled 3 -> 4 with one etcd member down: the new VM Running after "
            << ha_test::fixed(ha_test::seconds(SteadyClock::now() - scaled_at)) << " s"
            << std::endl;
  std::string why;
  EXPECT_TRUE(wait_for([&] { return one_copy_each(&why); }, 10s)) << why;
  // The controllers' leader kept its lease through it: an etcd follower's
  // loss is no reason for a new term (and a new startup grace).
  ha_test::ControlPlaneView still = control_plane(static_cast<size_t>(leader));
  EXPECT_TRUE(still.leading && still.term == term)
      << "c" << leader + 1 << " led term " << term << "; now leading=" << still.leading << " term "
      << still.term << "\n"
      << all_logs();

  // Back: the member rejoins, catches up with what was written without it,
  // and serves.
  std::string error;
  auto& member = etcd_cluster_->member(victim);
  ASSERT_TRUE(member.restart(&error)) << error;
  ASSERT_TRUE(member.wait_ready(SteadyClock::now() + kWait, &error)) << error;
  etcd::EtcdOptions others;
  for (int i = 0; i < 3; ++i)
    if (i != victim) others.endpoints.push_back(etcd_cluster_->member(i).endpoint());
  auto head = etcd::EtcdClient(others).status();
  ASSERT_TRUE(head.ok()) << head.error().to_string();
  etcd::EtcdOptions only;
  only.endpoints = {member.endpoint()};
  etcd::EtcdClient rejoined(only);
  int64_t revision = 0;
  EXPECT_TRUE(wait_for(
      [&] {
        auto s = rejoined.status();
        revision = s ? s->revision : 0;
        return s && s->leader != 0 && s->revision >= head->revision;
      },
      kWait))
      << "m" << victim << " at revision " << revision << ", the cluster at " << head->revision;
  // And the cluster still takes writes (the rejoined member votes again).
  r = ctl({"apply", "-f", "-"}, ha_test::vmset_yaml(kReplicas));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(wait_for([&] { return all_running(kReplicas); }, kWait)) << describe_vms();
}

TEST_F(HighAvailability, AllControllersDownThirtySeconds) {
  ASSERT_NO_FATAL_FAILURE(start_cluster(1));
  ASSERT_NO_FATAL_FAILURE(start_app());
  const auto before = vms();
  std::map<std::string, int> per_node;
  for (const auto& [name, v] : before) ++per_node[v.node];

  for (auto& c : controllers_) c->process()->kill(SIGKILL);
  for (auto& c : controllers_) c->kill_hard();
  // The outage itself: its length is what this test is about.
  std::this_thread::sleep_for(30s);

  // Every agent lived through it and still runs its VMs: its own gauge and
  // its state file say so.
  for (const std::string& node : kNodes) {
    ASSERT_TRUE(agents_[node]->running()) << node << " exited\n" << agents_[node]->logs();
    EXPECT_EQ(scrape_metric(agents_[node]->url(), "corral_agent_vms_running"),
              static_cast<double>(per_node[node]))
        << node;
    std::map<std::string, int64_t> expected;
    for (const auto& [name, v] : before)
      if (v.node == node) expected[name] = v.epoch;
    EXPECT_EQ(agent_vms(node), expected) << node;
  }

  std::string error;
  const auto restarted_at = SteadyClock::now();
  for (auto& c : controllers_) ASSERT_TRUE(c->start(&error)) << error;
  const int leader = wait_for_leader({}, kWait);
  ASSERT_GE(leader, 0) << all_logs();
  std::cout << "[ha] after 30 s without controllers: c" << leader + 1 << " leads "
            << ha_test::fixed(ha_test::seconds(SteadyClock::now() - restarted_at))
            << " s after the restarts began" << std::endl;
  // A full startup grace (10 s) and more for the new leader to judge the
  // nodes: nothing may come of it.
  std::this_thread::sleep_for(15s);

  const auto after = vms();
  ASSERT_EQ(after.size(), before.size()) << describe_vms();
  for (const auto& [name, v] : after) {
    ASSERT_TRUE(before.count(name)) << name << " is new: " << describe_vms();
    EXPECT_EQ(v.node, before.at(name).node) << name;
    EXPECT_EQ(v.epoch, before.at(name).epoch) << name;
    EXPECT_EQ(v.phase, "Running") << name;
    EXPECT_TRUE(v.running()) << describe_vms();
  }
  for (const std::string& node : kNodes) EXPECT_EQ(node_phase(*api_, node), "Ready") << node;
  EXPECT_EQ(scrape_metric(controllers_[leader]->url(), "corral_vms_lost_total"), 0.0) << all_logs();
  std::string why;
  EXPECT_TRUE(one_copy_each(&why)) << why;
}

}  // namespace corral::testing
