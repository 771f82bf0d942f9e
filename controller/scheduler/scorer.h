// A scorer ranks the nodes that passed every filter: a score in [0,1], higher
// is better. The scheduler adds them up with the weights of Options.
#pragma once

#include <string_view>

#include "controller/scheduler/snapshot.h"

namespace corral::scheduler {

class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual std::string_view name() const = 0;
  // Called once per VM before score() (as Filter::prepare).
  virtual void prepare(const VmRequest& /*vm*/, const ClusterSnapshot& /*snapshot*/) {}
  // REQUIRES: `node` passed every filter for `vm`. Returns a value in [0,1].
  virtual double score(const VmRequest& vm, const NodeInfo& node,
                       const ClusterSnapshot& snapshot) const = 0;
};

}  // namespace corral::scheduler
