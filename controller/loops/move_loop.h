// MoveLoop: moves VMs between nodes, made before broken — for drains
// (Node spec.drain) and for the rebalancer (per Pool, spec.rebalance) — and
// carries every move in flight to its end. The decisions are pure
// (reconcile/moves.h, reconcile/disruption.h, rebalance/trigger.h,
// rebalance/planner.h); this loop
// reads the watch cache, writes their results and records the Events.
//
//   every pass with a changed VM, Node, Pool or Balancer (at most every
//   100 ms, and at least every second):
//     progress_moves  → delete old VMs whose replacement is Ready, delete
//                       replacements that failed, strip finished moves' marks
//     drain gate      → but keep an old VM that a Balancer publishes until its
//                       endpoint drained (reported drained, or drainSeconds
//                       after draining was published; reconcile/endpoints.h);
//                       Event EndpointDraining on the VM, once per reason
//     budgets         → per VMSet, what voluntary moves may start
//     plan_drains     → replacements for VMs on draining nodes
//     rebalance       → rebalance/trigger.h decides which pools to plan (band,
//                       hold, interval) and how many moves fit; plan_moves
//                       (rebalance/planner.h) decides which
//   the writes go through a WriteBatch (write_batch.h): a write that keeps
//   failing is tried again when its back-off is due, not on every pass.
//
// A move's state lives in annotations on its replacement VM (api/annotations.h),
// not in this loop: a restarted controller carries on every move. What lives
// here is only timing — the rebalance trigger's holds and intervals
// (rebalance::TriggerState), how long a move has waited for a drain — which a
// restart resets (a longer wait, never a wrong move). A move that ends
// restarts the hold of both its nodes (rebalance::restart_holds says why).
//
// Thread safety: one owner thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/rebalance/options.h"
#include "controller/rebalance/plan.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/trigger.h"
#include "controller/reconcile/budget_keeper.h"
#include "controller/reconcile/replacement_keeper.h"
#include "controller/reconcile/moves.h"
#include "controller/scheduler/snapshot.h"
#include "controller/store/store.h"

namespace corral::loops {

struct MoveLoopOptions {
  reconcile::MoveOptions moves;
  rebalance::Options planner;  // how much of a pool one planning step looks at
  // Moves of all origins started in one pass, at most: 256 — a drain of a
  // full node starts its VMs' moves together (budgets allowing) without one
  // pass writing thousands of objects.
  size_t max_starts_per_pass = 256;
  // Without a change in the cache, the loop still looks this often (move
  // timeouts, hold and interval timers): 1 s.
  std::chrono::milliseconds idle_period{1000};
  // With changes, at most this often: 100 ms. A pass reads every VM, and the
  // cache changes on nearly every heartbeat at scale; a move takes seconds, so
  // 100 ms more to notice its end costs nothing.
  std::chrono::milliseconds min_period{100};
  // Seeds the replacements' name generator. 0 by default, so tests are
  // reproducible; controller/main.cpp draws one from std::random_device at
  // every start.
  uint64_t seed = 0;
  WriteBatchOptions writes;  // back-off of failing writes
};

struct MovePassStats {
  size_t started = 0;    // replacements created
  size_t completed = 0;  // old VMs deleted after their replacement was Ready
  size_t cancelled = 0;  // replacements given up
  size_t rebalance_rounds = 0;  // pool plans that started at least one move
  size_t errors = 0;
};

class MoveLoop {
 public:
  // `snapshot` gives the cluster as of the last dispatch (the scheduler's,
  // SchedulerLoop::snapshot()): a rebalance round plans on it and leaves it
  // as it found it.
  MoveLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
           WriterPool& writers, const Clock& clock,
           std::function<scheduler::ClusterSnapshot&()> snapshot, MoveLoopOptions options = {});

  void observe(const CacheDelta& delta);
  MovePassStats run_once();

