#include "cli/simulate.h"

#include <ostream>
#include <set>

#include "cli/failure_simulation.h"
#include "cli/printers.h"
#include "cli/typed_list.h"

namespace corral::cli {

namespace {

// "a -> b": ASCII, so that table columns stay aligned (widths count bytes).
std::string change(const std::string& before, const std::string& after) { return before + " -> " + after; }

std::string node_list(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " and " : ", ";
    out += "node/" + names[i];
  }
  return out;
}

std::string render(const FailureSimulation& sim, const std::vector<std::string>& failed) {
  std::string out = "If " + node_list(failed) + (failed.size() == 1 ? " fails" : " fail") +
                    " now (simulated; nothing is written):\n";
  if (sim.moves.empty() && sim.pending.empty()) out += "\nNo VM needs a new node.\n";
  if (!sim.moves.empty()) {
    std::vector<Row> rows = {{"VM", "FROM", "TO"}};
    for (const auto& m : sim.moves) rows.push_back({m.vm, or_none(m.from), m.to});
    out += "\nVMs re-placed:\n" + render_rows(rows, {}, "  ");
  }
  if (!sim.pending.empty()) {
    std::vector<Row> rows = {{"VM", "FROM", "REASON"}};
    for (const auto& p : sim.pending) rows.push_back({p.vm, p.from, p.reason});
    out += "\nVMs left Pending:\n" + render_rows(rows, {}, "  ");
  }
  if (!sim.vmsets.empty()) {
    std::vector<Row> rows = {{"VMSET", "RUNNING", "AVAILABILITY"}};
    for (const auto& s : sim.vmsets) {
      rows.push_back(
          {s.name, change(std::to_string(s.running_before), std::to_string(s.running_after)),
           change(format_availability(s.availability_before), format_availability(s.availability_after))});
    }
    out += "\nVMSets (re-placed VMs counted as Running):\n" + render_rows(rows, {}, "  ");
  }
  if (!sim.pools.empty()) {
    std::vector<Row> rows = {{"POOL", "READY", "TOLERATES"}};
    for (const auto& p : sim.pools) {
      std::string total = "/" + std::to_string(p.total_nodes);
      rows.push_back({p.name,
                      change(std::to_string(p.ready_before) + total, std::to_string(p.ready_after) + total),
                      change(std::to_string(p.tolerable_before), std::to_string(p.tolerable_after))});
    }
    out += "\nPools:\n" + render_rows(rows, {}, "  ");
  }
  return out;
}

}  // namespace

int run_simulate_fail(Context& ctx, const SimulateOptions& options) {
  auto fail = [&](const Error& e) {
    print_error(ctx.err, e);
    return kExitError;
  };
  if (options.nodes.empty())
    return fail(make_error(ErrorCode::kBadRequest, "give the nodes to fail, e.g. `simulate fail host-1`"));
  auto nodes = list_typed<Node>(ctx.client);
  if (!nodes) return fail(nodes.error());
  auto pools = list_typed<Pool>(ctx.client);
  if (!pools) return fail(pools.error());
  auto vmsets = list_typed<VMSet>(ctx.client);
  if (!vmsets) return fail(vmsets.error());
  auto vms = list_typed<VM>(ctx.client);
  if (!vms) return fail(vms.error());

  std::set<std::string> known;
  for (const Node& n : *nodes) known.insert(n.metadata.name);
  std::set<std::string> failed;
  std::vector<std::string> ordered;  // as given, without repeats
  bool missing = false;
  for (const auto& name : options.nodes) {
    if (!known.count(name)) {
      print_error(ctx.err, make_error(ErrorCode::kNotFound, "nodes \"" + name + "\" not found"));
      missing = true;
    } else if (failed.insert(name).second) {
      ordered.push_back(name);
    }
  }
  if (missing) return kExitError;

  ctx.out << render(simulate_node_failure(*nodes, *pools, *vmsets, *vms, failed), ordered);
  return kExitOk;
}

}  // namespace corral::cli
