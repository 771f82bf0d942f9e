#include "controller/loops/move_loop.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <set>
#include <vector>

#include "api/json.h"
#include "api/annotations.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/reconcile/budget_keeper.h"
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
                   WriterPool& writers, const Clock& clock,
                   std::function<scheduler::ClusterSnapshot&()> snapshot, MoveLoopOptions options)
    : store_(store),
      cache_(cache),
      events_(events),
      clock_(clock),
      snapshot_(std::move(snapshot)),
      options_(std::move(options)),
      writes_(writers, clock, "moves", options_.writes),
      rng_(options_.seed) {}

void MoveLoop::observe(const CacheDelta& delta) {
  // Balancers: a drain the data plane reports done lets a held move complete.
  if (delta.resynced || !delta.vms.empty() || !delta.nodes.empty() || !delta.pools.empty() ||
      !delta.balancers.empty())
    dirty_ = true;
  if (delta.resynced) {
    budgets_.invalidate();
    replacements_.invalidate();
    for (auto& [pool, keeper] : plan_inputs_) keeper.invalidate();
    return;
  }
  for (const std::string& vm : delta.vms) {
    budgets_.vm_changed(vm);
    replacements_.vm_changed(vm);
    for (auto& [pool, keeper] : plan_inputs_) keeper.vm_changed(vm);
  }
}

reconcile::VmSource MoveLoop::vm_source() const {
  return {[this](std::string_view name) { return cache_.vms().find(name); },
          [this]() -> const std::vector<VM>& { return cache_.vms().items(); }};
}

std::map<std::string, reconcile::DisruptionBudget> MoveLoop::current_budgets() {
  return budgets_.budgets(cache_.vmsets().items(), vm_source());
}

bool MoveLoop::due(std::chrono::steady_clock::time_point now) const {
  const auto since = now - last_pass_;
  if (since >= options_.idle_period) return true;
  const bool retry_due = retry_at_ && now >= *retry_at_;
  return (dirty_ || retry_due) && since >= options_.min_period;
}

MovePassStats MoveLoop::run_once() {
  MovePassStats stats;
  const auto steady = clock_.steady_now();
  if (!due(steady)) return stats;
  dirty_ = false;
  last_pass_ = steady;
  const auto now = clock_.now();
  const std::vector<VM>& vms = cache_.vms().items();

  // ---- decide (pure) -----------------------------------------------------------
  const reconcile::VmSource source = vm_source();
  std::vector<reconcile::MoveStep> steps = reconcile::progress_moves(
      replacements_.replacements(source), source.vm_named, now, options_.moves);
  hold_for_drains(steps, now);
  const Starts starts = decide_starts(vms, stats);

  // ---- write -------------------------------------------------------------------
  PassWrites pass;
  add_step_writes(steps, pass);
  add_start_writes(starts.start, now, pass);
  // Every move and start was decided afresh: a key not listed needs nothing.
  writes_.run(pass.writes, WriteBatch::Unlisted::kForget);
  record_events(events_, writes_.writers(), landed_events(pass.writes));
  retry_at_ = writes_.next_due();
  note_outcomes(pass, stats);
  for (const reconcile::MoveStep& step : steps) {
    if (step.kind == reconcile::MoveStepKind::kComplete) ++stats.completed;
    if (step.kind == reconcile::MoveStepKind::kCancel) ++stats.cancelled;
  }
  restart_holds(steps);
  report_drains(starts.drains);
  return stats;
}

MoveLoop::Starts MoveLoop::decide_starts(const std::vector<VM>& vms, MovePassStats& stats) {
  Starts out;
  // Budgets cost a pass over every VM: only when a drain or a rebalancer may use them.
  const bool draining = std::any_of(cache_.nodes().items().begin(), cache_.nodes().items().end(),
                                    [](const Node& n) { return n.spec.drain; });
  const bool rebalancing =
      std::any_of(cache_.pools().items().begin(), cache_.pools().items().end(),
                  [](const Pool& p) { return p.spec.rebalance.enabled; });
  // Built when a drain or a rebalance round will use them, not on every pass
  // of a pool with rebalancing on.
  std::optional<std::map<std::string, reconcile::DisruptionBudget>> budgets;
  auto budgets_now = [&]() -> std::map<std::string, reconcile::DisruptionBudget>& {
    if (!budgets) budgets = current_budgets();
    return *budgets;
  };
  if (draining)
    out.drains = reconcile::plan_drains(cache_.nodes().items(), vms, budgets_now(),
                                        options_.max_starts_per_pass);
  for (const reconcile::DrainStart& d : out.drains.start)
    out.start.push_back(Start{d.vm, "", d.reason, d.vmset});
  const size_t room = options_.max_starts_per_pass -
                      std::min(options_.max_starts_per_pass, out.start.size());
  if (rebalancing) {
    for (Start& s : plan_rebalance(budgets_now, room, stats)) out.start.push_back(std::move(s));
  } else {
    trigger_.out_of_band_since.clear();  // nothing to hold for
    plan_inputs_.clear();                // nor an input to keep
  }
  return out;
}

