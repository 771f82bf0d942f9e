#include "controller/scheduler/resource_filter.h"

#include "controller/scheduler/predicates.h"

namespace corral::scheduler {

void ResourceFitFilter::prepare(const VmRequest& vm, const ClusterSnapshot& snapshot) {
  const PoolInfo* pool = snapshot.pool(vm.pool);
  overcommit_ = pool ? pool->overcommit : Overcommit{};
}

bool ResourceFitFilter::fits(const VmRequest& vm, const NodeInfo& node,
                             const ClusterSnapshot& /*snapshot*/, std::string* reason) const {
  const bool cpu_ok =
      node.requested_cpu + vm.cpu <= overcommitted(node.allocatable_cpu, overcommit_.cpu);
  const bool memory_ok = node.requested_memory + vm.memory <=
                         overcommitted(node.allocatable_memory, overcommit_.memory);
  if (cpu_ok && memory_ok) return true;
  if (reason) {
    if (!cpu_ok && !memory_ok) {
      *reason = "insufficient cpu and memory";
    } else {
      *reason = cpu_ok ? "insufficient memory" : "insufficient cpu";
    }
  }
  return false;
}

}  // namespace corral::scheduler
