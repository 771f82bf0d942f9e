#include "controller/loops/move_loop.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <optional>
#include <functional>
#include <set>
#include <vector>

#include "api/annotations.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/reconcile/common.h"
#include "controller/reconcile/disruption.h"
#include "controller/reconcile/endpoints.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/planner.h"
#include "controller/scheduler/snapshot.h"

namespace corral::loops {
namespace {

ObjectReference ref_of(const VMSet& set) {
  return ObjectReference{VMSet::kKind, set.metadata.name, set.metadata.uid};
}
ObjectReference ref_of(const Node& node) {
  return ObjectReference{Node::kKind, node.metadata.name, node.metadata.uid};
}

std::string signed_fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", v);
  return buf;
}

// The move-reason annotation and the Events' text: why, and what it does to
// both nodes' deviation from the mean.
std::string describe_move(const rebalance::Move& m) {
  char gain[32];
  std::snprintf(gain, sizeof gain, "%.2f", m.gain);
  return "rebalance: " + m.reason + "; node/" + m.from + " " +
         signed_fixed(m.from_deviation_before) + "→" + signed_fixed(m.from_deviation_after) +
         ", node/" + m.to + " " + signed_fixed(m.to_deviation_before) + "→" +
         signed_fixed(m.to_deviation_after) + " (gain " + gain + ")";
}

}  // namespace

MoveLoop::MoveLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
                   WriterPool& writers, const Clock& clock, MoveLoopOptions options)
    : store_(store),
      cache_(cache),
      events_(events),
      writers_(writers),
      clock_(clock),
      options_(std::move(options)),
      rng_(std::random_device{}()) {}

void MoveLoop::observe(const CacheDelta& delta) {
  // Balancers: a drain the data plane reports done lets a held move complete.
  if (delta.resynced || !delta.vms.empty() || !delta.nodes.empty() || !delta.pools.empty() ||
      !delta.balancers.empty())
    dirty_ = true;
}