void MoveLoop::add_step_writes(const std::vector<reconcile::MoveStep>& steps, PassWrites& out) {
  auto log = logger("moves");
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
  auto add = [&out](std::string key, WriteOp op, store::RecordPtr* strip = nullptr) -> KeyedWrite& {
    KeyedWrite& w = out.writes.emplace_back();
    w.key = w.what = std::move(key);
    w.op = op;
    out.stripped_of.push_back(strip);
    return w;
  };
  for (const reconcile::MoveStep& step : steps) {
    const VMSet* set = cache_.vmset(step.vmset);
    // Said on the set (nothing when the set is gone), once the write landed.
    auto event = [&](const char* type, const char* reason) -> std::optional<events::EventWrite> {
      if (!set) return std::nullopt;
      return events::EventWrite{ref_of(*set), type, reason, step.message, step.to};
    };
    switch (step.kind) {
      case reconcile::MoveStepKind::kComplete: {
        log->info("move complete: {}", step.message);
        store::RecordPtr* strip = &out.stripped.emplace_back();
        KeyedWrite& w = add("delete vm/" + step.old_vm, WriteOp::kDelete, strip);
        w.write = [this, step, replacement = stripped(step.replacement),
                   strip]() -> Result<store::RecordPtr> {
          auto removed =
              store_.remove(VM::kKind, step.old_vm, store::Preconditions{step.old_uid, ""});
          if (!removed && removed.error().code != ErrorCode::kNotFound) return removed;
          // The move is over: the replacement becomes an ordinary replica.
          if (replacement) {
            auto updated = store_.update(VM::kKind, *replacement);
            if (updated) *strip = std::move(*updated);
          }
          return removed ? std::move(*removed) : store::RecordPtr{};
        };
        w.event = event(event_type::kNormal, "Moved");
        break;
      }
      case reconcile::MoveStepKind::kCancel: {
        log->warn("{}", step.message);
        KeyedWrite& w = add("delete vm/" + step.replacement, WriteOp::kDelete);
        w.write = [this, step] {
          return store_.remove(VM::kKind, step.replacement,
                               store::Preconditions{step.replacement_uid, ""});
        };
        w.event = event(event_type::kWarning, "MoveFailed");
        break;
      }
      case reconcile::MoveStepKind::kFinish:
        if (auto json = stripped(step.replacement))
          add("strip move marks of vm/" + step.replacement, WriteOp::kUpdate).write =
              [this, obj = std::move(*json)] { return store_.update(VM::kKind, obj); };
        break;
    }
  }
}

void MoveLoop::add_start_writes(const std::vector<Start>& starts,
                                std::chrono::system_clock::time_point now, PassWrites& out) {
  if (starts.empty()) return;
  std::set<std::string> generated;  // by this pass; the cache holds the rest (no set of 300,000 names)
  uint64_t state = rng_();
  for (const Start& s : starts) {
    const VM* old = cache_.vm(s.old_vm);
    const VMSet* set = cache_.vmset(s.vmset);
    if (!old || !set) continue;
    std::string name;
    do {
      name = reconcile::generate_name(set->metadata.name, options_.moves.name_suffix_length,
                                      state, generated);
    } while (cache_.vm(name) != nullptr);
    VM r = reconcile::replacement_for(*set, *old, name, s.target, s.reason, now);
    std::string message = "moving vm/" + s.old_vm + " off node/" + old->spec.nodeName +
                          (s.target.empty() ? "" : " to node/" + s.target) + " as vm/" + name +
                          ": " + s.reason;
    logger("moves")->info("{}", message);
    KeyedWrite& w = out.writes.emplace_back();
    out.stripped_of.push_back(nullptr);
    w.key = "move vm/" + s.old_vm;  // the replacement's name is new every pass
    w.what = "create vm/" + name;
    w.op = WriteOp::kCreate;
    w.write = [this, r]() -> Result<store::RecordPtr> {
      auto normalized = normalize_typed(r);
      if (!normalized) return normalized.take_error();
      return store_.create(VM::kKind, std::move(*normalized));
    };
    w.event = events::EventWrite{ref_of(*set), event_type::kNormal, "MoveStarted", message,
                                 old->spec.nodeName};
  }
}

void MoveLoop::note_outcomes(const PassWrites& pass, MovePassStats& stats) {
  for (size_t i = 0; i < pass.writes.size(); ++i) {
    const KeyedWrite& w = pass.writes[i];
    switch (w.outcome) {
      case WriteOutcome::kGone:   // the watch brings the deletion
      case WriteOutcome::kRetry:  // Conflict, a name taken: decided afresh next pass
        dirty_ = true;
        continue;
      case WriteOutcome::kFailed:
        ++stats.errors;  // tried again when its back-off is due (retry_at_)
        continue;
      case WriteOutcome::kDeferred:
        continue;
      case WriteOutcome::kWritten:
        break;
    }
    const store::RecordPtr& r = w.record;
    if (w.op == WriteOp::kDelete) {
      if (r) cache_.apply_deleted(VM::kKind, r->name, r->revision);
      if (const store::RecordPtr* strip = pass.stripped_of[i]; strip && *strip)
        cache_.apply(*strip);
    } else if (r) {
      cache_.apply(r);
    }
    if (w.op == WriteOp::kCreate) ++stats.started;
  }
}

