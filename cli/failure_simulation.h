// What would happen if some nodes died now: a pure function of the cluster's
// objects, built from the controller's own decision cores (the scheduler in
// controller/scheduler, the VMSet and pool-status rules in controller/reconcile)
// so that the answer is the one the controller would reach — nothing here
// re-implements a placement or availability rule. Nothing is written.
//
// The failed nodes turn NotReady (phase and Ready condition) and their VMs Lost,
// as the node lifecycle loop would (VMs already Lost, Failed or Terminating are
// left as they are). Every VM that then needs placement (Lost, or never bound)
// goes through one Scheduler::schedule_batch, as one scheduling pass would.
//
// ASSUMPTION: a re-placed VM is counted as Running on its new node at once
// (phase Running in its new epoch). VMSet availability R and running replicas
// "after" are therefore the best case once the replacements have started;
// until then R is lower.
//
// The scheduler runs with default Options: in pools larger than
// Options::min_feasible_nodes it samples nodes, as the controller does, so the
// chosen node may differ from the controller's (the feasibility does not).
//
// Thread safety: pure function.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::cli {

struct SimulatedMove {
  std::string vm;
  std::string from;  // the node it held a place on; "" when it was never bound
  std::string to;
};

struct SimulatedPending {
  std::string vm;
  std::string from;
  std::string reason;  // the scheduler's: "0/3 nodes are available: ..."
};

struct SimulatedVmSet {
  std::string name;
  int32_t running_before = 0, running_after = 0;
  double availability_before = 0, availability_after = 0;
};

struct SimulatedPool {
  std::string name;
  int32_t total_nodes = 0;
  int32_t ready_before = 0, ready_after = 0;
  int32_t tolerable_before = 0, tolerable_after = 0;
};

struct FailureSimulation {
  // In the scheduler's order (priority, then name).
  std::vector<SimulatedMove> moves;
  // Only VMs that held a place before: a VM that was already Pending and still
  // is says nothing about the failure.
  std::vector<SimulatedPending> pending;
  // VMSets with a VM on a failed node, by name.
  std::vector<SimulatedVmSet> vmsets;
  // Pools that select a failed node, by name.
  std::vector<SimulatedPool> pools;
};

// REQUIRES: every name in `failed` is a node of `nodes`.
FailureSimulation simulate_node_failure(const std::vector<Node>& nodes, const std::vector<Pool>& pools,
                                        const std::vector<VMSet>& vmsets, const std::vector<VM>& vms,
                                        const std::set<std::string>& failed);

}  // namespace corral::cli
