// Balancer endpoints: the decision core of the controller's endpoints loop
// (controller/loops/endpoints_loop) and of the move loop's drain handshake.
// Pure functions of (Balancer, VMs, Nodes, now); the caller writes the result.
//
//   Balancer + VMs + Nodes + now ──► compute_balancer_status ──► Balancer.status
//     selected    spec.vmSet (label corral.io/vmset) or spec.selector
//     published   Running in its current epoch (status.epoch == spec.epoch),
//                 not Terminating, with an address, bound to a Ready node
//     weight      the node's headroom 1 − Rᵢ, clipped to [0.05, 1]
//     draining    a replacement R of the VM (annotation corral.io/replaces)
//                 is itself published by this Balancer
//     kept        health, activeConnections, drained (data plane) for the
//                 same (vm, epoch); drainingSince while it stays draining
//
//   Balancers + X + now ──► drain_gate ──► may the move delete X now?
//     every Balancer that publishes X: X draining, and drained or
//     drainingSince + drainSeconds passed (waiting for X to start draining
//     is bounded by drainSeconds too)
//
// Thread safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

using WallTime = std::chrono::system_clock::time_point;

// An endpoint's weight is its node's headroom 1 − Rᵢ, never below this (a
// full node still gets a trickle, so its health keeps being measured by
// traffic) and never above 1.
inline constexpr double kMinEndpointWeight = 0.05;
inline constexpr double kMaxEndpointWeight = 1.0;

// The condition type the endpoints loop owns (the data plane owns `Serving`).
inline constexpr const char* kBalancerReadyCondition = condition_type::kReady;

// True when the Balancer selects the VM: by spec.vmSet (the VM's
// corral.io/vmset label) when set, else by spec.selector. An invalid selector
// (validation refuses it) selects nothing.
bool balancer_selects(const Balancer& balancer, const VM& vm);

// True when `vm` may receive traffic: Running in its current epoch, not
// Terminating, with an address, bound to `node` (non-null) which is Ready.
bool endpoint_publishable(const VM& vm, const Node* node);

// The status the endpoints loop writes for `balancer`, from its previous
// status (balancer.status: data-plane fields, drainingSince, conditions of
// other types, lastTransitionTime), the VMs and Nodes, and `now`.
// Deterministic: the same inputs give an equal status, endpoints sorted by VM
// name; with nothing changed it equals balancer.status.
BalancerStatus compute_balancer_status(const Balancer& balancer, const std::vector<VM>& vms,
                                       const std::vector<Node>& nodes, WallTime now);

// The Ready condition of `status` or nullptr.
const Condition* balancer_ready_condition(const BalancerStatus& status);

// Whether a move may delete `old_vm` now (move_loop, step kComplete).
struct DrainGate {
  bool may_delete = true;
  // Balancers (names, sorted) still holding the move.
  std::vector<std::string> holding;
  // Why it waits, stable while the reason stays (for a once-only Event):
  // "waiting for its replacement to be published by lb/web (at most 30s)" or
  // "draining from lb/web (until drained, at most 30s)". Empty when it may go.
  std::string message;
};
// For every Balancer whose status publishes `old_vm` as an endpoint: its
// endpoint must be draining and either reported drained or draining for at
// least spec.timeouts.drainSeconds. A Balancer that does not publish it does
// not hold the move. A drainingSince that does not parse counts as elapsed (a
// drain is bounded; nothing may hold a move forever on a malformed stamp).
// An endpoint not yet draining (its replacement not yet published) holds the
// move for at most drainSeconds from `held_since`, when the move was first held.
DrainGate drain_gate(const std::string& old_vm, const std::vector<Balancer>& balancers,
                     WallTime now, WallTime held_since);

}  // namespace corral::reconcile
