// Soft preferences that apply whatever the strategy: each scores 1 when it has
// nothing to say, so it only reorders nodes where it does.
#pragma once

#include <cstdint>

#include "controller/scheduler/scorer.h"

namespace corral::scheduler {

// PreferNoSchedule taints the VM does not tolerate: 1 / (1 + how many).
class PreferNoScheduleScorer : public Scorer {
 public:
  std::string_view name() const override { return "prefer-no-schedule"; }
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;
};

// VMSet.spec.antiAffinity with mode "preferred": 1 / (1 + replicas of the set
// already in the node's domain).
class PreferredAntiAffinityScorer : public Scorer {
 public:
  std::string_view name() const override { return "preferred-anti-affinity"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;

 private:
  const VmSetInfo* set_ = nullptr;  // null: no preferred anti-affinity
  DomainCounter replicas_;
};

// VMSet.spec.spread: 1 / (1 + count(domain) − min over eligible domains), so
// the emptiest domain wins within what the filter allows.
class TopologySpreadScorer : public Scorer {
 public:
  std::string_view name() const override { return "topology-spread"; }
  void prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) override;
  double score(const VmRequest& vm, const NodeInfo& node,
               const ClusterSnapshot& snapshot) const override;

 private:
  const VmSetInfo* set_ = nullptr;  // null: no spread policy
  int32_t min_count_ = 0;
  DomainCounter replicas_;
};

}  // namespace corral::scheduler
