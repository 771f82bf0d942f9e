// Rebalance convergence on a real cluster: a real controller (SQLite) and
// --agents sim agents (8 CPU each), --vms sim VMs of 150m simulated CPU placed
// while half the nodes are cordoned — a skewed start: half the nodes at 0.75,
// half at 0 — then the cordon is lifted and the rebalancer left alone.
//
//   build/bench/convergence_bench [--agents 500] [--vms 10000] [--moves-per-round 500]
//                                 [--timeout 900]
//
// Prints the seconds until every Ready node is within maxImbalance (0.2) of the
// pool's mean load (from Pool status, which reads the agents' smoothed use),
// the planning rounds that started moves, the moves made (the controller's
// corral_moves_total{outcome="completed"}), and the lower bound on moves the
// planner computes for the skewed start — target (issue 5): moves ≤ 2 × bound.
#include <cmath>
#include <cstdio>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "api/kinds.h"
#include "bench/bench_cluster.h"
#include "bench/bench_util.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/planner.h"
#include "controller/reconcile/disruption.h"
#include "tests/support/cluster.h"

namespace {

using namespace std::chrono_literals;
using corral::ApiClient;
using corral::Json;
using corral::bench::SteadyClock;

template <class T>
std::vector<T> list_typed(ApiClient& api, const std::string& plural) {
  std::vector<T> out;
  auto r = api.call("GET", ApiClient::resource_path(plural));
  if (!r) return out;
  for (const Json& item : (*r)["items"])
    if (auto t = corral::from_json<T>(item)) out.push_back(std::move(*t));
  return out;
}

bool set_cordon(ApiClient& api, const std::string& node, bool on) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto n = api.call("GET", ApiClient::resource_path("nodes", node));
    if (!n) continue;
    (*n)["spec"]["unschedulable"] = on;
    if (api.call("PUT", ApiClient::resource_path("nodes", node), &*n)) return true;
  }
  return false;
}

// One series of the controller's /metrics (0 when absent, -1 when unreadable).
double metric(ApiClient& api, const std::string& series) {
  auto r = api.request("GET", "/metrics");
  if (!r) return -1;
  const std::string& body = r->body;
  const size_t at = body.find("\n" + series + " ");
  if (at == std::string::npos) return 0;
  return std::atof(body.c_str() + at + series.size() + 2);
}

}  // namespace

