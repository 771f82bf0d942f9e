// Micro-benchmark (Google Benchmark) of one node-lifecycle decision pass
// (reconcile::decide_node_lifecycle), which the controller runs every
// node_monitor_period (250 ms) over every Node: at 10,000 nodes its cost is
// paid four times a second whatever the heartbeats do.
//   build/bench/node_lifecycle_bench [--benchmark_filter=...]
// Cases: every lease fresh (the steady state), and a share of the nodes
// silent but below the mass-failure guard (each suspect gets peers ranked and
// a probe request: the pass that heartbeat_bench at 10,000 agents spent
// 20 % of the controller's CPU on when beats ran late).
#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "controller/reconcile/node_lifecycle.h"

namespace {

using corral::reconcile::LeaseObservation;
using corral::reconcile::NodeLifecycleInput;
using corral::reconcile::NodeLifecycleOptions;
using corral::reconcile::SteadyTime;

struct Fleet {
  std::vector<corral::Node> nodes;
  std::vector<corral::Pool> pools;
  std::vector<corral::VM> vms;
  std::map<std::string, LeaseObservation> leases;
  SteadyTime started{};
  SteadyTime now{};
};

// `n` Ready nodes in three pools by zone, 30 VMs each; every `silent_every`-th
// node's lease last renewed `silent_for` ago (grace 2 s), the others 0.5 s ago.
Fleet make_fleet(int n, int silent_every, std::chrono::milliseconds silent_for) {
  Fleet f;
  f.now = SteadyTime{} + std::chrono::hours(2);
  f.started = f.now - std::chrono::hours(1);
  for (int z = 0; z < 3; ++z) {
    corral::Pool p;
    p.metadata.name = "zone-" + std::to_string(z);
    p.spec.nodeSelector = {{"zone", "z" + std::to_string(z)}};
    p.spec.failover.nodeGraceSeconds = 2;
    f.pools.push_back(std::move(p));
  }
  for (int i = 0; i < n; ++i) {
    corral::Node node;
    node.metadata.name = "node-" + std::to_string(i);
    node.metadata.labels = {{"zone", "z" + std::to_string(i % 3)}};
    node.status.phase = "Ready";
    node.status.conditions.push_back(corral::Condition{"Ready", "True", "", "", "", 0});
    node.status.address = "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + ":7070";
    const bool silent = silent_every > 0 && i % silent_every == 0;
    f.leases[node.metadata.name] =
        LeaseObservation{f.now - (silent ? silent_for : std::chrono::milliseconds(500)), true};
    for (int v = 0; v < 30; ++v) {
      corral::VM vm;
      vm.metadata.name = node.metadata.name + "-vm-" + std::to_string(v);
      vm.spec.nodeName = node.metadata.name;
      vm.status.phase = "Running";
      f.vms.push_back(std::move(vm));
    }
    f.nodes.push_back(std::move(node));
  }
  return f;
}

void run_pass(benchmark::State& state, int silent_every,
              std::chrono::milliseconds silent_for = std::chrono::milliseconds(0)) {
  const Fleet f = make_fleet(static_cast<int>(state.range(0)), silent_every, silent_for);
  NodeLifecycleInput in;
  in.nodes = &f.nodes;
  in.pools = &f.pools;
  in.vms = &f.vms;
  in.lease_of = corral::reconcile::lookup_in(f.leases);
  std::vector<size_t> order;  // kept between passes, as the loop keeps it
  in.name_order = &order;
  in.controller_started = f.started;
  in.now = f.now;
  NodeLifecycleOptions options;
  size_t probes = 0;
  for (auto _ : state) {
    auto r = corral::reconcile::decide_node_lifecycle(in, options);
    probes = r.probes.size();
    benchmark::DoNotOptimize(r);
  }
  state.counters["probe_requests"] = static_cast<double>(probes);
}

void BM_DecideAllFresh(benchmark::State& state) { run_pass(state, 0); }
BENCHMARK(BM_DecideAllFresh)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// One node in five silent (2,000 suspects at 10,000 nodes, under the guard's
// 50 %), expired 0.2 s ago: every suspect waits for its peers' probes, the
// state every pass sees until the probe timeout.
void BM_DecideFifthAwaitingProbes(benchmark::State& state) {
  run_pass(state, 5, std::chrono::milliseconds(2200));
}
BENCHMARK(BM_DecideFifthAwaitingProbes)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

// The same fifth past the probe timeout: the pass that declares them NotReady
// and lists their 30 VMs each as Lost (60,000 at 10,000 nodes).
void BM_DecideFifthDeclaredDead(benchmark::State& state) {
  run_pass(state, 5, std::chrono::milliseconds(3000));
}
BENCHMARK(BM_DecideFifthDeclaredDead)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
