// Randomised invariants of the rebalance planner over many generated pools
// (fixed seeds, so a failure reproduces). Each pool is placed by the real
// scheduler first, so every constraint holds before planning; then measured
// usage is skewed at random. The plan is replayed move by move on the typed
// objects and checked with code independent of the planner's:
//   (1) no move increases the pool's max |deviation|;
//   (2) after every move — and while its replacement runs beside it —
//       required anti-affinity holds, Σ requests ≤ allocatable × overcommit,
//       no VM lands on a cordoned, NotReady or non-member node; at the end,
//       spread skew ≤ maxSkew for every set where it held before;
//   (3) a second plan on the result (moved VMs Running where they went, not in
//       cooldown, the budgets that are left) is empty;
//   (4) every move gains ≥ minGain;
//   (5) a plan that brings every node inside the band has ≥ lower-bound moves.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "controller/rebalance/annotations.h"
#include "controller/scheduler/predicates.h"
#include "controller/scheduler/scheduler.h"
#include "tests/unit/rebalance_fixtures.h"

namespace corral::rebalance {
namespace rebalance_property_test {

using namespace corral::rebalance::testing;
using scheduler::testing::kGi;
using scheduler::testing::kMilli;

constexpr int kPools = 300;
constexpr uint32_t kSeed = 20261127;

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  World world(std::map<std::string, int32_t>& budgets) {
    World w;
    w.pool = rebalance_pool("web", real(0.1, 0.3), real(0.7, 0.95), real(0.01, 0.1));
    w.pool.spec.nodeSelector = {{"role", "web"}};
    w.pool.spec.overcommit = {1.0 + range(0, 10) / 10.0, 1.0 + range(0, 5) / 10.0};
    const int n = range(5, 40);
    const int zones = range(1, 3), racks = range(2, 6);
    std::vector<Node> later;  // joined after placement: empty nodes
    for (int i = 0; i < n; ++i) {
      Labels labels{{"role", chance(0.1) ? "db" : "web"}};
      if (!chance(0.05)) labels["zone"] = "z" + std::to_string(range(0, zones - 1));
      labels["rack"] = "r" + std::to_string(range(0, racks - 1));
      Node node = scheduler::testing::make_node("n" + std::to_string(i), range(8, 32),
                                                range(16, 128), labels);
      (chance(0.2) ? later : w.nodes).push_back(node);
    }
    // Sets, placed by the real scheduler so that every rule holds up front.
    const int sets = range(1, 5);
    std::vector<scheduler::VmRequest> pending;
    std::map<std::string, VM> templates;
    for (int s = 0; s < sets; ++s) {
      const std::string name = "s" + std::to_string(s);
      VMSet set = scheduler::testing::make_vmset(name, "web");
      if (chance(0.35)) set.spec.antiAffinity = AntiAffinity{chance(0.6) ? "" : "zone", "required"};
      if (chance(0.35)) set.spec.spread = SpreadPolicy{chance(0.6) ? "zone" : "rack", range(1, 2)};
      const double cpu = range(1, 8) / 2.0;
      const int64_t mem = range(1, 8);
      for (int r = range(2, 25); r > 0; --r) {
        const std::string vm = name + "-" + std::to_string(r);
        templates[vm] = scheduler::testing::make_vm(vm, name, cpu, mem);
        pending.push_back(scheduler::testing::request(vm, name, "web", cpu, mem));
      }
      budgets[name] = chance(0.15) ? 0 : range(1, 30);
      w.sets.push_back(set);
    }
    auto snapshot = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, {});
    for (const auto& d : scheduler::schedule_batch(snapshot, pending)) {
      if (!d.bound()) continue;
      VM vm = templates[d.vm];
      vm.spec.nodeName = d.node;
      vm.spec.epoch = vm.status.epoch = d.epoch;
      vm.status.phase = chance(0.08) ? "Starting" : "Running";
      if (chance(0.05))
        vm.metadata.annotations[std::string(kMovedAtAnnotation)] =
            format_time(test_now() - std::chrono::seconds(range(0, 600)));
      w.vms.push_back(vm);
    }
    for (Node& node : later) w.nodes.push_back(node);
    // Cordon or kill some only now: VMs may sit on them (they do not move
    // onto them, and NotReady ones are out of the pool's mean).
    for (Node& node : w.nodes) {
      node.spec.unschedulable = chance(0.1);
      if (chance(0.08)) {
        node.status.phase = "NotReady";
        node.status.conditions[0].status = "False";
      }
    }
    // Measured usage: per node a heat factor, so that loads are skewed.
    std::map<std::string, double> heat;
    for (const Node& node : w.nodes) heat[node.metadata.name] = real(0.1, 1.4);
    std::map<std::string, std::pair<int64_t, int64_t>> measured;
    for (VM& vm : w.vms) {
      if (vm.status.phase != "Running") continue;
      const double h = std::min(1.5, heat[vm.spec.nodeName] * real(0.5, 1.2));
      vm.status.usage.cpu = Quantity::from_milli(
          static_cast<int64_t>(static_cast<double>(vm.spec.resources.cpu.milli) * h));
      vm.status.usage.memory = Quantity::from_milli(
          static_cast<int64_t>(static_cast<double>(vm.spec.resources.memory.milli) * h * 0.5));
      measured[vm.spec.nodeName].first += vm.status.usage.cpu.milli;
      measured[vm.spec.nodeName].second += vm.status.usage.memory.milli;
    }
    for (Node& node : w.nodes) {
      const auto& m = measured[node.metadata.name];
      node.status.usage.cpu =
          Quantity::from_milli(m.first + node.status.allocatable.cpu.milli * range(0, 5) / 100);
      node.status.usage.memory =
          Quantity::from_milli(m.second + node.status.allocatable.memory.milli * range(0, 5) / 100);
    }
    return w;
  }

