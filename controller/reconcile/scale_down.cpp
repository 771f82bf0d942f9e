#include "controller/reconcile/scale_down.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "api/conditions.h"
#include "controller/reconcile/common.h"
#include "controller/reconcile/set_topology.h"

namespace corral::reconcile {
namespace {

// Worst-first health rank; lower is removed first.
// (Scoped and uniquely named: library sources are compiled in unity batches.)
enum class VictimHealth {
  kLost = 0,
  kFailed,
  kUnscheduled,
  kNodeNotReady,
  kNotRunning,
  kNotReady,
  kHealthy,
};

const char* victim_health_name(VictimHealth h) {
  static constexpr const char* kNames[] = {
      vm_phase::kLost,   vm_phase::kFailed, "unscheduled", "on a node that is not Ready",
      "not running yet", "not Ready",       "healthy"};
  return kNames[static_cast<int>(h)];
}

struct RankedVictim {
  const VM* vm = nullptr;
  bool breaks_spread = false;
  VictimHealth health = VictimHealth::kHealthy;
  int32_t spread_count = 0;   // replicas in its spread domain
  int32_t shared_domain = 0;  // replicas in its anti-affinity domain
  double load = 0;
};

// True when a should be removed before b.
bool removed_before(const RankedVictim& a, const RankedVictim& b) {
  if (a.breaks_spread != b.breaks_spread) return !a.breaks_spread;
  if (a.health != b.health) return a.health < b.health;
  if (a.spread_count != b.spread_count) return a.spread_count > b.spread_count;
  if (a.shared_domain != b.shared_domain) return a.shared_domain > b.shared_domain;
  if (a.load != b.load) return a.load > b.load;
  // Newest first; an empty timestamp (not yet stamped by the server) is newest.
  const std::string& ta = a.vm->metadata.creationTimestamp;
  const std::string& tb = b.vm->metadata.creationTimestamp;
  if (ta != tb) return ta.empty() || (!tb.empty() && ta > tb);
  return a.vm->metadata.name > b.vm->metadata.name;
}

}  // namespace

std::vector<Victim> choose_victims(const ScaleDownInput& in) {
  const VMSet& set = *in.vmset;
  std::map<std::string_view, const Node*> node_of;
  for (const Node& n : *in.nodes) node_of[n.metadata.name] = &n;
  auto health_of = [&](const VM& vm) {
    if (vm.status.phase == vm_phase::kLost) return VictimHealth::kLost;
    if (vm.status.phase == vm_phase::kFailed) return VictimHealth::kFailed;
    if (vm.spec.nodeName.empty()) return VictimHealth::kUnscheduled;
    auto it = node_of.find(vm.spec.nodeName);
    if (it == node_of.end() || !node_ready(*it->second)) return VictimHealth::kNodeNotReady;
    if (vm.status.phase != vm_phase::kRunning || vm.status.epoch != vm.spec.epoch)
      return VictimHealth::kNotRunning;
    if (!condition_is_true(vm.status.conditions, condition_type::kReady))
      return VictimHealth::kNotReady;
    return VictimHealth::kHealthy;
  };
  auto load_of = [&](const VM& vm) {
    auto it = node_of.find(vm.spec.nodeName);
    return it == node_of.end() ? 0.0 : node_load(*it->second);
  };

  SetTopology topology(set, in.candidates, *in.nodes, in.pool);
  const int32_t max_skew = set.spec.spread ? set.spec.spread->maxSkew : 0;
  std::vector<const VM*> left = in.candidates;
  std::vector<Victim> victims;
  while (victims.size() < in.count && !left.empty()) {
    scheduler::TopologySkew skew;
    if (topology.judges_spread()) skew = topology.spread();
    std::vector<RankedVictim> ranked;
    ranked.reserve(left.size());
    for (const VM* vm : left) {
      RankedVictim r;
      r.vm = vm;
      r.health = health_of(*vm);
      r.load = load_of(*vm);
      r.shared_domain = topology.sharing_anti_affinity_domain(*vm);
      if (const std::string* domain = topology.spread_domain(*vm)) {
        const int32_t after = scheduler::skew_without_one(skew, *domain);
        r.breaks_spread = after > max_skew && after > skew.skew();
        auto d = std::lower_bound(
            skew.domains.begin(), skew.domains.end(), *domain,
            [](const scheduler::DomainCount& c, const std::string& v) { return c.value < v; });
        if (d != skew.domains.end() && d->value == *domain) r.spread_count = d->count;
      }
      ranked.push_back(r);
    }
    const RankedVictim& pick = *std::min_element(ranked.begin(), ranked.end(), removed_before);
    std::string why;
    if (pick.health != VictimHealth::kHealthy) {
      why = victim_health_name(pick.health);
    } else if (pick.breaks_spread) {
      why = "every choice exceeds maxSkew";
    } else if (pick.spread_count > 0 && pick.spread_count == skew.max &&
               skew.max > skew.min_eligible) {
      why = "in " + topology.spread_key() + "=" + *topology.spread_domain(*pick.vm) + " (" +
            std::to_string(pick.spread_count) + " replicas, the most)";
    } else if (pick.shared_domain > 1) {
      why = "shares " + topology.anti_affinity_key() + "=" +
            *topology.anti_affinity_domain(*pick.vm) + " with another replica";
    } else {
      why = "on the most loaded node";
    }
    victims.push_back(Victim{pick.vm, std::move(why)});
    topology.remove(*pick.vm);
    std::erase(left, pick.vm);
  }
  return victims;
}

}  // namespace corral::reconcile
