#include "controller/rebalance/planner.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <set>

#include "controller/rebalance/load_model.h"
#include "controller/rebalance/lower_bound.h"
#include "controller/rebalance/move_checker.h"

namespace corral::rebalance {
namespace {

constexpr uint32_t kNone = LoadModel::kNone;

struct Candidate {
  uint32_t vm = kNone;
  uint32_t from = kNone;
  uint32_t to = kNone;
  uint32_t partner = kNone;  // the node that is not the worst one
  LoadModel::Effect effect;
  double gain = 0;
  double size = 0;  // the VM's share of the worst node's capacity
  bool settles = false;
};

// Step 3 of planner.h.
bool ranks_before(const Candidate& a, const Candidate& b) {
  if (a.settles != b.settles) return a.settles;
  if (a.settles && a.size != b.size) return a.size > b.size;
  if (a.gain != b.gain) return a.gain > b.gain;
  if (a.size != b.size) return a.size > b.size;
  if (a.vm != b.vm) return a.vm < b.vm;  // VMs are indexed in name order
  return a.partner < b.partner;          // and so are nodes
}

std::string fixed2(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", std::abs(x));
  return buf;
}

std::string out_of_band_reason(const LoadModel& m, uint32_t node) {
  const RebalancePolicy& p = m.policy();
  const double r = m.load(node);
  const double d = m.deviation(node);
  const std::string& n = m.name(node);
  if (r > p.highWatermark)
    return "node " + n + " load " + fixed2(r) + " > highWatermark " + fixed2(p.highWatermark);
  if (d > 0)
    return "node " + n + " +" + fixed2(d) + " over mean " + fixed2(m.mean()) + " (maxImbalance " +
           fixed2(p.maxImbalance) + ")";
  return "node " + n + " \u2212" + fixed2(d) + " under mean " + fixed2(m.mean()) +
         " (maxImbalance " + fixed2(p.maxImbalance) + ")";
}

std::vector<NodeReport> report(const LoadModel& m) {
  std::vector<NodeReport> out;
  out.reserve(m.size());
  for (uint32_t i = 0; i < m.size(); ++i)
    out.push_back(NodeReport{m.name(i), m.load(i), m.deviation(i), m.in_band(i)});
  return out;
}

class Planner {
 public:
  Planner(const PlanInput& input, scheduler::ClusterSnapshot& snapshot, const Options& options)
      : input_(input), options_(options), model_(input), checker_(snapshot) {
    const auto& snap = checker_.snapshot();
    snapshot_index_.resize(model_.size(), scheduler::kNoIndex);
    for (uint32_t i = 0; i < model_.size(); ++i)
      if (const scheduler::NodeInfo* n = snap.node(model_.name(i))) snapshot_index_[i] = n->index;
    movable_.resize(input.vms.size());
    for (uint32_t v = 0; v < input.vms.size(); ++v)
      movable_[v] = input.vms[v].movable && model_.node_of(v) != kNone;
    budget_ = input.budget_left;
    // An upper bound on the gain of moving each VM anywhere (evaluate()):
    // gain ≤ max(shareₐ, share_b) + (shareₐ + share_b)/n, and no node's share
    // of a VM exceeds its share of the smallest allocatable.
    int64_t min_cpu = 0, min_memory = 0;
    for (uint32_t i = 0; i < model_.size(); ++i) {
      const int64_t c = model_.allocatable_cpu(i), m = model_.allocatable_memory(i);
      if (c > 0 && (min_cpu == 0 || c < min_cpu)) min_cpu = c;
      if (m > 0 && (min_memory == 0 || m < min_memory)) min_memory = m;
    }
    const double n = static_cast<double>(std::max<size_t>(model_.size(), 1));
    max_gain_.resize(input.vms.size());
    for (uint32_t v = 0; v < input.vms.size(); ++v) {
      double share = 0;
      if (min_cpu > 0) share = std::max(share, static_cast<double>(model_.vm_cpu(v)) / min_cpu);
      if (min_memory > 0)
        share = std::max(share, static_cast<double>(model_.vm_memory(v)) / min_memory);
      max_gain_[v] = share * (1 + 2 / n) * (1 + 1e-9);
    }
  }

  // Whether `vm` may move and could gain minGain somewhere, and its set has
  // budget left or has not been reported blocked yet.
  bool worth_trying(uint32_t vm) const {
    if (!movable_[vm] || max_gain_[vm] < model_.policy().minGain) return false;
    const std::string& set = input_.vms[vm].vmset;
    return has_budget(set) || !blocked_sets_.count(set);
  }
  bool has_budget(const std::string& set) const {
    auto it = budget_.find(set);
    return it != budget_.end() && it->second > 0;
  }

