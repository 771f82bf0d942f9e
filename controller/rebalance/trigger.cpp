#include "controller/rebalance/trigger.h"

#include <algorithm>
#include <cmath>

#include "api/annotations.h"
#include "controller/reconcile/common.h"
#include "controller/reconcile/moves.h"
#include "controller/scheduler/snapshot.h"

namespace corral::rebalance {

bool out_of_band(double load, double mean, const RebalancePolicy& policy) {
  return std::abs(load - mean) > policy.maxImbalance || load > policy.highWatermark;
}

PoolLoads pool_loads(const Pool& pool, const std::vector<Node>& nodes) {
  PoolLoads out;
  out.pool = pool.metadata.name;
  out.policy = pool.spec.rebalance;
  for (const Node& n : nodes) {
    if (!reconcile::pool_selects(pool, n) || !node_ready(n)) continue;
    out.members.push_back(MemberLoad{n.metadata.name, reconcile::node_load(n)});
  }
  return out;
}

TriggerDecision decide_rounds(const std::vector<PoolLoads>& pools, TriggerState state,
                              SteadyTime now) {
  TriggerDecision out;
  std::set<std::pair<std::string, std::string>> seen;
  for (const PoolLoads& pool : pools) {
    const RebalancePolicy& policy = pool.policy;
    if (!policy.enabled || pool.members.empty()) continue;
    double sum = 0;
    for (const MemberLoad& m : pool.members) sum += m.load;
    const double mean = sum / static_cast<double>(pool.members.size());
    std::set<std::string> actionable;
    for (const MemberLoad& m : pool.members) {
      if (!out_of_band(m.load, mean, policy)) continue;
      auto key = std::make_pair(pool.pool, m.node);
      seen.insert(key);
      const SteadyTime since = state.out_of_band_since.emplace(key, now).first->second;
      if (now - since >= std::chrono::seconds(policy.holdSeconds) ||
          m.load > policy.highWatermark)
        actionable.insert(m.node);
    }
    if (actionable.empty()) continue;
    auto last = state.last_round.find(pool.pool);
    if (last != state.last_round.end() &&
        now - last->second < std::chrono::seconds(policy.intervalSeconds))
      continue;
    state.last_round[pool.pool] = now;
    out.rounds.push_back(Round{pool.pool, std::move(actionable)});
  }
  // Nodes back inside the band (or no longer in an enabled pool) start over.
  std::erase_if(state.out_of_band_since, [&](const auto& kv) { return !seen.count(kv.first); });
  out.state = std::move(state);
  return out;
}

std::map<std::string, int32_t> rebalance_moves_in_flight(const std::vector<VM>& vms,
                                                         const std::vector<VMSet>& vmsets) {
  std::map<std::string, const VMSet*> sets;
  for (const VMSet& s : vmsets) sets.emplace(s.metadata.name, &s);
  std::map<std::string, int32_t> out;
  for (const VM& vm : vms) {
    if (!reconcile::is_replacement(vm) || reconcile::annotation(vm, kTargetNodeAnnotation).empty())
      continue;
    auto set = sets.find(scheduler::owning_vmset(vm));
    if (set != sets.end()) ++out[set->second->spec.pool];
  }
  return out;
}

int32_t moves_that_fit(const RebalancePolicy& policy, int32_t in_flight, size_t pass_room) {
  const int32_t by_policy = policy.maxMovesPerRound - in_flight;
  const size_t cap = std::min<size_t>(pass_room, static_cast<size_t>(INT32_MAX));
  return std::min<int32_t>(by_policy, static_cast<int32_t>(cap));
}

TriggerState restart_holds(TriggerState state, const std::set<std::string>& nodes) {
  std::erase_if(state.out_of_band_since,
                [&](const auto& kv) { return nodes.count(kv.first.second) > 0; });
  return state;
}

}  // namespace corral::rebalance