MovePassStats MoveLoop::run_once() {
  MovePassStats stats;
  const auto steady = clock_.steady_now();
  const auto since = steady - last_pass_;
  if (since < options_.idle_period && (!dirty_ || since < options_.min_period)) return stats;
  dirty_ = false;
  last_pass_ = steady;
  const auto now = clock_.now();
  const std::vector<VM>& vms = cache_.vms().items();
  auto log = logger("moves");

  // ---- decide (pure) -----------------------------------------------------------
  std::vector<reconcile::MoveStep> steps = reconcile::progress_moves(vms, now, options_.moves);
  hold_for_drains(steps, now);
  // Budgets cost a pass over every VM: only when a drain or a rebalancer may use them.
  const bool draining = std::any_of(cache_.nodes().items().begin(), cache_.nodes().items().end(),
                                    [](const Node& n) { return n.spec.drain; });
  const bool rebalancing =
      std::any_of(cache_.pools().items().begin(), cache_.pools().items().end(),
                  [](const Pool& p) { return p.spec.rebalance.enabled; });
  std::map<std::string, reconcile::DisruptionBudget> budgets;
  if (draining || rebalancing) budgets = reconcile::disruption_budgets(cache_.vmsets().items(), vms);
  reconcile::DrainPlan drains;
  if (draining)
    drains = reconcile::plan_drains(cache_.nodes().items(), vms, budgets,
                                    options_.max_starts_per_pass);
  std::vector<Start> starts;
  for (const reconcile::DrainStart& d : drains.start)
    starts.push_back(Start{d.vm, "", d.reason, d.vmset});
  const size_t room = options_.max_starts_per_pass - std::min(options_.max_starts_per_pass,
                                                              starts.size());
  if (rebalancing)
    for (Start& s : plan_rebalance(budgets, room, stats)) starts.push_back(std::move(s));
  else
    out_of_band_since_.clear();

  // ---- write -------------------------------------------------------------------
  struct Write {
    std::string what;
    std::function<Result<store::RecordPtr>()> fn;
    std::function<void()> on_success;  // events, after the write landed
    Result<store::RecordPtr> result = store::RecordPtr{};
    store::RecordPtr stripped;  // kComplete: the replacement as rewritten, for the cache
    bool is_delete = false;
    bool is_create = false;
  };
  std::deque<Write> writes;

  // Strips a finished move's marks so the replacement is an ordinary replica
  // again (the scheduler must be free to re-place it anywhere if its node
  // dies). A copy from the cache, written with its resourceVersion: if the
  // agent reported meanwhile, the Conflict leaves it to the next pass.
  auto stripped = [this](const std::string& name) -> std::optional<Json> {
    const VM* cached = cache_.vm(name);
    if (!cached) return std::nullopt;
    VM vm = *cached;
    vm.metadata.annotations.erase(std::string(kReplacesAnnotation));
    vm.metadata.annotations.erase(std::string(kTargetNodeAnnotation));
    return to_json(vm);
  };

  for (const reconcile::MoveStep& step : steps) {
    const VMSet* set = cache_.vmset(step.vmset);
    auto record = [this, set_ref = set ? ref_of(*set) : ObjectReference{},
                   node = step.to](const std::string& type, const std::string& reason,
                                   const std::string& message) {
      if (!set_ref.name.empty()) (void)events_.record(set_ref, type, reason, message, node);
    };
    switch (step.kind) {
      case reconcile::MoveStepKind::kComplete: {
        log->info("move complete: {}", step.message);
        writes.push_back(Write{"delete vm/" + step.old_vm, {},
                               [record, step] { record("Normal", "Moved", step.message); }});
        Write& w = writes.back();  // a deque: stays where it is as writes grow
        w.fn = [this, step, replacement = stripped(step.replacement),
                out = &w.stripped]() -> Result<store::RecordPtr> {
                  auto removed = store_.remove(VM::kKind, step.old_vm,
                                               store::Preconditions{step.old_uid, ""});
                  if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
                  // The move is over: the replacement becomes an ordinary replica.
                  if (replacement) {
                    auto updated = store_.update(VM::kKind, *replacement);
                    if (updated) *out = std::move(*updated);
                  }
                  return removed ? std::move(*removed) : store::RecordPtr{};
                };
        w.is_delete = true;
        break;
      }
      case reconcile::MoveStepKind::kCancel: {
        log->warn("{}", step.message);
        Write w{"delete vm/" + step.replacement,
                [this, step] {
                  return store_.remove(VM::kKind, step.replacement,
                                       store::Preconditions{step.replacement_uid, ""});
                },
                [record, step] { record("Warning", "MoveFailed", step.message); }};
        w.is_delete = true;
        writes.push_back(std::move(w));
        break;
      }
      case reconcile::MoveStepKind::kFinish:
        if (auto json = stripped(step.replacement))
          writes.push_back(Write{"strip move marks of vm/" + step.replacement,
                                 [this, obj = std::move(*json)] {
                                   return store_.update(VM::kKind, obj);
                                 },
                                 {}});
        break;
    }
  }

  if (!starts.empty()) {
    std::set<std::string> taken;
    for (const VM& vm : vms) taken.insert(vm.metadata.name);
    uint64_t state = rng_();
    for (const Start& s : starts) {
      const VM* old = cache_.vm(s.old_vm);
      const VMSet* set = cache_.vmset(s.vmset);
      if (!old || !set) continue;
      const std::string name = reconcile::generate_name(
          set->metadata.name, options_.moves.name_suffix_length, state, taken);
      VM r = reconcile::replacement_for(*set, *old, name, s.target, s.reason, now);
      std::string message = "moving vm/" + s.old_vm + " off node/" + old->spec.nodeName +
                            (s.target.empty() ? "" : " to node/" + s.target) + " as vm/" +
                            name + ": " + s.reason;
      log->info("{}", message);
      Write w{"create vm/" + name,
              [this, obj = to_json(r)]() -> Result<store::RecordPtr> {
                auto normalized = normalize_object(obj);
                if (!normalized) return normalized.take_error();
                return store_.create(VM::kKind, std::move(*normalized));
              },
              [this, ref = ref_of(*set), message, host = old->spec.nodeName] {
                (void)events_.record(ref, "Normal", "MoveStarted", message, host);
              }};
      w.is_create = true;
      writes.push_back(std::move(w));
    }
  }

  std::vector<std::function<void()>> fns;
  for (Write& w : writes) fns.push_back([&w] {
    w.result = w.fn();
    if (w.result && w.on_success) w.on_success();
  });
  writers_.run_all(std::move(fns));

  for (Write& w : writes) {
    if (!w.result) {
      const ErrorCode code = w.result.error().code;
      dirty_ = true;  // look again next pass
      if (w.is_delete && code == ErrorCode::kNotFound) continue;
      if (code == ErrorCode::kConflict || code == ErrorCode::kAlreadyExists) continue;
      ++stats.errors;
      log->warn("{}: {}", w.what, w.result.error().message);
      continue;
    }
    const store::RecordPtr& r = *w.result;
    if (w.is_delete) {
      if (r) cache_.apply_deleted(VM::kKind, r->name, r->revision);
      if (w.stripped) cache_.apply(w.stripped);
    } else if (r) {
      cache_.apply(r);
    }
    if (w.is_create) ++stats.started;
  }
  for (const reconcile::MoveStep& step : steps) {
    if (step.kind == reconcile::MoveStepKind::kComplete) ++stats.completed;
    if (step.kind == reconcile::MoveStepKind::kCancel) ++stats.cancelled;
    if (step.kind == reconcile::MoveStepKind::kFinish) continue;
    // The two nodes' smoothed usage still carries the move for a few
    // heartbeats: their hold starts again, so the next plan sees settled load
    // instead of moving more off a node that is already relieved.
    std::erase_if(out_of_band_since_, [&](const auto& kv) {
      const std::string node = kv.first.substr(kv.first.find('\n') + 1);
      return node == step.from || node == step.to;
    });
  }

  // ---- drain progress: say what waits, once per change; say when done -----------
  for (const reconcile::DrainWait& w : drains.waiting) {
    std::string& last = drain_waits_[w.vm];
    if (last == w.reason) continue;
    last = w.reason;
    if (const Node* node = cache_.node(w.node))
      (void)events_.record(ref_of(*node), "Normal", "DrainWaiting", "vm/" + w.vm + ": " + w.reason,
                     w.node);
  }
  std::erase_if(drain_waits_, [&](const auto& kv) {
    for (const reconcile::DrainWait& w : drains.waiting)
      if (w.vm == kv.first) return false;
    return true;
  });
  for (const auto& [node_name, remaining] : drains.remaining) {
    const Node* node = cache_.node(node_name);
    if (!node) continue;
    if (remaining > 0) {
      drained_.erase(node_name);
    } else if (drained_.insert(node_name).second) {
      log->info("node/{} drained", node_name);
      (void)events_.record(ref_of(*node), "Normal", "Drained", "every VM moved off node/" + node_name,
                     node_name);
    }
  }
  std::erase_if(drained_, [&](const std::string& n) { return !drains.remaining.count(n); });
  return stats;
}

