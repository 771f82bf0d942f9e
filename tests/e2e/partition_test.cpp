// Split-brain protection end to end: a real controller, two real agents with
// the process driver, and one VM of a VMSet with `fencing: selfFence`. The
// test partitions the agent that runs it — its process keeps running, it just
// cannot reach the controller, nor the controller or its peer it — and checks
// that at no sampled instant do two copies of the VM run, that the controller
// re-places it after grace + fence time, and that once the partition heals
// the old node runs nothing and exactly one copy runs.
//
// Two ways to cut:
//   Netns  each agent runs in a network namespace of its own (ip netns exec),
//          joined to the default namespace by a veth pair; the controller
//          listens on an address of a veth pair the test creates in the
//          default namespace. The cut: `ip link set <host side> down`.
//          Needs root and `ip netns add`; skipped (GTEST_SKIP) otherwise.
//   Proxy  every agent reaches the controller through a TcpProxy, and
//          advertises a second TcpProxy in front of its own endpoint
//          (--advertise-address), through which the controller nudges it and
//          peers probe it; the cut closes both. Always runs.
//
// Two ways to disable the cut-off agent as well (proxy): kill -9 and SIGSTOP.
// Then only its fence watchdog, a process of its own, can stop the copy; the
// same samples must never see two copies, and the watchdog's log must say it
// fenced.
//
// The VM processes carry a marker in argv (this run, node, VM name); /proc is
// sampled every 50 ms on a thread of its own while the partition lasts.
// Nothing waits a fixed time: every step waits (with a generous deadline) for
// the state it needs, and the durations are printed, never asserted.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"
#include "tests/support/e2e_util.h"
#include "tests/support/tcp_proxy.h"

namespace corral::testing {
namespace partition_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous deadlines: a wait ends as soon as its condition holds.
constexpr auto kWait = 60s;

std::string ip_binary() {
  for (const char* path : {"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"})
    if (::access(path, X_OK) == 0) return path;
  return "";
}

bool pid_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

// Samples the marked processes every 50 ms (the pause is the sampling
// period, not a wait for anything): the most copies seen at once, and the
// sequence of distinct states seen — which nodes ran a copy, "" for none.
class CopySampler {
 public:
  CopySampler(std::string marker, std::string vm) : marker_(std::move(marker)), vm_(std::move(vm)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        sample();
        std::this_thread::sleep_for(50ms);
      }
    });
  }
  ~CopySampler() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int max_copies() const { return max_; }
  int samples() const { return samples_; }
  std::string worst() {
    std::lock_guard lock(mu_);
    return worst_;
  }
  // Each state differs from the one before, e.g. {"node-a", "", "node-b"}.
  std::vector<std::string> history() {
    std::lock_guard lock(mu_);
    return history_;
  }

 private:
  void sample() {
    int copies = 0;
    std::string seen;
    std::set<std::string> nodes;
    for (const auto& [pid, cmd] : process_table()) {
      if (cmd.find(marker_) == std::string::npos || cmd.find(" " + vm_ + " ") == std::string::npos)
        continue;
      ++copies;
      seen += std::to_string(pid) + ": " + cmd + "\n";
      // argv: ... marker NODE VM end
      size_t at = cmd.find(marker_) + marker_.size() + 1;
      nodes.insert(cmd.substr(at, cmd.find(' ', at) - at));
    }
    std::string state;
    for (const std::string& n : nodes) state += (state.empty() ? "" : "+") + n;
    ++samples_;
    std::lock_guard lock(mu_);
    if (history_.empty() || history_.back() != state) history_.push_back(state);
    if (copies > max_) {
      max_ = copies;
      worst_ = seen;
    }
  }

  const std::string marker_, vm_;
  std::atomic<bool> stop_{false};
  std::atomic<int> max_{0};
  std::atomic<int> samples_{0};
  std::mutex mu_;
  std::string worst_;  // guarded by mu_: the processes of the sample with the most copies
  std::vector<std::string> history_;  // guarded by mu_
  std::thread thread_;
};