int main(int argc, char** argv) {
  const int agents = corral::bench::int_flag(argc, argv, "--agents", 500);
  const int vms = corral::bench::int_flag(argc, argv, "--vms", 10000);
  const int per_round = corral::bench::int_flag(argc, argv, "--moves-per-round", 500);
  const int timeout_s = corral::bench::int_flag(argc, argv, "--timeout", 900);

  corral::bench::LocalCluster cluster;
  std::string error;
  std::printf("starting a controller and %d sim agents...\n", agents);
  std::fflush(stdout);
  if (!cluster.start(agents, "sim", &error)) {
    std::fprintf(stderr, "cluster: %s\n", error.c_str());
    return 1;
  }
  corral::ClientConfig cfg;
  cfg.server = cluster.controller->url();
  cfg.timeout = 30s;
  ApiClient api(cfg);
  while (static_cast<int>(list_typed<corral::Node>(api, "nodes").size()) < agents)
    std::this_thread::sleep_for(200ms);

  // Skew: the second half cordoned while the VMs are placed.
  for (int i = agents / 2; i < agents; ++i) set_cordon(api, "node-" + std::to_string(i), true);
  Json pool = Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"bench"},
    "spec":{"placement":"spread","rebalance":{"enabled":true,"maxImbalance":0.2,
    "highWatermark":0.95,"minGain":0.01,"holdSeconds":2,"intervalSeconds":2,
    "cooldownSeconds":3600}}})");
  pool["spec"]["rebalance"]["maxMovesPerRound"] = per_round;
  Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"bench"},
    "spec":{"pool":"bench","disruption":{"maxUnavailable":"20%"},
    "template":{"spec":{"resources":{"cpu":"100m","memory":"16Mi"},
    "runtime":{"driver":"sim","sim":{"cpu":"150m","memory":"16Mi"}}}}}})");
  set["spec"]["replicas"] = vms;
  if (!api.call("POST", ApiClient::resource_path("pools"), &pool) ||
      !api.call("POST", ApiClient::resource_path("vmsets"), &set)) {
    std::fprintf(stderr, "cannot create the pool and the set\n");
    return 1;
  }
  std::printf("placing %d VMs on %d nodes...\n", vms, agents / 2);
  std::fflush(stdout);
  for (;;) {
    auto s = api.call("GET", ApiClient::resource_path("vmsets", "bench"));
    if (s && s->value("status", Json::object()).value("ready", 0) == vms) break;
    std::this_thread::sleep_for(500ms);
  }
  std::this_thread::sleep_for(5s);  // let the agents' smoothed use settle

  // The planner's lower bound for this start, as the controller would see it
  // with the cordon lifted.
  auto nodes = list_typed<corral::Node>(api, "nodes");
  for (auto& n : nodes) n.spec.unschedulable = false;
  auto pools = list_typed<corral::Pool>(api, "pools");
  auto sets = list_typed<corral::VMSet>(api, "vmsets");
  auto all_vms = list_typed<corral::VM>(api, "vms");
  std::set<std::string> actionable;
  for (const auto& n : nodes) actionable.insert(n.metadata.name);
  std::map<std::string, int32_t> budget;
  for (const auto& [name, b] : corral::reconcile::disruption_budgets(sets, all_vms))
    budget[name] = b.allowed();
  auto input = corral::rebalance::build_plan_input(pools.at(0), nodes, sets, all_vms,
                                                   std::chrono::system_clock::now(), actionable,
                                                   budget, -1);
  for (auto& [name, left] : input.budget_left) left = vms;  // the bound ignores budgets
  auto snapshot = corral::scheduler::ClusterSnapshot::build(nodes, pools, sets, all_vms);
  const auto plan_start = SteadyClock::now();
  corral::rebalance::Plan full = corral::rebalance::plan_moves(input, snapshot);
  const double plan_ms = corral::bench::ms_since(plan_start);

  const double moves_before = metric(api, "corral_moves_total{outcome=\"completed\"}");
  std::printf("skewed start: L %.3f, max |deviation| %.3f; lower bound %d moves; the planner's "
              "own full plan: %zu moves (%.0f ms)\n",
              full.mean_before, full.max_deviation_before, full.lower_bound, full.moves.size(),
              plan_ms);
  std::fflush(stdout);

  const auto start = SteadyClock::now();
  for (int i = agents / 2; i < agents; ++i) set_cordon(api, "node-" + std::to_string(i), false);
  double converged_s = -1;
  double max_dev = 0;
  while (corral::bench::ms_since(start) < timeout_s * 1000.0) {
    std::this_thread::sleep_for(500ms);
    auto p = api.call("GET", ApiClient::resource_path("pools", "bench"));
    if (!p) continue;
    const Json st = p->value("status", Json::object());
    max_dev = 0;
    int counted = 0;
    for (const Json& nl : st.value("nodeLoads", Json::array())) {
      max_dev = std::max(max_dev, std::abs(nl.value("deviation", 0.0)));
      ++counted;
    }
    bool moving = false;
    for (const auto& vm : list_typed<corral::VM>(api, "vms"))
      if (vm.metadata.annotations.count("corral.io/replaces")) moving = true;
    if (counted == agents && max_dev <= 0.2 && !moving) {
      converged_s = corral::bench::ms_since(start) / 1000.0;
      break;
    }
  }
  const double moves = metric(api, "corral_moves_total{outcome=\"completed\"}") - moves_before;
  const double rounds = metric(api, "corral_rebalance_rounds_total");
  const double cancelled = metric(api, "corral_moves_total{outcome=\"cancelled\"}");
  if (converged_s < 0)
    std::printf("NOT converged within %d s (max |deviation| %.3f)\n", timeout_s, max_dev);
  else
    std::printf("converged: every node within 0.2 of L after %.1f s\n", converged_s);
  std::printf("rounds with moves %.0f, moves %.0f (cancelled %.0f), lower bound %d: %.2fx the bound "
              "(target <= 2x)\n",
              rounds, moves, cancelled, full.lower_bound,
              full.lower_bound > 0 ? moves / full.lower_bound : 0.0);
  return converged_s < 0 ? 1 : 0;
}
