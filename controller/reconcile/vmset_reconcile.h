// VMSet: the decision core of the loop that keeps a VMSet's VMs at `replicas`.
// A pure function of (VMSet, VMs, Nodes, seed); the caller writes the plan.
//
// Which VMs are the set's: those whose ownerReferences name the VMSet's uid
// with controller=true. Terminating ones are on their way out and count for
// nothing (Kubernetes' ReplicaSet ignores pods being deleted the same way).
//
// Lost and Failed VMs:
//   - Lost (its node died): NOT replaced here. The scheduler re-places the same
//     VM elsewhere with epoch + 1 (scheduler README: needs_placement), which is
//     what stops a returning agent's stale copy. The VMSet loop keeps counting
//     it, and removes it first on scale-down. Lost is never the VM's own fault,
//     so restartPolicy does not apply to it.
//   - Failed: the agent already restarts crashed VMs in place with back-off, so
//     a VM reported Failed is one that did not come back on its host. Whether
//     the set replaces it (deletes it and creates a fresh one, which the
//     scheduler may place anywhere) follows the template's restartPolicy:
//       Always    → replaced;
//       OnFailure → replaced when it failed: status.lastError is non-empty (a
//                   non-zero exit, a signal, a start error). The agent leaves
//                   lastError empty on a clean exit (code 0): that VM is done;
//       Never     → kept as it is, for the user to inspect.
//     A Failed VM that is not replaced still counts as a replica.
//
// Scale-down keeps the spread and removes the worst first (scale_down.h):
// never a replica whose removal makes the skew exceed maxSkew while another
// choice keeps it; then Lost, Failed, unscheduled, on a node that is not
// Ready (or unknown), not Running yet, not Ready; then from the most crowded
// spread domain, then co-located (anti-affinity), then on the most loaded
// node, then the newest, then by name.
//
// Status condition SpreadSatisfied (spread_condition.h) when the set has a
// spread: whether the placed replicas keep maxSkew.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

struct VmSetOptions {
  // Characters of random suffix in `<vmset>-<suffix>`: 5, as Kubernetes' generateName.
  size_t name_suffix_length = 5;
};

struct VmSetInput {
  const VMSet* vmset = nullptr;
  // The set's VMs and every VM whose name a new replica could take (those
  // named "<set>-…"); more is fine. In name order (ties among equally good
  // replicas fall to the first). Pointers, not copies: a set of 10,000
  // replicas is reconciled on every pass that changed one of them.
  std::vector<const VM*> vms;
  // At least the nodes the VMs are bound to; for a set with spread or
  // anti-affinity also every node of its pool (a domain with no replica
  // must be seen to be judged).
  std::vector<const Node*> nodes;
  // Drives the new names: the same seed and inputs give the same plan. The
  // loop passes a fresh random seed per pass; tests pass a fixed one.
  uint64_t seed = 0;
  // The set's pool; nullptr when unknown (then spread is not judged).
  const Pool* pool = nullptr;
  // Wall time, RFC 3339: lastTransitionTime of conditions that change.
  std::string now;
};

struct VmDeletion {
  std::string vm;
  std::string reason;  // "scale-down 3 → 2: Lost", "replaced: Failed (exit code 1), restartPolicy Always"
};

struct VmReplacement {
  std::string failed_vm;  // also in VmSetPlan::remove
  std::string new_vm;     // also in VmSetPlan::create
  std::string reason;
};

struct VmSetPlan {
  std::vector<VM> create;                   // full objects to POST
  std::vector<std::string> create_reasons;  // why create[i]: "scale-up 3 → 5", "replaced: …"
  std::vector<VmDeletion> remove;           // worst first
  std::vector<VmReplacement> replacements;  // Failed VMs replaced per restartPolicy
  VMSetStatus status;                       // observed now, before the plan is applied
};

// REQUIRES: vmset, vms and nodes non-null.
VmSetPlan reconcile_vmset(const VmSetInput& in, const VmSetOptions& options = {});

// Whether a Failed VM is replaced under its restartPolicy (see above).
bool replaces_failed(const VM& vm);

// A new VM of the set: labels from the template plus corral.io/vmset, an
// ownerReference to the set (controller=true), spec from the template with
// priority = restartPriority and fencing from the set; no binding, epoch 0.
VM new_vm_for(const VMSet& vmset, const std::string& name);

// R = 1 − Π(1 − Rᵢ) over the distinct nodes its Running (current-epoch)
// replicas are bound to; Rᵢ is the Node's status.availability clamped to
// [0,1], 0 for an unknown node. No Running replica: R = 0.
double vmset_availability(const std::vector<const VM*>& running,
                          const std::vector<const Node*>& nodes);
double vmset_availability(const std::vector<const VM*>& running, const std::vector<Node>& nodes);

// Pointers to the elements of `items`: VmSetInput for a caller holding values.
template <class T>
std::vector<const T*> pointers_to(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const T& t : items) out.push_back(&t);
  return out;
}

}  // namespace corral::reconcile