  Plan run() {
    Plan plan;
    plan.mean_before = model_.mean();
    plan.max_deviation_before = model_.max_deviation();
    plan.nodes_before = report(model_);
    plan.lower_bound = lower_bound(model_, movable_, options_.lower_bound_mean_slack);
    if (!anything_actionable()) {
      plan.stopped = "nothing actionable";
    } else {
      plan.stopped = loop(plan);
    }
    plan.mean_after = model_.mean();
    plan.max_deviation_after = model_.max_deviation();
    plan.nodes_after = report(model_);
    return plan;
  }

 private:
  bool anything_actionable() const {
    for (uint32_t i = 0; i < model_.size(); ++i) {
      if (model_.in_band(i)) continue;
      if (model_.load(i) > model_.policy().highWatermark) return true;
      if (input_.actionable.count(model_.name(i))) return true;
    }
    return false;
  }

  std::string loop(Plan& plan) {
    const size_t max_moves =
        input_.max_moves < 0 ? SIZE_MAX : static_cast<size_t>(input_.max_moves);
    std::vector<bool> stuck(model_.size(), false);
    while (true) {
      if (plan.moves.size() >= max_moves) return "maxMoves reached";
      const uint32_t worst = pick_worst(stuck);
      if (worst == kNone) {
        for (uint32_t i = 0; i < model_.size(); ++i)
          if (!model_.in_band(i)) return "no move gains minGain";
        return "every node in band";
      }
      std::vector<Candidate> candidates = is_over(worst) ? relieve(worst) : fill(worst);
      // choose() looks at the best max_candidates_checked only; ranks_before
      // is a total order, so their order is a full sort's.
      const size_t ranked = std::min(candidates.size(), options_.max_candidates_checked);
      std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(ranked),
                        candidates.end(), ranks_before);
      const Candidate* chosen = choose(candidates, plan);
      if (chosen == nullptr) {
        stuck[worst] = true;
        continue;
      }
      plan.moves.push_back(commit(*chosen, worst));
      stuck.assign(model_.size(), false);  // loads changed: every node gets another try
    }
  }

  bool is_over(uint32_t node) const {
    return model_.deviation(node) > 0 || model_.load(node) > model_.policy().highWatermark;
  }

  // The out-of-band node with the largest excess, not set aside; ties to the
  // smaller name. Excess grows towards both ends of the load order, so each
  // end is walked only past set-aside nodes.
  uint32_t pick_worst(const std::vector<bool>& stuck) const {
    const auto& order = model_.by_load();
    uint32_t best = kNone;
    double best_excess = 0;
    auto consider = [&](uint32_t i) {
      const double e = model_.excess(i);
      if (e <= 0) return;
      if (best == kNone || e > best_excess || (e == best_excess && i < best)) {
        best = i;
        best_excess = e;
      }
    };
    for (auto it = order.rbegin(); it != order.rend() && model_.excess(it->second) > 0; ++it) {
      if (stuck[it->second]) continue;
      // Equal loads further down have smaller names: take the smallest.
      for (auto eq = it; eq != order.rend() && eq->first == it->first; ++eq)
        if (!stuck[eq->second]) consider(eq->second);
      break;
    }
    for (auto it = order.begin(); it != order.end() && model_.excess(it->second) > 0; ++it) {
      if (stuck[it->second]) continue;
      consider(it->second);  // equal loads: the first has the smallest name
      break;
    }
    return best;
  }

  // Load-only checks of moving `vm` from its node to `to`; fills `c` when the
  // move gains enough without raising the pool's max deviation.
  bool evaluate(uint32_t vm, uint32_t to, uint32_t worst, Candidate& c) const {
    const uint32_t from = model_.node_of(vm);
    const double mean = model_.mean();
    const LoadModel::Effect e = model_.effect(vm, to);
    const double before =
        std::max(std::abs(model_.load(from) - mean), std::abs(model_.load(to) - mean));
    const double after = std::max(std::abs(e.from_load - e.mean), std::abs(e.to_load - e.mean));
    const double gain = before - after;
    if (gain <= 0 || gain < model_.policy().minGain) return false;
    if (e.max_deviation > model_.max_deviation()) return false;
    c.vm = vm;
    c.from = from;
    c.to = to;
    c.partner = worst == from ? to : from;
    c.effect = e;
    c.gain = gain;
    c.size = model_.share(vm, worst);
    const double worst_after = worst == from ? e.from_load : e.to_load;
    const double partner_after = worst == from ? e.to_load : e.from_load;
    c.settles = model_.excess_at(worst_after, e.mean) <= 0 &&
                model_.excess_at(partner_after, e.mean) <= std::max(0.0, model_.excess(c.partner));
    return true;
  }

