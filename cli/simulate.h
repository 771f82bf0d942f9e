// corralctl simulate fail NODE...: what the controller would do if these nodes
// died now — which VMs move where, which stay Pending and why, and how VMSet
// availability and pool fault tolerance change. Reads Nodes, Pools, VMSets and
// VMs; writes nothing. See failure_simulation.h for the rules and assumptions.
#pragma once

#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct SimulateOptions {
  std::vector<std::string> nodes;  // the nodes to fail
};

int run_simulate_fail(Context& ctx, const SimulateOptions& options);

}  // namespace corral::cli
