// False fail-overs under CPU starvation: healthy agents must not be declared
// dead because the machine is saturated.
//
//   build/bench/false_failover_bench [--agents 20] [--seconds 600] [--hogs 0 (= 2 x cores)]
//
// A real controller (SQLite) and --agents real agents (sim driver) with a
// VMSet of 2 x agents replicas run while --hogs busy-loop processes (same
// priority as Corral) saturate every core for --seconds; the hogs are killed
// at the end (bounded in time). Every second the bench samples every Node's
// phase and every VM's (node, epoch). Prints how many nodes were ever seen
// NotReady or Unreachable and how many VMs moved. Target (issue 4): zero
// nodes declared dead, zero VMs moved.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "bench/bench_cluster.h"
#include "bench/bench_util.h"
#include "tests/support/cluster.h"

namespace {

using namespace std::chrono_literals;
using corral::ApiClient;
using corral::Json;
using corral::bench::SteadyClock;

int fail(const std::string& message) {
  std::fprintf(stderr, "false_failover_bench: %s\n", message.c_str());
  return 1;
}

// A child that spins until killed, at the parent's priority.
pid_t start_hog() {
  pid_t pid = fork();
  if (pid == 0) {
    volatile unsigned long x = 0;
    for (;;) x = x + 1;
  }
  return pid;
}

}  // namespace

int main(int argc, char** argv) {
  const int agent_count = corral::bench::int_flag(argc, argv, "--agents", 20);
  const int seconds = corral::bench::int_flag(argc, argv, "--seconds", 600);
  int hogs = corral::bench::int_flag(argc, argv, "--hogs", 0);
  if (hogs <= 0) hogs = 2 * static_cast<int>(std::thread::hardware_concurrency());

  corral::bench::LocalCluster cluster;
  std::string error;
  if (!cluster.start(agent_count, "sim", &error)) return fail(error);
  corral::testing::Controller& controller = *cluster.controller;
  corral::ClientConfig cfg;
  cfg.server = controller.url();
  cfg.timeout = 10s;
  ApiClient api(cfg);
  Json pool = {{"apiVersion", "corral/v1"}, {"kind", "Pool"}, {"metadata", {{"name", "bench"}}},
               {"spec", Json::object()}};
  Json vmset = {{"apiVersion", "corral/v1"},
                {"kind", "VMSet"},
                {"metadata", {{"name", "app"}}},
                {"spec",
                 {{"pool", "bench"},
                  {"replicas", 2 * agent_count},
                  {"template",
                   {{"spec",
                     {{"resources", {{"cpu", "100m"}, {"memory", "64Mi"}}},
                      {"runtime", {{"driver", "sim"}, {"sim", {{"cpu", "50m"}, {"memory", "32Mi"}}}}}}}}}}}};
  for (auto [plural, body] : {std::pair{"pools", pool}, std::pair{"vmsets", vmset}}) {
    auto r = api.call("POST", ApiClient::resource_path(plural), &body);
    if (!r) return fail(r.error().to_string());
  }

  // The placement to hold still: wait until every replica runs.
  std::map<std::string, std::pair<std::string, int64_t>> placement;
  auto deadline = SteadyClock::now() + 60s;
  while (SteadyClock::now() < deadline) {
    auto r = api.call("GET", ApiClient::resource_path("vms"));
    placement.clear();
    int running = 0;
    if (r)
      for (const Json& item : (*r)["items"]) {
        placement[item["metadata"]["name"]] = {item["spec"].value("nodeName", ""),
                                               item["spec"].value("epoch", int64_t{0})};
        running += item.value("status", Json::object()).value("phase", "") == "Running";
      }
    if (running == 2 * agent_count) break;
    std::this_thread::sleep_for(200ms);
  }
  std::printf("false_failover_bench: %d agents, %zu VMs placed, %d CPU hogs on %u cores for %d s\n",
              agent_count, placement.size(), hogs, std::thread::hardware_concurrency(), seconds);
  std::fflush(stdout);

  std::vector<pid_t> hog_pids;
  for (int i = 0; i < hogs; ++i) hog_pids.push_back(start_hog());
  std::set<std::string> not_ready, unreachable;
  std::set<std::string> moved;
  int samples = 0, failed_samples = 0;
  auto start = SteadyClock::now();
  auto end = start + std::chrono::seconds(seconds);
  while (SteadyClock::now() < end) {
    auto nodes = api.call("GET", ApiClient::resource_path("nodes"));
    auto vms = api.call("GET", ApiClient::resource_path("vms"));
    ++samples;
    if (!nodes || !vms) {
      ++failed_samples;
    } else {
      for (const Json& n : (*nodes)["items"]) {
        std::string phase = n.value("status", Json::object()).value("phase", "");
        if (phase == "NotReady") not_ready.insert(n["metadata"]["name"]);
        if (phase == "Unreachable") unreachable.insert(n["metadata"]["name"]);
      }
      for (const Json& v : (*vms)["items"]) {
        std::string name = v["metadata"]["name"];
        auto now = std::make_pair(v["spec"].value("nodeName", ""), v["spec"].value("epoch", int64_t{0}));
        if (placement.count(name) && placement[name] != now) moved.insert(name);
      }
    }
    int elapsed = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - start).count());
    if (elapsed > 0 && elapsed % 60 == 0 && samples % 60 == 0) {
      std::printf("  %4d s: %zu nodes seen NotReady, %zu Unreachable, %zu VMs moved\n", elapsed, not_ready.size(),
                  unreachable.size(), moved.size());
      std::fflush(stdout);
    }
    std::this_thread::sleep_for(1s);
  }
  for (pid_t pid : hog_pids) ::kill(pid, SIGKILL);
  for (pid_t pid : hog_pids) ::waitpid(pid, nullptr, 0);

  // A NotReady that came and went between two samples still left an Event.
  int not_ready_events = 0;
  if (auto events = api.call("GET", ApiClient::resource_path("events")))
    for (const Json& e : (*events)["items"])
      if (e.value("reason", "") == "NodeNotReady") {
        ++not_ready_events;
        not_ready.insert(e["involvedObject"].value("name", ""));
      }
  std::printf("\nNodeNotReady events: %d\n", not_ready_events);
  std::printf("result after %d s saturated: %zu nodes declared NotReady, %zu seen Unreachable, %zu VMs moved "
              "(target: 0 and 0); %d samples, %d failed to read\n",
              seconds, not_ready.size(), unreachable.size(), moved.size(), samples, failed_samples);
  for (const auto& n : not_ready) std::printf("  NotReady: %s\n", n.c_str());
  for (auto& [node, agent] : cluster.agents) agent->stop(5s);
  controller.stop();
  return not_ready.empty() && moved.empty() ? 0 : 2;
}
