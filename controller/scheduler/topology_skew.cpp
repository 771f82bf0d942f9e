#include "controller/scheduler/topology_skew.h"

#include <algorithm>
#include <limits>

#include "controller/scheduler/predicates.h"

namespace corral::scheduler {

const DomainCount* TopologySkew::most_crowded() const {
  for (const DomainCount& d : domains)
    if (d.count == max) return &d;
  return nullptr;
}

const DomainCount* TopologySkew::emptiest_eligible() const {
  for (const DomainCount& d : domains)
    if (d.eligible && d.count == min_eligible) return &d;
  return nullptr;
}

TopologySkew topology_skew(const VmRequest& vm, const VmSetInfo& set, const PoolInfo& pool,
                           std::string_view key, const ClusterSnapshot& snapshot) {
  TopologySkew out;
  const auto& nodes = snapshot.nodes();
  const DomainCounter replicas(set, std::string(key));
  int32_t min = std::numeric_limits<int32_t>::max();
  for (const Domain& d : snapshot.domains(pool, key)) {
    DomainCount c;
    c.value = d.value;
    c.count = replicas.count(nodes[d.nodes.front()]);
    c.eligible = std::any_of(d.nodes.begin(), d.nodes.end(),
                             [&](uint32_t n) { return schedulable_for(vm, nodes[n]); });
    out.max = std::max(out.max, c.count);
    if (c.eligible) {
      out.any_eligible = true;
      min = std::min(min, c.count);
    }
    out.domains.push_back(std::move(c));
  }
  out.min_eligible = out.any_eligible ? min : 0;
  out.at_max =
      static_cast<int32_t>(std::count_if(out.domains.begin(), out.domains.end(),
                                         [&](const DomainCount& d) { return d.count == out.max; }));
  return out;
}

int32_t skew_without_one(const TopologySkew& before, std::string_view value) {
  auto it = std::lower_bound(
      before.domains.begin(), before.domains.end(), value,
      [](const DomainCount& d, std::string_view v) { return std::string_view(d.value) < v; });
  if (it == before.domains.end() || it->value != value || it->count <= 0) return before.skew();
  if (!before.any_eligible) return 0;
  // Only this domain's count drops by one: the max drops when it held the
  // max alone; the min drops when it is an eligible domain at the min.
  const int32_t max = it->count == before.max && before.at_max == 1 ? before.max - 1 : before.max;
  const int32_t min =
      it->eligible ? std::min(before.min_eligible, it->count - 1) : before.min_eligible;
  return max - min;
}

}  // namespace corral::scheduler
