// A filter answers "may this VM go on this node?" and, when it may not, says
// why (Nomad's FeasibilityChecker). The scheduler counts those reasons into the
// VM's unschedulable message, which `corralctl describe vm` shows.
#pragma once

#include <string>
#include <string_view>

#include "controller/scheduler/snapshot.h"

namespace corral::scheduler {

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // Called once per VM before fits() is asked about any node (kube-scheduler's
  // PreFilter): a filter computes here what does not depend on the node.
  // REQUIRES: called again whenever the VM or the snapshot changed.
  virtual void prepare(const VmRequest& /*vm*/, const ClusterSnapshot& /*snapshot*/) {}
  // Pure given the last prepare(): true when `vm` may go on `node`; when not,
  // and `reason` is not null, sets it to a short human reason
  // ("insufficient memory"). The reason is only built when asked for, so the
  // hot path does no string work.
  virtual bool fits(const VmRequest& vm, const NodeInfo& node, const ClusterSnapshot& snapshot,
                    std::string* reason) const = 0;
};

}  // namespace corral::scheduler
