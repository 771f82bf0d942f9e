// Fits allocatable × the pool's overcommit, CPU and memory separately,
// counting what VMs already holding a place on the node requested.
#pragma once

#include "controller/scheduler/filter.h"

namespace corral::scheduler {

class ResourceFitFilter : public Filter {
 public:
  std::string_view name() const override { return "ResourceFit"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  // Reasons: "insufficient cpu", "insufficient memory", "insufficient cpu and
  // memory" (one reason per node, so the summary's counts add up to the nodes).
  bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
            std::string* reason) const override;

 private:
  Overcommit overcommit_;  // of the VM's pool; 1 × allocatable when it has none
};

}  // namespace corral::scheduler