 private:
  struct Start {
    std::string old_vm;
    std::string target;  // "" for a drain: anywhere the scheduler finds
    std::string reason;
    std::string vmset;
  };
  // What a pass decided to start, and the drains' progress to report.
  struct Starts {
    std::vector<Start> start;
    reconcile::DrainPlan drains;
  };
  // A pass's writes and, for a completed move, the replacement as rewritten
  // without its move marks (stripped_of[i] for writes[i], or null).
  struct PassWrites {
    std::vector<KeyedWrite> writes;
    std::deque<store::RecordPtr> stripped;  // stable addresses for the writers
    std::vector<store::RecordPtr*> stripped_of;
  };
  // True when the pass is due: changes and min_period passed, a backed-off
  // write is due, or idle_period passed.
  bool due(std::chrono::steady_clock::time_point now) const;
  // Budgets, drains and rebalance rounds: which moves start in this pass.
  Starts decide_starts(const std::vector<VM>& vms, MovePassStats& stats);
  // Drops the kComplete steps whose old VM a Balancer still publishes and has
  // not drained (reconcile::drain_gate), with an EndpointDraining Event once.
  void hold_for_drains(std::vector<reconcile::MoveStep>& steps,
                       std::chrono::system_clock::time_point now);
  // The cache's VMs, as the keepers read them.
  reconcile::VmSource vm_source() const;
  // Every VMSet's disruption budget now (budgets_ brought up to date).
  std::map<std::string, reconcile::DisruptionBudget> current_budgets();
  // `budgets` builds the disruption budgets on first use (only a round that
  // runs needs them).
  std::vector<Start> plan_rebalance(
      const std::function<std::map<std::string, reconcile::DisruptionBudget>&()>& budgets,
      size_t max_start, MovePassStats& stats);
  // One pool's round: plan_moves with at most `room` moves, appended to `out`;
  // a RebalanceWaiting Event for each move a budget holds back.
  void plan_round(const Pool& pool, const std::set<std::string>& actionable, int32_t room,
                  std::map<std::string, reconcile::DisruptionBudget>& budgets,
                  std::vector<Start>& out, MovePassStats& stats);
  void add_step_writes(const std::vector<reconcile::MoveStep>& steps, PassWrites& out);
  void add_start_writes(const std::vector<Start>& starts, std::chrono::system_clock::time_point now,
                        PassWrites& out);
  // Counts, cache write-through, and whether to look again soon.
  void note_outcomes(const PassWrites& pass, MovePassStats& stats);
  // The nodes of moves that ended start their rebalance hold over.
  void restart_holds(const std::vector<reconcile::MoveStep>& steps);
  // DrainWaiting once per reason, Drained once per node.
  void report_drains(const reconcile::DrainPlan& drains);

  store::Store& store_;
  ObjectCache& cache_;
  events::EventRecorder& events_;
  const Clock& clock_;
  const std::function<scheduler::ClusterSnapshot&()> snapshot_;
  // Each rebalanced pool's planner input, kept from round to round: a round
  // re-reads the VMs the cache's deltas named since (rebalance/plan_input.h).
  std::map<std::string, rebalance::PlanInputKeeper> plan_inputs_;
  // Disruption budgets, kept from pass to pass from the VMs that changed.
  reconcile::DisruptionBudgetKeeper budgets_;
  // The moves in flight (their replacement VMs), kept likewise.
  reconcile::ReplacementKeeper replacements_;
  const MoveLoopOptions options_;
  WriteBatch writes_;
  std::mt19937_64 rng_;
  bool dirty_ = true;
  std::chrono::steady_clock::time_point last_pass_{};
  // When a backed-off write is due again (nullopt: none waits).
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
  // Rebalancer timing (see the file comment): holds and last rounds.
  rebalance::TriggerState trigger_;
  // Drain progress already told in an Event: VM → its waiting reason; nodes
  // whose "Drained" Event was recorded.
  std::map<std::string, std::string> drain_waits_;
  // Rebalance moves held back by a budget, already told: VM → message.
  std::map<std::string, std::string> budget_waits_;
  std::set<std::string> drained_;
  // Old VMs held for a Balancer's drain, already told: VM → the gate's message.
  std::map<std::string, std::string> endpoint_waits_;
  // Old VM -> when its move was first held for a drain (bounds the wait for
  // the replacement to be published).
  std::map<std::string, std::chrono::system_clock::time_point> held_since_;
};

}  // namespace corral::loops