void MoveLoop::restart_holds(const std::vector<reconcile::MoveStep>& steps) {
  std::set<std::string> nodes;
  for (const reconcile::MoveStep& step : steps) {
    if (step.kind == reconcile::MoveStepKind::kFinish) continue;
    nodes.insert(step.from);
    nodes.insert(step.to);
  }
  if (!nodes.empty()) trigger_ = rebalance::restart_holds(std::move(trigger_), nodes);
}

void MoveLoop::report_drains(const reconcile::DrainPlan& drains) {
  // Say what waits, once per change; say when done.
  for (const reconcile::DrainWait& w : drains.waiting) {
    std::string& last = drain_waits_[w.vm];
    if (last == w.reason) continue;
    last = w.reason;
    if (const Node* node = cache_.node(w.node))
      (void)events_.record(ref_of(*node), event_type::kNormal, "DrainWaiting", "vm/" + w.vm + ": " + w.reason,
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
      logger("moves")->info("node/{} drained", node_name);
      (void)events_.record(ref_of(*node), event_type::kNormal, "Drained",
                           "every VM moved off node/" + node_name, node_name);
    }
  }
  std::erase_if(drained_, [&](const std::string& n) { return !drains.remaining.count(n); });
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
        (void)events_.record(ObjectReference{VM::kKind, step.old_vm, old->metadata.uid}, event_type::kNormal,
                             "EndpointDraining", message, step.from);
    }
    return true;
  });
  std::erase_if(endpoint_waits_, [&](const auto& kv) { return !held.count(kv.first); });
  std::erase_if(held_since_, [&](const auto& kv) { return !held.count(kv.first); });
}

std::vector<MoveLoop::Start> MoveLoop::plan_rebalance(
    const std::function<std::map<std::string, reconcile::DisruptionBudget>&()>& budgets,
    size_t max_start, MovePassStats& stats) {
  std::vector<rebalance::PoolLoads> loads;
  for (const Pool& pool : cache_.pools().items())
    if (pool.spec.rebalance.enabled)
      loads.push_back(rebalance::pool_loads(pool, cache_.nodes().items()));
  // A kept input is ~300 bytes a VM: none for a pool no longer rebalanced.
  std::erase_if(plan_inputs_, [&](const auto& kv) {
    const Pool* pool = cache_.pools().find(kv.first);
    return pool == nullptr || !pool->spec.rebalance.enabled;
  });
  rebalance::TriggerDecision trigger =
      rebalance::decide_rounds(loads, std::move(trigger_), clock_.steady_now());
  trigger_ = std::move(trigger.state);
  std::vector<Start> out;
  if (trigger.rounds.empty()) return out;
  std::map<std::string, int32_t> in_flight =
      rebalance::rebalance_moves_in_flight(cache_.vms().items(), cache_.vmsets().items());
  for (const rebalance::Round& round : trigger.rounds) {
    const Pool* pool = cache_.pools().find(round.pool);
    if (!pool) continue;
    const int32_t room = rebalance::moves_that_fit(pool->spec.rebalance, in_flight[round.pool],
                                                   max_start - std::min(max_start, out.size()));
    if (room > 0) plan_round(*pool, round.actionable, room, budgets(), out, stats);
  }
  return out;
}

void MoveLoop::plan_round(const Pool& pool, const std::set<std::string>& actionable,
                          int32_t room,
                          std::map<std::string, reconcile::DisruptionBudget>& budgets,
                          std::vector<Start>& out, MovePassStats& stats) {
  const std::vector<Node>& nodes = cache_.nodes().items();
  const std::vector<VMSet>& sets = cache_.vmsets().items();
  std::map<std::string, int32_t> budget_left;
  for (const auto& [name, b] : budgets) budget_left[name] = b.allowed();
  const rebalance::PlanInputKeeper::Source source{
      nodes, sets, vm_source().vm_named, [this] { return cache_.vms_by_name(); }};
  rebalance::PlanInputKeeper& keeper = plan_inputs_[pool.metadata.name];
  const rebalance::PlanInput& input =
      keeper.build(pool, source, clock_.now(), actionable, std::move(budget_left), room);
  rebalance::Plan plan = rebalance::plan_moves(input, snapshot_(), options_.planner);
  logger("moves")->info("pool/{}: rebalance plan: {} moves (L {:.3f}, max deviation {:.3f} -> "
                        "{:.3f}, lower bound {}): {}",
                        pool.metadata.name, plan.moves.size(), plan.mean_before,
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
    (void)events_.record(ref_of(*set), event_type::kNormal, "RebalanceWaiting", message);
  }
}

}  // namespace corral::loops