class PartitionTest : public ::testing::Test {
 protected:
  const std::vector<std::string> kNodes = {"node-a", "node-b"};
  // Agents stop their selfFence VMs within 1 s (--stop-grace, one budget for
  // all) and the controller is told so: its fence wait is 1 s + 1 s notice
  // latency + 1 s margin = 3 s.
  static constexpr const char* kStopGrace = "1s";
  static constexpr const char* kFenceStopTimeout = "1s";

  void SetUp() override {
    id_ = std::to_string(::getpid());
    marker_ =
        "corral-e2e-" + id_ + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }

  void TearDown() override {
    for (auto& [node, agent] : agents_) agent->stop(5s);
    if (controller_) controller_->stop(5s);
    kill_marked();
    proxies_.clear();
    if (!ip_.empty()) delete_network(/*all_of_this_run=*/true);
  }

  // ---- the network namespaces ---------------------------------------------------

  // `ip args...`; false with the output in `error` when it fails.
  bool ip(const std::vector<std::string>& args, std::string* error = nullptr) {
    CommandResult r = run_command(ip_binary(), args, CommandOptions{{}, "", 10s});
    if (r.exit_code == 0) return true;
    if (error) {
      *error = "ip";
      for (const auto& a : args) *error += " " + a;
      *error += ": " + r.err + r.out;
    }
    return false;
  }
  std::string ns_name(size_t i) const { return "corral-pt-" + id_ + "-" + std::to_string(i); }
  // Interface names are at most 15 characters: "cpt<pid><suffix>".
  std::string link_name(const std::string& suffix) const { return "cpt" + id_ + suffix; }
  std::string subnet(size_t k) const { return "10.213." + std::to_string(base_ + k) + "."; }
  std::string controller_ip() const { return subnet(0) + "1"; }
  std::string host_ip(size_t i) const { return subnet(1 + i) + "1"; }
  std::string agent_ip(size_t i) const { return subnet(1 + i) + "2"; }

  // Deletes this run's namespaces and links, and leftovers of earlier runs
  // (names with the test's prefix whose pid is gone).
  void delete_network(bool all_of_this_run) {
    auto stale = [&](const std::string& name, const std::string& prefix) {
      if (name.rfind(prefix, 0) != 0) return false;
      const int pid = atoi(name.c_str() + prefix.size());
      if (pid <= 0) return false;  // not a name this test makes
      return (all_of_this_run && std::to_string(pid) == id_) || !pid_alive(pid);
    };
    CommandResult ns = run_command(ip_binary(), {"netns", "list"});
    std::istringstream ns_lines(ns.out);
    for (std::string line; std::getline(ns_lines, line);) {
      std::string name = line.substr(0, line.find(' '));
      if (stale(name, "corral-pt-")) ip({"netns", "del", name});
    }
    CommandResult links = run_command(ip_binary(), {"-o", "link", "show"});
    std::istringstream link_lines(links.out);
    for (std::string line; std::getline(link_lines, line);) {
      // "7: cpt1234c@cpt1234d: <...>"
      size_t start = line.find(": ");
      if (start == std::string::npos) continue;
      std::string name = line.substr(start + 2);
      name = name.substr(0, name.find_first_of("@:"));
      if (stale(name, "cpt")) ip({"link", "del", name});
    }
  }

