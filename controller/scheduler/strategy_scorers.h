// The placement strategies a Pool picks with spec.placement.
#pragma once

#include <memory>

#include "controller/scheduler/scorer.h"

namespace corral::scheduler {

// "spread": the fewest replicas of the VM's VMSet on the node first; among
// equals, the fewest VMs of any kind. Score 1 / (1 + n_set + n_all/(n_all+1)),
// which orders by (n_set, n_all) lexicographically and needs no cluster-wide max.
class SpreadScorer : public Scorer {
 public:
  std::string_view name() const override { return "spread"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;

 private:
  const VmSetInfo* set_ = nullptr;
};

// "binpack": the fullest node first, by requested share of allocatable ×
// overcommit after placing the VM, the mean of CPU and memory (both must fill
// for the pool to need fewer hosts).
class BinpackScorer : public Scorer {
 public:
  std::string_view name() const override { return "binpack"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;

 private:
  Overcommit overcommit_;
};

// "leastLoaded": the lowest measured load first. Load = (usage + requests of
// VMs bound but not yet Running + this VM's request) / allocatable, the larger
// of CPU and memory — the Rᵢ of the pool status, plus what is on its way.
// Score 1 − load, clamped to [0,1].
class LeastLoadedScorer : public Scorer {
 public:
  std::string_view name() const override { return "leastLoaded"; }
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;
};

std::unique_ptr<Scorer> make_strategy_scorer(Strategy strategy);

}  // namespace corral::scheduler
