// Filters that look at the node alone: pool membership, Ready, cordon, taints.
#pragma once

#include "controller/scheduler/filter.h"

namespace corral::scheduler {

// The node's labels include all of the VM's pool's nodeSelector. The scheduler
// walks the pool's member index instead of asking this for every node of the
// cluster; it uses reason() for the nodes it skipped.
class PoolMembershipFilter : public Filter {
 public:
  std::string_view name() const override { return "PoolMembership"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;
  static std::string reason(std::string_view pool);  // "not in pool web"

 private:
  const PoolInfo* pool_ = nullptr;
};

// Ready (see NodeInfo::ready). Never bind to a node that may be dead.
class ReadyFilter : public Filter {
 public:
  std::string_view name() const override { return "Ready"; }
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;
};

// Not cordoned (spec.unschedulable): VMs already there stay, nothing new lands.
class NotCordonedFilter : public Filter {
 public:
  std::string_view name() const override { return "NotCordoned"; }
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;
};

// Every NoSchedule and NoExecute taint of the node is tolerated by the VM.
// PreferNoSchedule taints pass here and lower the score instead.
class TaintFilter : public Filter {
 public:
  std::string_view name() const override { return "Taints"; }
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;
};

}  // namespace corral::scheduler