  // Creates one namespace per agent, a veth pair to each, and a veth pair in
  // the default namespace that carries the controller's address. Skips the
  // test where namespaces cannot be made.
  void create_network() {
    ip_ = ip_binary();
    if (ip_.empty()) GTEST_SKIP() << "no `ip` binary: cannot create network namespaces";
    if (::geteuid() != 0) GTEST_SKIP() << "not root: cannot create network namespaces";
    delete_network(/*all_of_this_run=*/false);
    base_ = static_cast<int>(::getpid() % 60) * 4;
    std::string error;
    if (!ip({"netns", "add", ns_name(0)}, &error))
      GTEST_SKIP() << "this machine cannot create network namespaces: " << error;
    // Entering one needs a mount namespace of our own (`ip -n` remounts / as a
    // slave), which a chroot, for one, does not allow.
    if (!ip({"-n", ns_name(0), "link", "set", "lo", "up"}, &error))
      GTEST_SKIP() << "this machine cannot enter network namespaces: " << error;
    const std::vector<std::vector<std::string>> steps = {
        {"link", "add", link_name("c"), "type", "veth", "peer", "name", link_name("d")},
        {"addr", "add", controller_ip() + "/32", "dev", link_name("c")},
        {"link", "set", link_name("c"), "up"},
        {"link", "set", link_name("d"), "up"},
    };
    for (const auto& step : steps) ASSERT_TRUE(ip(step, &error)) << error;
    for (size_t i = 0; i < kNodes.size(); ++i) {
      const std::string ns = ns_name(i), host = link_name("a" + std::to_string(i)),
                        inner = link_name("n" + std::to_string(i));
      const std::vector<std::vector<std::string>> agent_steps = {
          {"netns", "add", ns},
          {"link", "add", host, "type", "veth", "peer", "name", inner},
          {"link", "set", inner, "netns", ns},
          {"addr", "add", host_ip(i) + "/30", "dev", host},
          {"link", "set", host, "up"},
          {"-n", ns, "addr", "add", agent_ip(i) + "/30", "dev", inner},
          {"-n", ns, "link", "set", inner, "up"},
          {"-n", ns, "link", "set", "lo", "up"},
          {"-n", ns, "route", "add", controller_ip() + "/32", "via", host_ip(i)},
      };
      for (const auto& step : agent_steps) {
        if (i == 0 && step[0] == "netns") continue;  // made above, as the probe
        ASSERT_TRUE(ip(step, &error)) << error;
      }
    }
  }

  // ---- the cluster ----------------------------------------------------------------

  void start_netns_cluster() {
    create_network();
    if (IsSkipped() || HasFatalFailure()) return;
    std::string tokens = "admin-token,admin,admin\n";
    for (const std::string& node : kNodes)
      tokens += node + "-token," + node + ",node:" + node + "\n";
    const std::string tokens_file = dir_.file("tokens");
    std::ofstream(tokens_file) << tokens;
    ControllerOptions o;
    o.binary = controller_binary();
    o.data_dir = (dir_.path() / "controller").string();
    o.tokens_file = tokens_file;
    o.listen = controller_ip() + ":0";
    o.extra_args = {"--heartbeat-listen", controller_ip() + ":0", "--fence-stop-timeout",
                    kFenceStopTimeout};
    admin_token_ = "admin-token";
    start_controller(o);
    for (size_t i = 0; i < kNodes.size(); ++i) {
      AgentOptions a = agent_options(kNodes[i], controller_->url());
      a.wrapper = {ip_, "netns", "exec", ns_name(i)};
      a.listen = agent_ip(i) + ":0";
      a.token = kNodes[i] + "-token";
      start_agent(a);
      cut_[kNodes[i]] = [this, link = link_name("a" + std::to_string(i))](bool cut) {
        std::string error;
        EXPECT_TRUE(ip({"link", "set", link, cut ? "down" : "up"}, &error)) << error;
      };
    }
    wait_ready();
  }

  void start_proxy_cluster() {
    ControllerOptions o;
    o.binary = controller_binary();
    o.data_dir = (dir_.path() / "controller").string();
    // Beats on the API port, through the proxy: the listener's address would
    // take them around it.
    o.extra_args = {"--heartbeat-listen", "off", "--fence-stop-timeout", kFenceStopTimeout};
    start_controller(o);
    const std::string controller_port =
        controller_->url().substr(controller_->url().rfind(':') + 1);
    for (const std::string& node : kNodes) {
      auto to_controller = std::make_unique<TcpProxy>();
      auto to_endpoint = std::make_unique<TcpProxy>();
      std::string error;
      ASSERT_TRUE(to_controller->start(&error)) << error;
      ASSERT_TRUE(to_endpoint->start(&error)) << error;
      to_controller->set_target("127.0.0.1", std::stoi(controller_port));
      AgentOptions a = agent_options(node, to_controller->url());
      a.extra_args.insert(a.extra_args.end(), {"--advertise-address", to_endpoint->address()});
      start_agent(a);
      const std::string url = agents_[node]->url();
      to_endpoint->set_target("127.0.0.1", std::stoi(url.substr(url.rfind(':') + 1)));
      cut_[node] = [c = to_controller.get(), e = to_endpoint.get()](bool cut) {
        for (TcpProxy* p : {c, e}) cut ? p->cut() : p->heal();
      };
      proxies_.push_back(std::move(to_controller));
      proxies_.push_back(std::move(to_endpoint));
    }
    wait_ready();
  }

