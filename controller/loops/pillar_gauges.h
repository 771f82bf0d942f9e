// The three pillars as Prometheus gauges, so that operators graph and alert
// on the numbers the API reports (issue 18 §4):
//
//   corral_pool_capacity{pool,resource}        V = Σ Pᵢ (cores; bytes)
//   corral_pool_schedulable{pool,resource}     V × overcommit
//   corral_pool_allocated{pool,resource}       Σ requests of its VMs
//   corral_pool_used{pool,resource}            Σ measured use of its nodes
//   corral_pool_mean_load{pool}                L = Σ Rᵢ / n
//   corral_pool_load_spread{pool}              max |Rᵢ − L|
//   corral_pool_nodes{pool,state}              ready, total
//   corral_pool_tolerable_failures{pool}
//   corral_vmset_availability{vmset}           R = 1 − Π(1 − Rᵢ)
//   corral_vmset_desired_replicas{vmset}
//   corral_vmset_replicas{vmset,phase}         its VMs by phase
//   corral_nodes{phase}                        Nodes by phase
//   corral_pool_tolerate_node_failures{pool}   the pool's admission target (spec)
//   corral_balancer_endpoints{balancer,state}  healthy, total (as last reported)
//
// Read from the controller's object cache on the loops' thread (the cache is
// not thread-safe) every `period`; each gauge is a held child, and children
// whose pool, set or phase went away are dropped, so a deleted pool stops
// showing instead of freezing at its last value.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "base/clock.h"
#include "base/metrics.h"
#include "controller/loops/object_cache.h"

namespace corral::loops {

class PillarGauges {
 public:
  PillarGauges(metrics::Registry& registry, const Clock& clock,
               std::chrono::milliseconds period = std::chrono::seconds(5));

  // Sets every gauge from `cache` when `period` has passed since the last
  // update (at once the first time).
  void maybe_update(const ObjectCache& cache);
  void update(const ObjectCache& cache);

 private:
  void set(metrics::GaugeFamily& family, metrics::LabelValues values, double value,
           std::vector<std::shared_ptr<metrics::Gauge>>& held);

  const Clock& clock_;
  const std::chrono::milliseconds period_;
  std::chrono::steady_clock::time_point next_{};
  std::vector<metrics::GaugeFamily*> families_;
  metrics::GaugeFamily& capacity_;
  metrics::GaugeFamily& schedulable_;
  metrics::GaugeFamily& allocated_;
  metrics::GaugeFamily& used_;
  metrics::GaugeFamily& mean_load_;
  metrics::GaugeFamily& load_spread_;
  metrics::GaugeFamily& pool_nodes_;
  metrics::GaugeFamily& tolerable_;
  metrics::GaugeFamily& availability_;
  metrics::GaugeFamily& desired_;
  metrics::GaugeFamily& replicas_;
  metrics::GaugeFamily& nodes_;
  metrics::GaugeFamily& tolerate_target_;
  metrics::GaugeFamily& balancer_endpoints_;
  std::vector<std::shared_ptr<metrics::Gauge>> held_;  // every child set last time
};

}  // namespace corral::loops
