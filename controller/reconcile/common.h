// Small helpers the reconcilers share: how a node's readiness, pool membership
// and fail-over settings are read from the typed objects.
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/conditions.h"
#include "api/types.h"

namespace corral::reconcile {

// The label every VM of a VMSet carries (api/defaults.cpp sets it on templates).
inline constexpr std::string_view kVMSetLabel = "corral.io/vmset";

// Whether the node's labels include every label of the pool's nodeSelector
// (an empty selector selects every node).
bool pool_selects(const Pool& pool, const Node& node);

// A node's fail-over settings, from the pools it belongs to.
struct NodeFailover {
  std::chrono::milliseconds grace{0};
  std::chrono::seconds availability_window{0};
  // The longest an agent stopped for a restart may keep the node's VMs.
  std::chrono::seconds restart_window{0};
  bool in_pool = false;
};
// The smallest nodeGraceSeconds, availabilityWindowSeconds and
// restartWindowSeconds of the pools that select the node: a node in several
// pools is judged by the strictest. Grace and window values ≤ 0 in a pool
// (validation refuses them) are ignored; a restart window of 0 is a real
// value (never hold). A node in no pool gets FailoverPolicy's defaults (2 s
// grace, 3600 s window, 300 s restart window).
NodeFailover failover_for(const Node& node, const std::vector<Pool>& pools);

// Measured load of a node: the larger of CPU and memory usage / allocatable.
// A resource with zero allocatable is left out (no meaningful ratio).
double node_load(const Node& node);

// True when the VM names `vmset` as its controller owner (by uid).
bool owned_by(const VM& vm, const VMSet& vmset);

// A fresh name `<base>-<suffix>` not in `taken` (and added to it), as
// Kubernetes' generateName: `suffix_length` characters from an alphabet with no
// vowels and no look-alikes. Deterministic for a `state` (a splitmix64 seed it
// advances), so a plan is reproducible in tests.
std::string generate_name(const std::string& base, size_t suffix_length, uint64_t& state,
                          std::set<std::string>& taken);

// Requests, in milli-units (Quantity::milli).
struct Milli {
  int64_t cpu = 0;
  int64_t memory = 0;
};

// "6", "1.5", "0.25": CPU cores for messages. Memory: "12Gi" when exact, else bytes.
std::string format_cpu(int64_t milli);
std::string format_memory(int64_t milli);

}  // namespace corral::reconcile