  // The worst node is above the band: its VMs, on the least loaded nodes.
  std::vector<Candidate> relieve(uint32_t from) const {
    std::vector<Candidate> out;
    const double from_load = model_.load(from);
    for (uint32_t vm : model_.vms_on(from)) {
      if (!worth_trying(vm)) continue;
      size_t scanned = 0;
      for (const auto& [load, to] : model_.by_load()) {
        if (load >= from_load || scanned++ >= options_.max_targets_scanned) break;
        if (to == from || snapshot_index_[to] == scheduler::kNoIndex) continue;
        Candidate c;
        if (evaluate(vm, to, from, c)) out.push_back(c);
      }
    }
    return out;
  }

  // The worst node is below the band: VMs of the most loaded nodes, onto it.
  std::vector<Candidate> fill(uint32_t to) const {
    std::vector<Candidate> out;
    if (snapshot_index_[to] == scheduler::kNoIndex) return out;
    const double to_load = model_.load(to);
    size_t scanned = 0;
    const auto& order = model_.by_load();
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
      const uint32_t from = it->second;
      if (it->first <= to_load || scanned++ >= options_.max_sources_scanned) break;
      for (uint32_t vm : model_.vms_on(from)) {
        if (!worth_trying(vm)) continue;
        Candidate c;
        if (evaluate(vm, to, to, c)) out.push_back(c);
      }
    }
    return out;
  }

  // Step 4 of planner.h: the best candidate the filters allow and the budget pays for.
  const Candidate* choose(const std::vector<Candidate>& ranked, Plan& plan) {
    const size_t limit = std::min(ranked.size(), options_.max_candidates_checked);
    for (size_t i = 0; i < limit; ++i) {
      const Candidate& c = ranked[i];
      const VmState& vm = input_.vms[c.vm];
      // A set is reported blocked once per plan; the filters below only
      // decide whether it is, so once it is its candidates are skipped
      // unchecked (with every set's budget in use, as while a round's moves
      // run, that is most candidates — and worth_trying() drops them next step).
      const bool no_budget = !has_budget(vm.vmset);
      if (no_budget && blocked_sets_.count(vm.vmset)) continue;
      const uint32_t to = snapshot_index_[c.to];
      // The snapshot must agree on where the VM is, or the filters would
      // judge another cluster than the load model (asked here, for the few
      // candidates that get this far, rather than for every VM up front).
      const scheduler::NodeInfo* at = checker_.snapshot().node_of_vm(vm.name);
      if (at == nullptr || at->index != snapshot_index_[c.from]) continue;
      checker_.prepare(vm.request);
      if (!checker_.fits_in_place(vm.request, to)) continue;
      std::vector<uint32_t> targets{to};
      checker_.keep_end_state_fits(vm.request, snapshot_index_[c.from], targets);
      if (targets.empty()) continue;
      if (no_budget) {
        blocked_sets_.insert(vm.vmset);
        plan.blocked_by_budget.push_back(BudgetBlock{vm.name, vm.vmset});
        continue;
      }
      return &c;
    }
    return nullptr;
  }

  Move commit(const Candidate& c, uint32_t worst) {
    const VmState& vm = input_.vms[c.vm];
    Move m;
    m.vm = vm.name;
    m.vmset = vm.vmset;
    m.from = model_.name(c.from);
    m.to = model_.name(c.to);
    m.reason = out_of_band_reason(model_, worst);
    m.from_deviation_before = model_.deviation(c.from);
    m.to_deviation_before = model_.deviation(c.to);
    m.from_deviation_after = c.effect.from_load - c.effect.mean;
    m.to_deviation_after = c.effect.to_load - c.effect.mean;
    m.gain = c.gain;
    model_.apply(c.vm, c.to);
    checker_.apply(vm.request, snapshot_index_[c.to]);
    --budget_[vm.vmset];
    movable_[c.vm] = false;  // its replacement is not Running yet
    return m;
  }

  const PlanInput& input_;
  const Options& options_;
  LoadModel model_;
  MoveChecker checker_;
  std::vector<uint32_t> snapshot_index_;  // model node → snapshot node index
  std::vector<bool> movable_;
  std::vector<double> max_gain_;  // per VM: no move of it gains more
  std::map<std::string, int32_t> budget_;
  std::set<std::string> blocked_sets_;  // VMSets reported in Plan::blocked_by_budget
};

}  // namespace

Plan plan_moves(const PlanInput& input, scheduler::ClusterSnapshot& snapshot,
                const Options& options) {
  Planner planner(input, snapshot, options);
  return planner.run();  // the checker restores the snapshot when the planner goes
}

Plan plan_moves_on_copy(const PlanInput& input, const scheduler::ClusterSnapshot& snapshot,
                        const Options& options) {
  scheduler::ClusterSnapshot copy = snapshot;
  return plan_moves(input, copy, options);
}

}  // namespace corral::rebalance
