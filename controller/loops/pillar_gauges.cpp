#include "controller/loops/pillar_gauges.h"

#include <map>
#include <string>

#include "api/types.h"

namespace corral::loops {

namespace {
constexpr const char* kVMSetLabel = "corral.io/vmset";
}  // namespace

PillarGauges::PillarGauges(metrics::Registry& r, const Clock& clock,
                           std::chrono::milliseconds period)
    : clock_(clock),
      period_(period),
      capacity_(r.gauge("corral_pool_capacity",
                        "Pool capacity V = sum of the allocatable of its Ready nodes (cpu: cores, "
                        "memory: bytes)",
                        {"pool", "resource"})),
      schedulable_(r.gauge("corral_pool_schedulable",
                           "Pool capacity times its overcommit: what the scheduler may promise",
                           {"pool", "resource"})),
      allocated_(r.gauge("corral_pool_allocated", "Sum of the requests of the VMs on the pool's nodes",
                         {"pool", "resource"})),
      used_(r.gauge("corral_pool_used", "Sum of the measured use of the pool's nodes",
                    {"pool", "resource"})),
      mean_load_(r.gauge("corral_pool_mean_load",
                         "Mean load L = sum of the nodes' loads / number of Ready nodes", {"pool"})),
      load_spread_(r.gauge("corral_pool_load_spread",
                           "Largest deviation of a Ready node's load from L", {"pool"})),
      pool_nodes_(r.gauge("corral_pool_nodes", "Nodes of the pool, ready and total",
                          {"pool", "state"})),
      tolerable_(r.gauge("corral_pool_tolerable_failures",
                         "Node failures the pool can absorb now", {"pool"})),
      availability_(r.gauge("corral_vmset_availability",
                            "VMSet availability R = 1 - product of (1 - R_i) over its hosts",
                            {"vmset"})),
      desired_(r.gauge("corral_vmset_desired_replicas", "spec.replicas of the VMSet", {"vmset"})),
      replicas_(r.gauge("corral_vmset_replicas", "The VMSet's VMs by phase", {"vmset", "phase"})),
      nodes_(r.gauge("corral_nodes", "Nodes by phase", {"phase"})),
      tolerate_target_(r.gauge("corral_pool_tolerate_node_failures",
                               "spec.failover.tolerateNodeFailures: the failures the pool must "
                               "absorb (its admission limit)",
                               {"pool"})),
      balancer_endpoints_(r.gauge("corral_balancer_endpoints",
                                  "A Balancer's endpoints, healthy (as the data plane last "
                                  "reported) and total",
                                  {"balancer", "state"})) {
  families_ = {&capacity_,   &schedulable_,     &allocated_,         &used_,
               &mean_load_,  &load_spread_,     &pool_nodes_,        &tolerable_,
               &availability_, &desired_,       &replicas_,          &nodes_,
               &tolerate_target_, &balancer_endpoints_};
}

void PillarGauges::set(metrics::GaugeFamily& family, metrics::LabelValues values, double value,
                       std::vector<std::shared_ptr<metrics::Gauge>>& held) {
  auto gauge = family.share(std::move(values));
  gauge->set(value);
  held.push_back(std::move(gauge));
}

void PillarGauges::maybe_update(const ObjectCache& cache) {
  const auto now = clock_.steady_now();
  if (now < next_) return;
  next_ = now + period_;
  update(cache);
}

void PillarGauges::update(const ObjectCache& cache) {
  std::vector<std::shared_ptr<metrics::Gauge>> held;
  held.reserve(held_.size() + 16);
  for (const Pool& pool : cache.pools().items()) {
    const std::string& name = pool.metadata.name;
    const PoolStatus& s = pool.status;
    for (auto [family, list] : {std::pair{&capacity_, &s.capacity}, std::pair{&schedulable_, &s.schedulable},
                                std::pair{&allocated_, &s.allocated}, std::pair{&used_, &s.used}}) {
      set(*family, {name, "cpu"}, list->cpu.value(), held);
      set(*family, {name, "memory"}, list->memory.value(), held);
    }
    set(mean_load_, {name}, s.meanLoad, held);
    set(load_spread_, {name}, s.loadSpread, held);
    set(pool_nodes_, {name, "ready"}, s.readyNodes, held);
    set(pool_nodes_, {name, "total"}, s.totalNodes, held);
    set(tolerable_, {name}, s.tolerableFailures, held);
    set(tolerate_target_, {name}, pool.spec.failover.tolerateNodeFailures, held);
  }
  for (const Balancer& balancer : cache.balancers().items()) {
    int healthy = 0;
    for (const auto& e : balancer.status.endpoints) healthy += e.health == endpoint_health::kHealthy;
    set(balancer_endpoints_, {balancer.metadata.name, "healthy"}, healthy, held);
    set(balancer_endpoints_, {balancer.metadata.name, "total"},
        static_cast<double>(balancer.status.endpoints.size()), held);
  }
  std::map<std::pair<std::string, std::string>, int> by_phase;  // (set, phase) → VMs
  for (const VMSet& vmset : cache.vmsets().items()) {
    set(availability_, {vmset.metadata.name}, vmset.status.availability, held);
    set(desired_, {vmset.metadata.name}, vmset.spec.replicas, held);
  }
  for (const VM& vm : cache.vms().items()) {
    auto owner = vm.metadata.labels.find(kVMSetLabel);
    if (owner == vm.metadata.labels.end() || !cache.vmset(owner->second)) continue;
    ++by_phase[{owner->second, vm.status.phase.empty() ? std::string(vm_phase::kPending)
                                                        : vm.status.phase}];
  }
  for (const auto& [key, count] : by_phase) set(replicas_, {key.first, key.second}, count, held);
  std::map<std::string, int> node_phases;
  for (const Node& node : cache.nodes().items())
    ++node_phases[node.status.phase.empty() ? std::string(node_phase::kUnknown) : node.status.phase];
  for (const auto& [phase, count] : node_phases) set(nodes_, {phase}, count, held);
  // What was set last time and not now (a deleted pool, a phase no VM is
  // in any more) goes.
  held_ = std::move(held);
  for (metrics::GaugeFamily* family : families_) family->prune_unused();
}

}  // namespace corral::loops