void MoveLoop::hold_for_drains(std::vector<reconcile::MoveStep>& steps,
                               std::chrono::system_clock::time_point now) {
  // A completing move deletes its old VM only once every Balancer that
  // publishes it has drained it (reconcile::drain_gate). Held steps are simply
  // left out of this pass: progress_moves keeps choosing kComplete while the
  // replacement stays Running and Ready, so a hold never turns into the
  // 300 s cancel (which applies only to a replacement not yet in service),
  // and drainSeconds bounds it.
  std::set<std::string> held;
  std::erase_if(steps, [&](const reconcile::MoveStep& step) {
    if (step.kind != reconcile::MoveStepKind::kComplete) return false;
    const auto held_since = held_since_.try_emplace(step.old_vm, now).first->second;
    reconcile::DrainGate gate =
        reconcile::drain_gate(step.old_vm, cache_.balancers().items(), now, held_since);
    if (gate.may_delete) return false;
    held.insert(step.old_vm);
    std::string& told = endpoint_waits_[step.old_vm];
    if (told != gate.message) {
      told = gate.message;
      const std::string message = "vm/" + step.old_vm + " is kept until its endpoint drains: " +
                                  gate.message;
      logger("moves")->info("{}", message);
      if (const VM* old = cache_.vm(step.old_vm))
        (void)events_.record(ObjectReference{VM::kKind, step.old_vm, old->metadata.uid}, "Normal",
                             "EndpointDraining", message, step.from);
    }
    return true;
  });
  std::erase_if(endpoint_waits_, [&](const auto& kv) { return !held.count(kv.first); });
  std::erase_if(held_since_, [&](const auto& kv) { return !held.count(kv.first); });
}

