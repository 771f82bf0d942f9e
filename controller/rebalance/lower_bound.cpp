#include "controller/rebalance/lower_bound.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>

namespace corral::rebalance {
namespace {

// A node never needs more arrivals than this counted one by one: past it the
// count is capped, which keeps it a lower bound (the cap's worth of the
// largest VMs did not suffice) and spares sorting a whole 100,000-VM pool.
constexpr size_t kMaxCounted = 1024;

// Prefix sums of the largest `limit` values, largest first.
std::vector<int64_t> largest_first_sums(std::vector<int64_t> values, size_t limit = SIZE_MAX) {
  const size_t keep = std::min(limit, values.size());
  std::partial_sort(values.begin(), values.begin() + static_cast<ptrdiff_t>(keep), values.end(),
                    std::greater<>());
  std::vector<int64_t> sums(keep + 1, 0);
  for (size_t i = 0; i < keep; ++i) sums[i + 1] = sums[i] + values[i];
  return sums;
}

// The fewest leading values whose sum reaches `need`; all of them (the count)
// when even that is not enough.
int32_t fewest(const std::vector<int64_t>& sums, double need) {
  if (need <= 0) return 0;
  auto it = std::lower_bound(sums.begin(), sums.end(), need,
                             [](int64_t s, double n) { return static_cast<double>(s) < n; });
  if (it == sums.end()) return static_cast<int32_t>(sums.size() - 1);
  return static_cast<int32_t>(it - sums.begin());
}

}  // namespace

int32_t lower_bound(const LoadModel& model, const std::vector<bool>& movable, double slack) {
  const RebalancePolicy& p = model.policy();
  const double mean = model.mean();
  int64_t over_sum = 0, under_sum = 0;
  bool any_under = false;
  std::vector<int64_t> pool_cpu_sums, pool_memory_sums;
  for (uint32_t i = 0; i < model.size(); ++i) {
    if (model.in_band(i)) continue;
    const double d = model.deviation(i);
    if (d > p.maxImbalance || model.load(i) > p.highWatermark) {
      const double target = std::min(p.highWatermark, mean + p.maxImbalance + slack);
      std::vector<int64_t> cpu, memory;
      for (uint32_t v : model.vms_on(i)) {
        if (!movable[v]) continue;
        cpu.push_back(model.vm_cpu(v));
        memory.push_back(model.vm_memory(v));
      }
      const double cpu_need = model.allocatable_cpu(i) > 0
                                  ? static_cast<double>(model.cpu(i)) -
                                        target * static_cast<double>(model.allocatable_cpu(i))
                                  : 0;
      const double memory_need = model.allocatable_memory(i) > 0
                                     ? static_cast<double>(model.memory(i)) -
                                           target * static_cast<double>(model.allocatable_memory(i))
                                     : 0;
      over_sum += std::max(fewest(largest_first_sums(std::move(cpu)), cpu_need),
                           fewest(largest_first_sums(std::move(memory)), memory_need));
      continue;
    }
    // Under the band: the pool's largest movable VMs, sorted once.
    if (!any_under) {
      any_under = true;
      std::vector<int64_t> cpu, memory;
      for (uint32_t v = 0; v < movable.size(); ++v) {
        if (!movable[v] || model.node_of(v) == LoadModel::kNone) continue;
        cpu.push_back(model.vm_cpu(v));
        memory.push_back(model.vm_memory(v));
      }
      pool_cpu_sums = largest_first_sums(std::move(cpu), kMaxCounted);
      pool_memory_sums = largest_first_sums(std::move(memory), kMaxCounted);
    }
    const double target = mean - p.maxImbalance - slack;
    // A resource with no allocatable cannot raise Rᵢ: only the other can.
    int32_t k = INT32_MAX;
    if (model.allocatable_cpu(i) > 0)
      k = std::min(k, fewest(pool_cpu_sums, target * static_cast<double>(model.allocatable_cpu(i)) -
                                                static_cast<double>(model.cpu(i))));
    if (model.allocatable_memory(i) > 0)
      k = std::min(
          k, fewest(pool_memory_sums, target * static_cast<double>(model.allocatable_memory(i)) -
                                          static_cast<double>(model.memory(i))));
    if (k != INT32_MAX) under_sum += k;
  }
  return static_cast<int32_t>(std::max(over_sum, under_sum));
}

}  // namespace corral::rebalance
