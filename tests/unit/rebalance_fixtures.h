// Builders for the rebalance planner tests: a pool with its nodes, VMSets and
// VMs, each with measured usage, and one call that plans a round the way the
// controller's loop and `corralctl rebalance plan` do (typed objects →
// build_plan_input + ClusterSnapshot::build → plan_moves).
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/planner.h"
#include "tests/unit/scheduler_fixtures.h"

namespace corral::rebalance::testing {

using scheduler::testing::cores;
using scheduler::testing::gib;

// A fixed instant, so cooldown arithmetic is stable.
inline std::chrono::system_clock::time_point test_now() {
  std::chrono::system_clock::time_point t;
  parse_time("2026-11-27T09:00:00Z", &t);
  return t;
}

// A Ready node measured at `usage_cpu` cores and `usage_gib` GiB.
inline Node loaded_node(const std::string& name, double cpu, int64_t memory_gib, double usage_cpu,
                        double usage_gib, Labels labels = {}) {
  Node n = scheduler::testing::make_node(name, cpu, memory_gib, std::move(labels));
  n.status.usage.cpu = cores(usage_cpu);
  n.status.usage.memory = Quantity::from_milli(static_cast<int64_t>(
      usage_gib * static_cast<double>(scheduler::testing::kGi) * scheduler::testing::kMilli));
  return n;
}

// A Running VM of `set` on `node` (in its epoch), measured at `usage_cpu` cores.
inline VM running_vm(const std::string& name, const std::string& set, double cpu,
                     int64_t memory_gib, const std::string& node, double usage_cpu,
                     double usage_gib = 0) {
  VM v = scheduler::testing::make_vm(name, set, cpu, memory_gib, node, "Running");
  v.status.usage.cpu = cores(usage_cpu);
  v.status.usage.memory = Quantity::from_milli(static_cast<int64_t>(
      usage_gib * static_cast<double>(scheduler::testing::kGi) * scheduler::testing::kMilli));
  return v;
}

inline Pool rebalance_pool(const std::string& name, double max_imbalance = 0.20,
                           double high_watermark = 0.85, double min_gain = 0.05) {
  Pool p = scheduler::testing::make_pool(name);
  p.spec.rebalance.enabled = true;
  p.spec.rebalance.maxImbalance = max_imbalance;
  p.spec.rebalance.highWatermark = high_watermark;
  p.spec.rebalance.minGain = min_gain;
  return p;
}

struct World {
  Pool pool;
  std::vector<Node> nodes;
  std::vector<VMSet> sets;
  std::vector<VM> vms;
};

// Every set gets a budget of `budget` unless `budgets` names it.
inline Plan plan_world(const World& w, std::set<std::string> actionable, int32_t max_moves = -1,
                       std::map<std::string, int32_t> budgets = {}, int32_t budget = 100,
                       std::chrono::system_clock::time_point now = test_now()) {
  for (const VMSet& s : w.sets) budgets.emplace(s.metadata.name, budget);
  PlanInput in = build_plan_input(w.pool, w.nodes, w.sets, w.vms, now, std::move(actionable),
                                  std::move(budgets), max_moves);
  auto snapshot = scheduler::ClusterSnapshot::build(w.nodes, {w.pool}, w.sets, w.vms);
  return plan_moves(in, snapshot);
}

}  // namespace corral::rebalance::testing