std::vector<MoveLoop::Start> MoveLoop::plan_rebalance(
    std::map<std::string, reconcile::DisruptionBudget>& budgets, size_t max_start,
    MovePassStats& stats) {
  std::vector<Start> out;
  const auto steady = clock_.steady_now();
  const auto now = clock_.now();
  const std::vector<Node>& nodes = cache_.nodes().items();
  const std::vector<VM>& vms = cache_.vms().items();
  std::set<std::string> seen_keys;
  for (const Pool& pool : cache_.pools().items()) {
    const RebalancePolicy& policy = pool.spec.rebalance;
    if (!policy.enabled) continue;
    const std::string& pool_name = pool.metadata.name;

    // ---- trigger: which nodes have been out of band for holdSeconds ---------------
    std::vector<std::pair<const Node*, double>> members;
    double sum = 0;
    for (const Node& n : nodes) {
      if (!reconcile::pool_selects(pool, n) || !reconcile::node_ready(n)) continue;
      const double load = reconcile::node_load(n);
      members.emplace_back(&n, load);
      sum += load;
    }
    if (members.empty()) continue;
    const double mean = sum / static_cast<double>(members.size());
    std::set<std::string> actionable;
    bool any_out = false;
    for (const auto& [n, load] : members) {
      const bool out_of_band =
          std::abs(load - mean) > policy.maxImbalance || load > policy.highWatermark;
      const std::string key = pool_name + "\n" + n->metadata.name;
      if (!out_of_band) continue;
      seen_keys.insert(key);
      any_out = true;
      auto since = out_of_band_since_.emplace(key, steady).first->second;
      if (steady - since >= std::chrono::seconds(policy.holdSeconds) ||
          load > policy.highWatermark)
        actionable.insert(n->metadata.name);
    }
    if (!any_out || actionable.empty()) continue;
    auto last = last_plan_.find(pool_name);
    if (last != last_plan_.end() &&
        steady - last->second < std::chrono::seconds(policy.intervalSeconds))
      continue;
    last_plan_[pool_name] = steady;

    // ---- room: maxMovesPerRound less this pool's rebalance moves in flight --------
    int32_t in_flight = 0;
    for (const VM& vm : vms) {
      if (!reconcile::is_replacement(vm) ||
          reconcile::annotation(vm, kTargetNodeAnnotation).empty())
        continue;
      const VMSet* set = cache_.vmset(scheduler::owning_vmset(vm));
      if (set && set->spec.pool == pool_name) ++in_flight;
    }
    int32_t room = policy.maxMovesPerRound - in_flight;
    room = std::min<int32_t>(room, static_cast<int32_t>(max_start - std::min(max_start, out.size())));
    if (room <= 0) continue;

    std::map<std::string, int32_t> budget_left;
    for (const auto& [name, b] : budgets) budget_left[name] = b.allowed();
    const std::vector<VMSet>& sets = cache_.vmsets().items();
    rebalance::PlanInput input = rebalance::build_plan_input(
        pool, nodes, sets, vms, now, actionable, std::move(budget_left), room);
    auto snapshot =
        scheduler::ClusterSnapshot::build(nodes, cache_.pools().items(), sets, vms);
    rebalance::Plan plan = rebalance::plan_moves(input, snapshot, options_.planner);
    logger("moves")->info("pool/{}: rebalance plan: {} moves (L {:.3f}, max deviation {:.3f} -> "
                          "{:.3f}, lower bound {}): {}",
                          pool_name, plan.moves.size(), plan.mean_before,
                          plan.max_deviation_before, plan.max_deviation_after, plan.lower_bound,
                          plan.stopped);
    if (!plan.moves.empty()) ++stats.rebalance_rounds;
    for (const rebalance::Move& m : plan.moves) {
      if (auto b = budgets.find(m.vmset); b != budgets.end()) ++b->second.in_flight;
      out.push_back(Start{m.vm, m.to, describe_move(m), m.vmset});
    }
    for (const rebalance::BudgetBlock& block : plan.blocked_by_budget) {
      const VMSet* set = cache_.vmset(block.vmset);
      auto b = budgets.find(block.vmset);
      if (!set || b == budgets.end()) continue;
      const std::string message = "rebalance would move vm/" + block.vm +
                                  " but waits for the disruption budget: " + b->second.describe();
      std::string& last_told = budget_waits_[block.vm];
      if (last_told == message) continue;
      last_told = message;
      (void)events_.record(ref_of(*set), "Normal", "RebalanceWaiting", message);
    }
  }
  // Nodes back inside the band (or no longer in an enabled pool) start over.
  std::erase_if(out_of_band_since_, [&](const auto& kv) { return !seen_keys.count(kv.first); });
  return out;
}

}  // namespace corral::loops
