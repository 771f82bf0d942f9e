#include "controller/scheduler/strategy_scorers.h"

#include <algorithm>

#include "controller/scheduler/predicates.h"

namespace corral::scheduler {
namespace {

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

// used / total; a node with nothing to give counts as full.
double share(int64_t used, int64_t total) {
  if (total <= 0) return 1.0;
  return static_cast<double>(used) / static_cast<double>(total);
}

}  // namespace

void SpreadScorer::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  set_ = snapshot.vmset(vm.vmset);
}

double SpreadScorer::score(const VmRequest& /*vm*/, const NodeInfo& node,
                           const ClusterSnapshot& /*snapshot*/) const {
  double siblings = 0;
  if (set_ != nullptr) {
    auto it = set_->per_node.find(node.index);
    if (it != set_->per_node.end()) siblings = it->second.count;
  }
  const double all = std::max(node.vm_count, 0);
  return 1.0 / (1.0 + siblings + all / (all + 1.0));
}

void BinpackScorer::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  const PoolInfo* pool = snapshot.pool(vm.pool);
  overcommit_ = pool ? pool->overcommit : Overcommit{};
}

double BinpackScorer::score(const VmRequest& vm, const NodeInfo& node,
                            const ClusterSnapshot& /*snapshot*/) const {
  const double cpu =
      share(node.requested_cpu + vm.cpu, overcommitted(node.allocatable_cpu, overcommit_.cpu));
  const double memory = share(node.requested_memory + vm.memory,
                              overcommitted(node.allocatable_memory, overcommit_.memory));
  return clamp01((clamp01(cpu) + clamp01(memory)) / 2.0);
}

double LeastLoadedScorer::score(const VmRequest& vm, const NodeInfo& node,
                                const ClusterSnapshot& /*snapshot*/) const {
  const double cpu = share(node.usage_cpu + node.expected_cpu + vm.cpu, node.allocatable_cpu);
  const double memory =
      share(node.usage_memory + node.expected_memory + vm.memory, node.allocatable_memory);
  return clamp01(1.0 - std::max(cpu, memory));
}

std::unique_ptr<Scorer> make_strategy_scorer(Strategy strategy) {
  switch (strategy) {
    case Strategy::kBinpack:
      return std::make_unique<BinpackScorer>();
    case Strategy::kLeastLoaded:
      return std::make_unique<LeastLoadedScorer>();
    case Strategy::kSpread:
      break;
  }
  return std::make_unique<SpreadScorer>();
}

}  // namespace corral::scheduler