  void start_controller(const ControllerOptions& o) {
    controller_ = std::make_unique<Controller>(o);
    std::string error;
    ASSERT_TRUE(controller_->start(&error)) << error;
    ClientConfig cfg;
    cfg.server = controller_->url();
    cfg.token = admin_token_;
    cfg.timeout = 30s;
    api_ = std::make_unique<ApiClient>(cfg);
  }
  AgentOptions agent_options(const std::string& node, const std::string& server) {
    AgentOptions a;
    a.binary = agent_binary();
    a.server = server;
    a.node = node;
    a.data_dir = (dir_.path() / node).string();
    a.extra_args = {"--cpu", "4", "--memory", "8Gi", "--stop-grace", kStopGrace};
    return a;
  }
  void start_agent(const AgentOptions& a) {
    agents_[a.node] = std::make_unique<Agent>(a);
    std::string error;
    ASSERT_TRUE(agents_[a.node]->start(&error)) << error;
  }
  void wait_ready() {
    for (const std::string& node : kNodes)
      ASSERT_TRUE(wait_for([&] { return node_phase(node) == "Ready"; }, kWait))
          << node << " did not turn Ready\n"
          << controller_->logs() << agents_[node]->logs();
  }

  // ---- the API and /proc --------------------------------------------------------------

  struct VmView {
    std::string name, node, phase, reported_node;
    int64_t epoch = 0, reported_epoch = 0;
    bool running() const {
      return phase == "Running" && reported_epoch == epoch && reported_node == node;
    }
  };
  std::optional<VmView> the_vm() {
    auto r = api_->call("GET", ApiClient::resource_path("vms"));
    if (!r || (*r)["items"].size() != 1) return std::nullopt;
    const Json& item = (*r)["items"][0];
    const Json status = item.value("status", Json::object());
    VmView v;
    v.name = item["metadata"]["name"].get<std::string>();
    v.node = item["spec"].value("nodeName", "");
    v.epoch = item["spec"].value("epoch", int64_t{0});
    v.phase = status.value("phase", "");
    v.reported_node = status.value("nodeName", "");
    v.reported_epoch = status.value("epoch", int64_t{0});
    return v;
  }
  std::string describe() {
    auto v = the_vm();
    if (!v) return "(no VM)\n";
    return "vm/" + v->name + " node=" + v->node + " epoch=" + std::to_string(v->epoch) +
           " phase=" + v->phase + " reported=" + v->reported_node + "/" +
           std::to_string(v->reported_epoch) + "\n";
  }
  std::string node_phase(const std::string& node) {
    auto r = api_->call("GET", ApiClient::resource_path("nodes", node));
    if (!r) return "";
    return (*r).value("status", Json::object()).value("phase", "");
  }
  std::vector<std::string> event_messages(const std::string& reason) {
    std::vector<std::string> out;
    auto r = api_->call("GET", ApiClient::resource_path("events"));
    if (!r) return out;
    for (const Json& e : (*r)["items"])
      if (e.value("reason", "") == reason) out.push_back(e.value("message", ""));
    return out;
  }
  int count_marked(const std::string& node) {
    int n = 0;
    for (const auto& [pid, cmd] : process_table())
      if (cmd.find(marker_) != std::string::npos &&
          (node.empty() || cmd.find(" " + node + " ") != std::string::npos))
        ++n;
    return n;
  }
  void kill_marked() {
    for (const auto& [pid, cmd] : process_table())
      if (cmd.find(marker_) != std::string::npos) ::kill(pid, SIGKILL);
  }
  void create(const std::string& plural, Json body) {
    auto r = api_->call("POST", ApiClient::resource_path(plural), &body);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
  }
  std::string logs() {
    std::string out = "--- controller\n" + controller_->logs();
    for (auto& [node, agent] : agents_) out += "--- " + node + "\n" + agent->logs();
    return out;
  }

