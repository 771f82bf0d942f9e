// The rebalancer's move planner: (a) the time of one round on a large pool and
// (b) how many moves and rounds a skewed pool takes to come back inside the
// band, against the planner's lower bound. Pure in-process: no store, no HTTP.
//
//   build/bench/rebalance_bench [--nodes 5000] [--vms 100000] [--runs 10]
//                               [--sim-nodes 500] [--sim-vms 10000] [--moves-per-round 50]
//
// (a) Setup (not timed): --nodes 64-core nodes in 3 zones, --vms VMs in 200
// VMSets (a quarter with required anti-affinity by host, a quarter spread
// over zones) placed by the real scheduler, then measured usage skewed per
// node (log-normal heat). Timed, --runs times: build_plan_input from typed
// objects, and plan_moves with maxMoves 100 on a prebuilt ClusterSnapshot
// (the loop keeps one; the planner copies it). Target: plan ≤ 200 ms.
// (b) --sim-nodes nodes, half of them full (usage 50–100 % of requests), half
// new and empty; each round plans with --moves-per-round on the objects as
// the last round left them (moved VMs Running on their target, in cooldown
// for 300 s, 30 s per round), until every node is inside maxImbalance or a
// round plans nothing. Prints rounds, moves and moves / lower bound (target ≤ 2).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "bench/bench_util.h"
#include "controller/rebalance/annotations.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/planner.h"
#include "controller/scheduler/scheduler.h"

