// Small node predicates shared by the filters, the scorers and the snapshot, so
// that "eligible" means the same thing everywhere (for example, the topology
// spread filter's eligible domains use exactly the Ready, cordon and taint rules
// of those filters).
#pragma once

#include <cstdint>
#include <string>

#include "api/types.h"
#include "controller/scheduler/snapshot.h"

namespace corral::scheduler {

// A pool's nodeSelector holds when the node's labels include all of it.
bool pool_selects(const Labels& node_selector, const Labels& node_labels);

// Kubernetes toleration matching: the effect matches (or the toleration names
// none); operator Exists matches the key (or every key when the key is empty),
// Equal matches key and value.
bool tolerates(const Toleration& toleration, const Taint& taint);
bool tolerated(const std::vector<Toleration>& tolerations, const Taint& taint);

// NoSchedule and NoExecute must be tolerated to place a VM; PreferNoSchedule
// only lowers the score.
bool is_hard_effect(const std::string& effect);

// The first NoSchedule/NoExecute taint of `node` that `vm` does not tolerate,
// or nullptr.
const Taint* first_untolerated_hard_taint(const VmRequest& vm, const NodeInfo& node);
// How many PreferNoSchedule taints of `node` `vm` does not tolerate.
int untolerated_soft_taints(const VmRequest& vm, const NodeInfo& node);

// "key=value:Effect", or "key:Effect" without a value.
std::string taint_text(const Taint& taint);

// Ready, not cordoned and no untolerated hard taint: where `vm` could go if
// resources and replica placement allowed it.
bool schedulable_for(const VmRequest& vm, const NodeInfo& node);

// allocatable × overcommit, rounded down so that a promise never exceeds it.
int64_t overcommitted(int64_t allocatable, double overcommit);

}  // namespace corral::scheduler