  // ---- the scenario ------------------------------------------------------------------

  // A Pool and a VMSet of one selfFence VM; returns it once Running.
  std::optional<VmView> create_self_fencing_vm() {
    create("pools", Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool",
      "metadata":{"name":"web"},"spec":{"placement":"spread"}})"));
    Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"app"},
      "spec":{"pool":"web","replicas":1,"fencing":"selfFence","template":{"spec":{
      "resources":{"cpu":"100m","memory":"32Mi"},"runtime":{"driver":"process"}}}}})");
    set["spec"]["template"]["spec"]["runtime"]["command"] = {
        "/usr/bin/python3",  "-c", "import time; time.sleep(600)", marker_, "${CORRAL_NODE}",
        "${CORRAL_VM_NAME}", "end"};
    create("vmsets", set);
    EXPECT_TRUE(wait_for([&] { return the_vm() && the_vm()->running(); }, kWait))
        << describe() << logs();
    auto vm = the_vm();
    if (!vm || !vm->running()) return std::nullopt;
    EXPECT_EQ(count_marked(vm->node), 1) << "one copy, on " << vm->node;
    return vm;
  }

  void partition_the_node_of_a_self_fencing_vm() {
    const auto created = create_self_fencing_vm();
    ASSERT_TRUE(created && !HasFailure());
    const VmView before = *created;
    const std::string victim = before.node;
    const std::string other = victim == kNodes[0] ? kNodes[1] : kNodes[0];

    CopySampler sampler(marker_, before.name);
    const auto cut_at = Clock::now();
    cut_[victim](true);
    // The agent fences: its copy stops while the VM is still bound to it.
    ASSERT_TRUE(wait_for([&] { return count_marked(victim) == 0; }, kWait))
        << "the partitioned agent did not fence\n"
        << describe() << logs();
    const auto fenced_at = Clock::now();
    // The controller waits out grace + fence time, then re-places it.
    ASSERT_TRUE(wait_for(
        [&] {
          auto v = the_vm();
          return v && v->node == other && v->epoch == before.epoch + 1 && v->running();
        },
        kWait))
        << describe() << logs();
    const auto replaced_at = Clock::now();
    const auto waits = event_messages("WaitingForFence");
    ASSERT_EQ(waits.size(), 1u) << logs();
    EXPECT_NE(waits[0].find("to fence vm/" + before.name + " before re-placing"), std::string::npos)
        << waits[0];

    cut_[victim](false);
    ASSERT_TRUE(wait_for([&] { return node_phase(victim) == "Ready"; }, kWait)) << logs();
    const auto healed_at = Clock::now();
    // Back and answered: the re-placed VM is not restarted on the old node.
    // Watched until the healed agent has had two more heartbeats answered —
    // two rounds in which it heard where the VM is bound and converged on it.
    EXPECT_TRUE(wait_for_agent_heartbeats(agents_[victim]->url(), 2, kWait))
        << "the healed agent's heartbeats were not answered\n"
        << logs();
    sampler.stop();
    EXPECT_EQ(count_marked(victim), 0) << "the stale copy runs again on " << victim;
    EXPECT_EQ(count_marked(other), 1);
    EXPECT_EQ(count_marked(""), 1) << "exactly one copy";
    auto after = the_vm();
    ASSERT_TRUE(after);
    EXPECT_EQ(after->node, other);
    EXPECT_EQ(after->epoch, before.epoch + 1);
    EXPECT_TRUE(after->running()) << describe();

    EXPECT_LE(sampler.max_copies(), 1) << "two copies at once:\n" << sampler.worst();
    // The sampler saw the whole hand-over, in order: the old copy, the fenced
    // gap with none, then the new copy only — so it sampled often enough to
    // tell, and the copy on `other` never overlapped the one on `victim`.
    const std::vector<std::string> history = sampler.history();
    std::string seen;
    for (const std::string& state : history) seen += "[" + state + "] ";
    EXPECT_EQ(history, (std::vector<std::string>{victim, "", other})) << seen;
    // The agent's own account: how long after its last answered send it fenced.
    std::string fence_line;
    std::istringstream victim_log(agents_[victim]->logs());
    for (std::string line; std::getline(victim_log, line);)
      if (line.find("self-fenced") != std::string::npos) fence_line = line;
    EXPECT_FALSE(fence_line.empty()) << agents_[victim]->logs();
    std::cout << "[ fence    ] " << fence_line << "\n";
    using ms = std::chrono::milliseconds;
    auto since_cut = [&](Clock::time_point t) {
      return std::chrono::duration_cast<ms>(t - cut_at).count();
    };
    std::cout << "[ timings  ] cut → old copy stopped " << since_cut(fenced_at)
              << " ms; cut → re-placed Running " << since_cut(replaced_at) << " ms; heal → Ready "
              << std::chrono::duration_cast<ms>(healed_at - replaced_at).count()
              << " ms after re-placement; " << sampler.samples() << " samples, at most "
              << sampler.max_copies() << " copy at once; states " << seen << "\n";
  }

  // The agent that runs the VM is cut off, then killed (SIGKILL) or frozen
  // (SIGSTOP): it can fence nothing itself. Its fence watchdog, a process of
  // its own, must stop the copy before the controller re-places it.
  void partition_then_disable_the_agent(int signal) {
    const auto created = create_self_fencing_vm();
    ASSERT_TRUE(created && !HasFailure());
    const VmView before = *created;
    const std::string victim = before.node;
    const std::string other = victim == kNodes[0] ? kNodes[1] : kNodes[0];
    const std::string watchdog_log = (dir_.path() / victim / "fence-watchdog.log").string();
    ASSERT_TRUE(wait_for([&] { return std::filesystem::exists(watchdog_log); }, kWait))
        << "no fence watchdog for " << victim << "\n" << logs();

    CopySampler sampler(marker_, before.name);
    const auto cut_at = Clock::now();
    cut_[victim](true);
    if (signal == SIGKILL) {
      agents_[victim]->kill_hard();
    } else {
      ASSERT_TRUE(agents_[victim]->signal(signal));
    }
    ASSERT_TRUE(wait_for([&] { return count_marked(victim) == 0; }, kWait))
        << "nothing fenced the copy of the " << (signal == SIGKILL ? "killed" : "frozen")
        << " agent\n" << describe() << logs();
    const auto fenced_at = Clock::now();
    ASSERT_TRUE(wait_for(
        [&] {
          auto v = the_vm();
          return v && v->node == other && v->epoch == before.epoch + 1 && v->running();
        },
        kWait))
        << describe() << logs();
    const auto replaced_at = Clock::now();
    // Two more seconds of samples (40 × 50 ms) with the new copy running: the
    // old one does not come back.
    const int seen = sampler.samples();
    ASSERT_TRUE(wait_for([&] { return sampler.samples() >= seen + 40; }, kWait));
    if (signal == SIGSTOP) {
      // Thawed and back in touch: it learns the VM is bound elsewhere.
      ASSERT_TRUE(agents_[victim]->signal(SIGCONT));
      cut_[victim](false);
      ASSERT_TRUE(wait_for([&] { return node_phase(victim) == "Ready"; }, kWait)) << logs();
      EXPECT_TRUE(wait_for_agent_heartbeats(agents_[victim]->url(), 2, kWait)) << logs();
    }
    sampler.stop();
    EXPECT_EQ(count_marked(victim), 0) << "the stale copy runs again on " << victim;
    EXPECT_EQ(count_marked(""), 1) << "exactly one copy";
    EXPECT_LE(sampler.max_copies(), 1) << "two copies at once:\n" << sampler.worst();
    const std::vector<std::string> history = sampler.history();
    std::string states;
    for (const std::string& state : history) states += "[" + state + "] ";
    EXPECT_EQ(history, (std::vector<std::string>{victim, "", other})) << states;
    // The watchdog's own account.
    std::ifstream in(watchdog_log);
    std::string line, fence_line;
    while (std::getline(in, line))
      if (line.find("SIGTERM") != std::string::npos) fence_line = line;
    EXPECT_FALSE(fence_line.empty()) << "the watchdog did not fence";
    std::cout << "[ watchdog ] " << fence_line << "\n";
    using ms = std::chrono::milliseconds;
    auto since_cut = [&](Clock::time_point t) {
      return std::chrono::duration_cast<ms>(t - cut_at).count();
    };
    std::cout << "[ timings  ] " << (signal == SIGKILL ? "kill -9" : "SIGSTOP")
              << ": cut → old copy stopped " << since_cut(fenced_at)
              << " ms; cut → re-placed Running " << since_cut(replaced_at) << " ms; "
              << sampler.samples() << " samples, at most " << sampler.max_copies()
              << " copy at once; states " << states << "\n";
  }

  std::string id_, marker_, ip_, admin_token_;
  int base_ = 0;
  TempDir dir_;
  std::unique_ptr<Controller> controller_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  std::vector<std::unique_ptr<TcpProxy>> proxies_;
  std::map<std::string, std::function<void(bool)>> cut_;  // node → cut (true) / heal (false)
  std::unique_ptr<ApiClient> api_;
};

