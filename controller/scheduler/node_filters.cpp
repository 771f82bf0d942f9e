#include "controller/scheduler/node_filters.h"

#include "controller/scheduler/predicates.h"

namespace corral::scheduler {

void PoolMembershipFilter::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  pool_ = snapshot.pool(vm.pool);
}

std::string PoolMembershipFilter::reason(std::string_view pool) {
  return "not in pool " + std::string(pool);
}

bool PoolMembershipFilter::fits(const VmRequest& vm, const NodeInfo& node,
                                const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  if (pool_ != nullptr && node.present && pool_selects(pool_->node_selector, node.labels))
    return true;
  if (reason) *reason = PoolMembershipFilter::reason(vm.pool);
  return false;
}

bool ReadyFilter::fits(const VmRequest& /*vm*/, const NodeInfo& node,
                       const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  if (node.ready && node.present) return true;
  if (reason) *reason = node_phase::kNotReady;
  return false;
}

bool NotCordonedFilter::fits(const VmRequest& /*vm*/, const NodeInfo& node,
                             const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  if (!node.unschedulable) return true;
  if (reason) *reason = "cordoned";
  return false;
}

bool TaintFilter::fits(const VmRequest& vm, const NodeInfo& node,
                       const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  const Taint* taint = first_untolerated_hard_taint(vm, node);
  if (taint == nullptr) return true;
  if (reason) *reason = "untolerated taint " + taint_text(*taint);
  return false;
}

}  // namespace corral::scheduler
