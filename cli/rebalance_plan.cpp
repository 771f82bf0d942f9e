#include "cli/rebalance_plan.h"

#include <cmath>
#include <cstdio>
#include <ostream>
#include <set>

#include "cli/printers.h"
#include "cli/typed_list.h"
#include "controller/rebalance/plan_input.h"
#include "controller/rebalance/planner.h"
#include "controller/reconcile/disruption.h"
#include "controller/scheduler/snapshot.h"

namespace corral::cli {
namespace {

std::string fixed(double v, bool sign = false) {
  char buf[32];
  std::snprintf(buf, sizeof buf, sign ? "%+.3f" : "%.3f", v);
  return buf;
}
std::string change(double before, double after, bool sign = false) {
  return fixed(before, sign) + " -> " + fixed(after, sign);
}

std::string render(const Pool& pool, const rebalance::Plan& plan) {
  const RebalancePolicy& p = pool.spec.rebalance;
  std::string out = "Rebalance plan for pool/" + pool.metadata.name + " (nothing is written):\n";
  if (!p.enabled)
    out += "rebalance is disabled for this pool: the controller makes none of these moves\n";
  out += "band: |load - L| <= " + fixed(p.maxImbalance) + ", load <= " +
         fixed(p.highWatermark) + "; a move gains at least " + fixed(p.minGain) +
         "; every node out of band now counts as past its " + std::to_string(p.holdSeconds) +
         "s hold\n";
  out += "mean load L " + change(plan.mean_before, plan.mean_after) + ", max deviation " +
         change(plan.max_deviation_before, plan.max_deviation_after) + "; " +
         std::to_string(plan.moves.size()) + (plan.moves.size() == 1 ? " move" : " moves") +
         " (lower bound " + std::to_string(plan.lower_bound) + "); " + plan.stopped + "\n";
  if (!plan.moves.empty()) {
    std::vector<Row> rows = {{"VM", "VMSET", "FROM", "TO", "FROM DEVIATION", "TO DEVIATION",
                              "GAIN", "REASON"}};
    for (const rebalance::Move& m : plan.moves)
      rows.push_back({m.vm, m.vmset, m.from, m.to,
                      change(m.from_deviation_before, m.from_deviation_after, true),
                      change(m.to_deviation_before, m.to_deviation_after, true), fixed(m.gain),
                      m.reason});
    out += "\nMoves, in order (each sees the ones before):\n" + render_rows(rows, {}, "  ");
  }
  if (!plan.blocked_by_budget.empty()) {
    std::vector<Row> rows = {{"VM", "VMSET"}};
    for (const rebalance::BudgetBlock& b : plan.blocked_by_budget) rows.push_back({b.vm, b.vmset});
    out += "\nWaiting for their VMSet's disruption budget:\n" + render_rows(rows, {}, "  ");
  }
  if (!plan.nodes_before.empty()) {
    std::vector<Row> rows = {{"NODE", "LOAD", "DEVIATION", "IN BAND", "AFTER: LOAD", "DEVIATION",
                              "IN BAND"}};
    for (size_t i = 0; i < plan.nodes_before.size(); ++i) {
      const rebalance::NodeReport& b = plan.nodes_before[i];
      const rebalance::NodeReport* a =
          i < plan.nodes_after.size() ? &plan.nodes_after[i] : nullptr;
      rows.push_back({b.name, fixed(b.load), fixed(b.deviation, true), b.in_band ? "yes" : "no",
                      a ? fixed(a->load) : "", a ? fixed(a->deviation, true) : "",
                      a ? (a->in_band ? "yes" : "no") : ""});
    }
    out += "\nNodes (Ready members of the pool):\n" + render_rows(rows, {}, "  ");
  }
  return out;
}

}  // namespace

int run_rebalance_plan(Context& ctx, const RebalancePlanOptions& options) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  auto pools = list_typed<Pool>(ctx.client);
  if (!pools) return fail(pools.error());
  const Pool* pool = nullptr;
  for (const Pool& p : *pools)
    if (p.metadata.name == options.pool) pool = &p;
  if (!pool)
    return fail(make_error(ErrorCode::kNotFound, "pools \"" + options.pool + "\" not found"));
  auto nodes = list_typed<Node>(ctx.client);
  if (!nodes) return fail(nodes.error());
  auto sets = list_typed<VMSet>(ctx.client);
  if (!sets) return fail(sets.error());
  auto vms = list_typed<VM>(ctx.client);
  if (!vms) return fail(vms.error());

  // As the controller: every node out of band now is actionable (its hold is
  // the one thing the client cannot know), budgets as they stand.
  std::set<std::string> actionable;
  for (const Node& n : *nodes) actionable.insert(n.metadata.name);
  std::map<std::string, int32_t> budget_left;
  for (const auto& [name, b] : reconcile::disruption_budgets(*sets, *vms))
    budget_left[name] = b.allowed();
  std::optional<int32_t> max_moves;
  if (options.max_moves == kUnlimitedMoves) max_moves = -1;
  if (options.max_moves >= 0) max_moves = options.max_moves;
  rebalance::PlanInput input = rebalance::build_plan_input(
      *pool, *nodes, *sets, *vms, ctx.clock.now(), std::move(actionable), std::move(budget_left),
      max_moves);
  auto snapshot = scheduler::ClusterSnapshot::build(*nodes, *pools, *sets, *vms);
  ctx.out << render(*pool, rebalance::plan_moves(input, snapshot));
  return kExitOk;
}

}  // namespace corral::cli