TEST_F(PartitionTest, NetnsSelfFencedVmNeverRunsTwiceAcrossAPartition) {
  start_netns_cluster();
  if (IsSkipped() || HasFatalFailure()) return;
  partition_the_node_of_a_self_fencing_vm();
}

TEST_F(PartitionTest, ProxySelfFencedVmNeverRunsTwiceAcrossAPartition) {
  start_proxy_cluster();
  if (HasFatalFailure()) return;
  partition_the_node_of_a_self_fencing_vm();
}

// The watchdog's own death: its agent starts a new one (it checks every second).
TEST_F(PartitionTest, ProxyAgentStartsANewFenceWatchdogWhenItsOneDies) {
  start_proxy_cluster();
  if (HasFatalFailure()) return;
  const std::string data_dir = (dir_.path() / kNodes[0]).string();
  auto watchdogs = [&] {
    std::set<int> pids;
    for (const auto& [pid, cmd] : process_table())
      if (cmd.find("fence-watchdog") != std::string::npos &&
          cmd.find(data_dir + " ") != std::string::npos)
        pids.insert(pid);
    return pids;
  };
  ASSERT_TRUE(wait_for([&] { return watchdogs().size() == 1; }, kWait)) << logs();
  const int first = *watchdogs().begin();
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(wait_for(
      [&] {
        auto now = watchdogs();
        return now.size() == 1 && !now.count(first);
      },
      kWait))
      << "no new watchdog\n" << agents_[kNodes[0]]->logs();
  EXPECT_NE(agents_[kNodes[0]]->logs().find("the fence watchdog was not on duty"),
            std::string::npos);
}

TEST_F(PartitionTest, ProxyKilledAgentsWatchdogFencesItsVmBeforeItIsReplaced) {
  start_proxy_cluster();
  if (HasFatalFailure()) return;
  partition_then_disable_the_agent(SIGKILL);
}

TEST_F(PartitionTest, ProxyFrozenAgentsWatchdogFencesItsVmBeforeItIsReplaced) {
  start_proxy_cluster();
  if (HasFatalFailure()) return;
  partition_then_disable_the_agent(SIGSTOP);
  // Never leave a stopped agent to TearDown's SIGTERM.
  for (auto& [node, agent] : agents_) agent->signal(SIGCONT);
}

}  // namespace partition_test
}  // namespace corral::testing