namespace {

using namespace corral;
using bench::ms_since;
using bench::SteadyClock;

constexpr int64_t kGiMilli = int64_t{1024} * 1024 * 1024 * 1000;

struct World {
  Pool pool;
  std::vector<Node> nodes;
  std::vector<VMSet> sets;
  std::vector<VM> vms;
};

Node make_node(const std::string& name, int zone) {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = {{"role", "web"}, {"zone", "z" + std::to_string(zone)}};
  n.status.allocatable.cpu = Quantity::from_milli(64'000);
  n.status.allocatable.memory = Quantity::from_milli(256 * kGiMilli);
  n.status.capacity = n.status.allocatable;
  n.status.phase = "Ready";
  n.status.conditions.push_back(Condition{"Ready", "True", "", "", "", 0});
  return n;
}

// `placed_nodes` of `nodes` exist when the VMs are placed; the rest join empty.
World make_world(int nodes, int placed_nodes, int vms, int sets, std::mt19937& rng) {
  World w;
  w.pool.metadata.name = "web";
  w.pool.spec.nodeSelector = {{"role", "web"}};
  w.pool.spec.overcommit = {1.5, 1.0};
  w.pool.spec.rebalance.enabled = true;
  for (int i = 0; i < nodes; ++i) w.nodes.push_back(make_node("host-" + std::to_string(i), i % 3));
  std::vector<scheduler::VmRequest> pending;
  std::map<std::string, VM> templates;
  std::uniform_int_distribution<int> cores(1, 4), gib(2, 8);
  for (int s = 0; s < sets; ++s) {
    VMSet set;
    set.metadata.name = "set-" + std::to_string(s);
    set.spec.pool = "web";
    if (s % 4 == 1) set.spec.antiAffinity = AntiAffinity{"corral.io/hostname", "required"};
    if (s % 4 == 2) set.spec.spread = SpreadPolicy{"zone", 1};
    const int64_t cpu = cores(rng) * 1000, mem = gib(rng) * kGiMilli;
    for (int r = 0; r < vms / sets; ++r) {
      VM vm;
      vm.metadata.name = set.metadata.name + "-" + std::to_string(r);
      vm.metadata.labels["corral.io/vmset"] = set.metadata.name;
      vm.metadata.ownerReferences.push_back(
          OwnerReference{kApiVersion, "VMSet", set.metadata.name, "", true});
      vm.spec.resources.cpu = Quantity::from_milli(cpu);
      vm.spec.resources.memory = Quantity::from_milli(mem);
      scheduler::VmRequest req;
      req.name = vm.metadata.name;
      req.vmset = set.metadata.name;
      req.pool = "web";
      req.cpu = cpu;
      req.memory = mem;
      pending.push_back(req);
      templates.emplace(vm.metadata.name, std::move(vm));
    }
    w.sets.push_back(set);
  }
  std::vector<Node> first(w.nodes.begin(), w.nodes.begin() + placed_nodes);
  auto snapshot = scheduler::ClusterSnapshot::build(first, {w.pool}, w.sets, {});
  scheduler::Options options;
  options.percentage_of_nodes_to_score = 100;  // setup: spread evenly, not fast
  if (placed_nodes > 1000) options.percentage_of_nodes_to_score = 0;
  for (const auto& d : scheduler::schedule_batch(snapshot, pending, options)) {
    if (!d.bound()) continue;
    VM vm = templates.at(d.vm);
    vm.spec.nodeName = d.node;
    vm.spec.epoch = vm.status.epoch = d.epoch;
    vm.status.phase = "Running";
    w.vms.push_back(std::move(vm));
  }
  return w;
}

// Measured usage: each VM at `heat(node) × U(lo, hi)` of its requests; each
// node measures the sum plus 2 % of its capacity for the host.
template <class Heat>
void set_usage(World& w, Heat heat, double lo, double hi, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::map<std::string, std::pair<int64_t, int64_t>> sum;
  std::map<std::string, double> node_heat;
  for (const Node& n : w.nodes) node_heat[n.metadata.name] = heat(n);
  for (VM& vm : w.vms) {
    const double f = std::min(1.0, node_heat[vm.spec.nodeName] * u(rng));
    vm.status.usage.cpu = Quantity::from_milli(
        static_cast<int64_t>(static_cast<double>(vm.spec.resources.cpu.milli) * f));
    vm.status.usage.memory = Quantity::from_milli(
        static_cast<int64_t>(static_cast<double>(vm.spec.resources.memory.milli) * f * 0.5));
    sum[vm.spec.nodeName].first += vm.status.usage.cpu.milli;
    sum[vm.spec.nodeName].second += vm.status.usage.memory.milli;
  }
  for (Node& n : w.nodes) {
    n.status.usage.cpu = Quantity::from_milli(sum[n.metadata.name].first + 64'000 / 50);
    n.status.usage.memory = Quantity::from_milli(sum[n.metadata.name].second + 256 * kGiMilli / 50);
  }
}

std::map<std::string, int32_t> budgets(const World& w, int32_t each) {
  std::map<std::string, int32_t> out;
  for (const VMSet& s : w.sets) out[s.metadata.name] = each;
  return out;
}

std::set<std::string> all_nodes(const World& w) {
  std::set<std::string> out;
  for (const Node& n : w.nodes) out.insert(n.metadata.name);
  return out;
}

void one_round(int nodes, int vms, int runs) {
  std::mt19937 rng(20261127);
  auto t0 = SteadyClock::now();
  World w = make_world(nodes, nodes, vms, 200, rng);
  std::lognormal_distribution<double> heat(-0.3, 0.45);
  set_usage(
      w, [&](const Node&) { return heat(rng); }, 0.5, 1.0, rng);
  std::printf("setup: %d nodes, %zu VMs placed in %.0f ms\n", nodes, w.vms.size(), ms_since(t0));
  // VMs of 1–4 cores on 64-core nodes: each is 1–6 % of a node, so a
  // minGain of 0.05 would allow only the largest, busiest ones to move.
  w.pool.spec.rebalance.minGain = 0.02;
  const auto now = std::chrono::system_clock::now();
  t0 = SteadyClock::now();
  auto snapshot = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, w.vms);
  const double build_ms = ms_since(t0);
  std::vector<double> input_ms, plan_ms, copy_ms;
  rebalance::Plan plan;
  for (int r = 0; r < runs; ++r) {
    t0 = SteadyClock::now();
    auto input = rebalance::build_plan_input(w.pool, w.nodes, w.sets, w.vms, now, all_nodes(w),
                                             budgets(w, 1000), 100);
    input_ms.push_back(ms_since(t0));
    t0 = SteadyClock::now();
    plan = rebalance::plan_moves(input, snapshot);  // borrowed, restored
    plan_ms.push_back(ms_since(t0));
    t0 = SteadyClock::now();
    rebalance::plan_moves_on_copy(input, snapshot);
    copy_ms.push_back(ms_since(t0));
  }
  int out_before = 0, out_after = 0;
  for (const auto& n : plan.nodes_before) out_before += !n.in_band;
  for (const auto& n : plan.nodes_after) out_after += !n.in_band;
  std::printf(
      "round: %zu moves (max 100), L %.3f, max|d| %.3f -> %.3f, out of band %d -> %d, lower bound "
      "%d, stopped: %s\n",
      plan.moves.size(), plan.mean_before, plan.max_deviation_before, plan.max_deviation_after,
      out_before, out_after, plan.lower_bound, plan.stopped.c_str());
  std::printf("snapshot build %.1f ms (once; the loop keeps it)\n", build_ms);
  std::printf("build_plan_input:   p50 %.1f ms, max %.1f ms over %d runs\n",
              bench::percentile(input_ms, 0.5), bench::percentile(input_ms, 1.0), runs);
  std::printf("plan_moves:         p50 %.1f ms, max %.1f ms over %d runs (target <= 200 ms)\n",
              bench::percentile(plan_ms, 0.5), bench::percentile(plan_ms, 1.0), runs);
  std::printf("plan_moves_on_copy: p50 %.1f ms, max %.1f ms over %d runs\n",
              bench::percentile(copy_ms, 0.5), bench::percentile(copy_ms, 1.0), runs);
}

void converge(int nodes, int vms, int moves_per_round) {
  std::mt19937 rng(20261128);
  World w = make_world(nodes, nodes / 2, vms, 50, rng);
  set_usage(
      w, [](const Node&) { return 1.0; }, 0.5, 1.0, rng);
  // ~38 VMs on a loaded node: one VM is ~2 % of it, so minGain must be below
  // that for any single move to count (the default 0.05 allows none).
  w.pool.spec.rebalance.minGain = 0.01;
  auto now = std::chrono::system_clock::now();
  const auto& policy = w.pool.spec.rebalance;
  std::map<std::string, size_t> vm_at;
  for (size_t i = 0; i < w.vms.size(); ++i) vm_at[w.vms[i].metadata.name] = i;
  std::map<std::string, size_t> node_at;
  for (size_t i = 0; i < w.nodes.size(); ++i) node_at[w.nodes[i].metadata.name] = i;
  int rounds = 0, lower_bound = -1;
  size_t moves = 0;
  double first_dev = 0, last_dev = 0;
  int out = 0;
  auto t0 = SteadyClock::now();
  while (true) {
    auto input = rebalance::build_plan_input(w.pool, w.nodes, w.sets, w.vms, now, all_nodes(w),
                                             budgets(w, 1000), moves_per_round);
    auto snapshot = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, w.vms);
    auto plan = rebalance::plan_moves(input, snapshot);
    if (lower_bound < 0) {
      lower_bound = plan.lower_bound;
      first_dev = plan.max_deviation_before;
    }
    last_dev = plan.max_deviation_after;
    out = 0;
    for (const auto& n : plan.nodes_after) out += !n.in_band;
    if (plan.moves.empty()) break;
    ++rounds;
    moves += plan.moves.size();
    for (const auto& m : plan.moves) {
      VM& vm = w.vms[vm_at.at(m.vm)];
      Node& from = w.nodes[node_at.at(m.from)];
      Node& to = w.nodes[node_at.at(m.to)];
      from.status.usage.cpu.milli -= vm.status.usage.cpu.milli;
      from.status.usage.memory.milli -= vm.status.usage.memory.milli;
      to.status.usage.cpu.milli += vm.status.usage.cpu.milli;
      to.status.usage.memory.milli += vm.status.usage.memory.milli;
      vm.spec.nodeName = m.to;
      vm.metadata.annotations[std::string(rebalance::kMovedAtAnnotation)] = format_time(now);
    }
    if (out == 0) break;
    now += std::chrono::seconds(policy.intervalSeconds);
  }
  std::printf(
      "converge: %d nodes (%d empty at start), %zu VMs, maxMovesPerRound %d: %d rounds, %zu "
      "moves, max|d| %.3f -> %.3f, %d nodes out of band at the end, lower bound %d, moves / "
      "bound %.2f (target <= 2), %.0f ms in all\n",
      nodes, nodes - nodes / 2, w.vms.size(), moves_per_round, rounds, moves, first_dev, last_dev,
      out, lower_bound, lower_bound > 0 ? static_cast<double>(moves) / lower_bound : 0.0,
      ms_since(t0));
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = bench::int_flag(argc, argv, "--nodes", 5000);
  const int vms = bench::int_flag(argc, argv, "--vms", 100000);
  const int runs = bench::int_flag(argc, argv, "--runs", 10);
  const int sim_nodes = bench::int_flag(argc, argv, "--sim-nodes", 500);
  const int sim_vms = bench::int_flag(argc, argv, "--sim-vms", 10000);
  const int per_round = bench::int_flag(argc, argv, "--moves-per-round", 50);
  one_round(nodes, vms, runs);
  converge(sim_nodes, sim_vms, per_round);
  return 0;
}