 private:
  std::mt19937 rng_;
};

// ---- an independent view of the world -----------------------------------------

bool ready(const Node& n) {
  return n.status.phase == "Ready" && !n.status.conditions.empty() &&
         n.status.conditions[0].status == "True";
}
bool member(const World& w, const Node& n) {
  return scheduler::pool_selects(w.pool.spec.nodeSelector, n.metadata.labels);
}
const Node& node_named(const World& w, const std::string& name) {
  for (const Node& n : w.nodes)
    if (n.metadata.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return w.nodes.front();
}
VM& vm_named(World& w, const std::string& name) {
  for (VM& v : w.vms)
    if (v.metadata.name == name) return v;
  ADD_FAILURE() << "no vm " << name;
  return w.vms.front();
}
std::string domain(const Node& n, const std::string& key) {
  if (key.empty() || key == "corral.io/hostname") return n.metadata.name;
  auto it = n.metadata.labels.find(key);
  return it == n.metadata.labels.end() ? "" : it->second;
}

// Rᵢ per Ready member: measured usage plus the requests of VMs not Running yet.
std::map<std::string, double> loads(const World& w) {
  std::map<std::string, std::pair<double, double>> extra;
  for (const VM& v : w.vms)
    if (v.status.phase != "Running" && !v.spec.nodeName.empty()) {
      extra[v.spec.nodeName].first += static_cast<double>(v.spec.resources.cpu.milli);
      extra[v.spec.nodeName].second += static_cast<double>(v.spec.resources.memory.milli);
    }
  std::map<std::string, double> out;
  for (const Node& n : w.nodes) {
    if (!member(w, n) || !ready(n)) continue;
    const auto& e = extra[n.metadata.name];
    out[n.metadata.name] = std::max(
        (static_cast<double>(n.status.usage.cpu.milli) + e.first) / n.status.allocatable.cpu.milli,
        (static_cast<double>(n.status.usage.memory.milli) + e.second) /
            n.status.allocatable.memory.milli);
  }
  return out;
}
double mean_of(const std::map<std::string, double>& r) {
  double s = 0;
  for (const auto& [_, x] : r) s += x;
  return r.empty() ? 0 : s / static_cast<double>(r.size());
}
double max_dev(const std::map<std::string, double>& r) {
  const double l = mean_of(r);
  double m = 0;
  for (const auto& [_, x] : r) m = std::max(m, std::abs(x - l));
  return m;
}

// Σ requests ≤ allocatable × overcommit on every node that holds VMs, and
// required anti-affinity, with `extra` (a replacement starting) counted too.
void check_placement_rules(const World& w, const std::vector<const VM*>& extra,
                           const std::string& when) {
  std::map<std::string, std::pair<int64_t, int64_t>> req;
  std::map<std::string, std::map<std::string, int>> aa;  // set → domain → replicas
  std::vector<const VM*> all;
  for (const VM& v : w.vms) all.push_back(&v);
  all.insert(all.end(), extra.begin(), extra.end());
  for (const VM* v : all) {
    if (!scheduler::holds_place(*v)) continue;
    req[v->spec.nodeName].first += v->spec.resources.cpu.milli;
    req[v->spec.nodeName].second += v->spec.resources.memory.milli;
    const std::string set = scheduler::owning_vmset(*v);
    for (const VMSet& s : w.sets) {
      if (s.metadata.name != set || !s.spec.antiAffinity) continue;
      const std::string d =
          domain(node_named(w, v->spec.nodeName), s.spec.antiAffinity->topologyKey);
      if (!d.empty()) ++aa[set][d];
    }
  }
  for (const auto& [node, r] : req) {
    const Node& n = node_named(w, node);
    if (!member(w, n)) continue;
    EXPECT_LE(r.first,
              scheduler::overcommitted(n.status.allocatable.cpu.milli, w.pool.spec.overcommit.cpu))
        << when << ": cpu over on " << node;
    EXPECT_LE(r.second, scheduler::overcommitted(n.status.allocatable.memory.milli,
                                                 w.pool.spec.overcommit.memory))
        << when << ": memory over on " << node;
  }
  for (const auto& [set, by_domain] : aa)
    for (const auto& [d, count] : by_domain)
      EXPECT_LE(count, 1) << when << ": " << set << " has " << count << " replicas in " << d;
}

// Max skew of a spread set over its eligible domains (a Ready, uncordoned member).
int spread_skew(const World& w, const VMSet& s) {
  const std::string& key = s.spec.spread->topologyKey;
  std::map<std::string, int> count;
  for (const Node& n : w.nodes) {
    const std::string d = domain(n, key);
    if (member(w, n) && ready(n) && !n.spec.unschedulable && !d.empty()) count.emplace(d, 0);
  }
  for (const VM& v : w.vms) {
    if (!scheduler::holds_place(v) || scheduler::owning_vmset(v) != s.metadata.name) continue;
    auto it = count.find(domain(node_named(w, v.spec.nodeName), key));
    if (it != count.end()) ++it->second;
  }
  if (count.empty()) return 0;
  auto [lo, hi] = std::minmax_element(
      count.begin(), count.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  return hi->second - lo->second;
}

struct Coverage {
  int plans_with_moves = 0;
  int moves = 0;
  int converged = 0;
  int budget_blocks = 0;
  int anti_affinity_moves = 0;
  int spread_moves = 0;
  int lower_bound_checks = 0;
  int strict_checks = 0;       // plans with moves, re-planned with the moved VMs movable
  int strict_second_hops = 0;  // …where the second plan moved one of them again
} coverage;

void check(World w, const std::map<std::string, int32_t>& budgets) {
  std::set<std::string> actionable;
  for (const Node& n : w.nodes) actionable.insert(n.metadata.name);
  const Plan plan = plan_world(w, actionable, -1, budgets, 0);
  ASSERT_NE(plan.stopped, "maxMoves reached");
  const double min_gain = w.pool.spec.rebalance.minGain;
  std::map<std::string, int> skew_before;
  for (const VMSet& s : w.sets)
    if (s.spec.spread) skew_before[s.metadata.name] = spread_skew(w, s);

  if (!plan.moves.empty()) ++coverage.plans_with_moves;
  coverage.budget_blocks += static_cast<int>(plan.blocked_by_budget.size());
  std::map<std::string, int32_t> left = budgets;
  for (const Move& m : plan.moves) {
    ++coverage.moves;
    const std::string when = "move " + m.vm + " " + m.from + "→" + m.to;
    EXPECT_GE(m.gain, min_gain) << when;  // (4), as the planner reports it
    EXPECT_GT(--left[m.vmset], -1) << when << ": budget of " << m.vmset << " overspent";
    VM& vm = vm_named(w, m.vm);
    ASSERT_EQ(vm.spec.nodeName, m.from) << when;
    EXPECT_EQ(vm.status.phase, "Running") << when;
    auto moved_at = vm.metadata.annotations.find(std::string(kMovedAtAnnotation));
    if (moved_at != vm.metadata.annotations.end()) {
      std::chrono::system_clock::time_point at;
      ASSERT_TRUE(parse_time(moved_at->second, &at));
      EXPECT_GE(test_now(), at + std::chrono::seconds(w.pool.spec.rebalance.cooldownSeconds))
          << when << ": moved in cooldown";
    }
    for (const VMSet& s : w.sets)
      if (s.metadata.name == m.vmset) {
        coverage.anti_affinity_moves += s.spec.antiAffinity.has_value();
        coverage.spread_moves += s.spec.spread.has_value();
      }
    const Node& to = node_named(w, m.to);
    EXPECT_TRUE(ready(to) && !to.spec.unschedulable && member(w, to)) << when;
    // (2) while the replacement starts beside it.
    VM replacement = vm;
    replacement.metadata.name += "-replacement";
    replacement.spec.nodeName = m.to;
    check_placement_rules(w, {&replacement}, when + " (in flight)");
    // Apply: the VM's measured usage leaves `from` and arrives on `to`.
    const auto before = loads(w);
    for (Node& n : w.nodes) {
      const int sign = n.metadata.name == m.from ? -1 : n.metadata.name == m.to ? 1 : 0;
      n.status.usage.cpu.milli += sign * vm.status.usage.cpu.milli;
      n.status.usage.memory.milli += sign * vm.status.usage.memory.milli;
    }
    vm.spec.nodeName = m.to;
    const auto after = loads(w);
    check_placement_rules(w, {}, when);
    // (1) and (4), recomputed here.
    EXPECT_LE(max_dev(after), max_dev(before) + 1e-9) << when;
    const double lb = mean_of(before), la = mean_of(after);
    const double gain = std::max(std::abs(before.at(m.from) - lb), std::abs(before.at(m.to) - lb)) -
                        std::max(std::abs(after.at(m.from) - la), std::abs(after.at(m.to) - la));
    EXPECT_GE(gain, min_gain - 1e-9) << when;
    EXPECT_NEAR(gain, m.gain, 1e-6) << when;
  }
  for (const VMSet& s : w.sets) {
    if (s.spec.spread && skew_before[s.metadata.name] <= s.spec.spread->maxSkew) {
      EXPECT_LE(spread_skew(w, s), s.spec.spread->maxSkew) << s.metadata.name;
    }
  }
  // (5) The bound's theorem (lower_bound.h) covers plans that move the mean by
  // at most Options::lower_bound_mean_slack.
  if (plan.stopped == "every node in band") {
    ++coverage.converged;
    if (std::abs(plan.mean_after - plan.mean_before) <= Options{}.lower_bound_mean_slack) {
      ++coverage.lower_bound_checks;
      EXPECT_GE(static_cast<int32_t>(plan.moves.size()), plan.lower_bound);
    }
  }
  // (3) the same planner on the result finds nothing more to do among the VMs
  // it did not just move. Strictly (the moved ones movable again, as they are
  // once Running and out of cooldown) it may still find a second hop for one
  // of them; that is counted, and bounded below.
  std::string first_moves;
  for (const Move& m : plan.moves) first_moves += m.vm + " " + m.from + "→" + m.to + "; ";
  const Plan strict = plan_world(w, actionable, -1, left, 0);
  if (!plan.moves.empty()) ++coverage.strict_checks;
  if (!strict.moves.empty()) {
    ++coverage.strict_second_hops;
    bool only_moved = false;
    for (const Move& m : plan.moves) only_moved |= m.vm == strict.moves[0].vm;
    EXPECT_TRUE(only_moved) << "[" << first_moves << "] second plan starts with "
                            << strict.moves[0].vm << ", which the first plan did not move";
  }
  for (const Move& m : plan.moves)
    vm_named(w, m.vm).metadata.annotations[std::string(kMovedAtAnnotation)] =
        format_time(test_now());
  const Plan again = plan_world(w, actionable, -1, left, 0);
  EXPECT_TRUE(again.moves.empty())
      << "[" << first_moves << "] second plan moved " << again.moves.size()
      << ", first: " << plan.moves.size() << " (" << plan.stopped << "), then "
      << (again.moves.empty()
              ? ""
              : again.moves[0].vm + " " + again.moves[0].from + "→" + again.moves[0].to);
}

TEST(RebalanceProperty, InvariantsHoldOnRandomPools) {
  Gen gen(kSeed);
  coverage = {};
  for (int i = 0; i < kPools; ++i) {
    SCOPED_TRACE("pool " + std::to_string(i) + " (seed " + std::to_string(kSeed) + ")");
    std::map<std::string, int32_t> budgets;
    World w = gen.world(budgets);
    check(w, budgets);
    if (::testing::Test::HasFailure()) return;
  }
  std::printf(
      "coverage: %d plans with moves, %d moves, %d converged, %d budget blocks, %d anti-affinity "
      "moves, %d spread moves, %d lower-bound checks, %d/%d second hops\n",
      coverage.plans_with_moves, coverage.moves, coverage.converged, coverage.budget_blocks,
      coverage.anti_affinity_moves, coverage.spread_moves, coverage.lower_bound_checks,
      coverage.strict_second_hops, coverage.strict_checks);
  // Far below what the seed produces, well above zero: a generator that stops
  // producing interesting pools fails here instead of passing vacuously.
  EXPECT_GT(coverage.plans_with_moves, kPools / 3);
  EXPECT_GT(coverage.converged, kPools / 10);
  EXPECT_GT(coverage.budget_blocks, 0);
  EXPECT_GT(coverage.anti_affinity_moves, 10);
  EXPECT_GT(coverage.spread_moves, 10);
  EXPECT_GT(coverage.lower_bound_checks, kPools / 20);
  // Known gap (planner.h): a VM moves at most once per plan. A second hop for
  // a just-moved VM is rare; more than 1 in 10 plans would mean the greedy
  // picks its targets badly.
  EXPECT_LE(coverage.strict_second_hops * 10, coverage.strict_checks);
}

}  // namespace rebalance_property_test
}  // namespace corral::rebalance
