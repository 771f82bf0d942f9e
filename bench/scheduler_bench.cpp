// Scheduler throughput including the store writes: --vms pending VMs placed on
// --nodes Ready nodes by the controller's real scheduler loop (filters,
// scorers, binding spec + status written with resourceVersion preconditions,
// group-committed), once into a SQLite file and once into the memory store.
// Timed: the passes (5,000 VMs each at most) and the cache reads between them.
//
//   build/bench/scheduler_bench [--nodes 5000] [--vms 10000] [--writers 128] [--etcd 1]
//
// --etcd 1 also runs it on the etcd store (a real single-member etcd started
// here), after SQLite and memory.
//
// Setup (not timed): Nodes, a Pool and a VMSet are written, the VMSet loop
// creates the VMs. Timed: the scheduler passes that bind them all. Prints wall
// and CPU time per placement. Target (issue 4): >= 10,000 placements/s with
// 5,000 nodes (Nomad's C1M: 3,750/s on 5 servers; kube-scheduler ~100 pods/s
// at 5,000 nodes).
#include <sys/resource.h>

#include <cstdio>
#include <functional>
#include <memory>

#include "api/json.h"
#include "api/kinds.h"
#include "bench/bench_util.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/loops/controller_manager.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/store.h"
#include "controller/store/etcd_store.h"
#include "tests/support/etcd_process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace corral;

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Nobody is suspected in this bench; a prober that is never asked.
class NoProber final : public loops::PeerProber {
 public:
  void request(const loops::PeerProbeRequest& r, loops::ProbeDone done) override { done(r.node, false); }
};

template <class T>
bool create(store::Store& store, const T& object) {
  auto normalized = normalize_object(to_json(object));
  if (!normalized) {
    std::fprintf(stderr, "%s\n", normalized.error().to_string().c_str());
    return false;
  }
  return store.create(T::kKind, std::move(*normalized)).ok();
}

bool run(const char* label, store::Store& store, int nodes, int vms, int writers) {
  const Clock& clock = RealClock::instance();
  heartbeat::LeaseTable leases;
  {
    loops::WriterPool pool(64);  // durable creates one by one would take minutes
    std::vector<std::function<void()>> fns;
    for (int i = 0; i < nodes; ++i) {
      fns.push_back([&store, i] {
        Node n;
        n.metadata.name = "host-" + std::to_string(i);
        n.metadata.labels = {{"role", "web"}, {"zone", "z" + std::to_string(i % 3)}};
        n.status.allocatable.cpu = Quantity::from_milli(64'000);
        n.status.allocatable.memory = Quantity::from_bytes(256LL << 30);
        n.status.capacity = n.status.allocatable;
        n.status.phase = "Ready";
        n.status.conditions.push_back(Condition{"Ready", "True", "NodeReady", "", "", 0});
        create(store, n);
      });
    }
    pool.run_all(std::move(fns));
  }
  for (int i = 0; i < nodes; ++i)
    leases.renew("host-" + std::to_string(i), "bench/1", clock.steady_now());
  Pool pool;
  pool.metadata.name = "web";
  pool.spec.nodeSelector = {{"role", "web"}};
  VMSet set;
  set.metadata.name = "app";
  set.spec.pool = "web";
  set.spec.replicas = vms;
  set.spec.templ.spec.resources.cpu = Quantity::from_milli(500);
  set.spec.templ.spec.resources.memory = Quantity::from_bytes(1LL << 30);
  set.spec.templ.spec.runtime.driver = "sim";
  if (!create(store, pool) || !create(store, set)) return false;

  NoProber prober;
  loops::ControllerManagerOptions options;
  options.writer_threads = static_cast<size_t>(writers);
  if (std::string(label) == "etcd") {  // as corral-controller sets them on etcd
    options.scheduler.write_batch = 1;
    options.events.create_chunk = 1;
  }
  loops::ControllerManager mgr(store, clock, leases, prober, options);
  if (!mgr.init().ok()) return false;
  mgr.vmsets().observe(mgr.cache().sync());
  mgr.vmsets().run_once();  // creates the VMs (not timed)
  mgr.scheduler().observe(mgr.cache().sync());

  // Timed: scheduler passes as the controller's loop thread runs them, each
  // followed by reading the loops' cache watch (the pass's own writes come
  // back through it), until every VM is bound.
  const double cpu_before = process_cpu_seconds();
  const auto started = bench::SteadyClock::now();
  loops::SchedulerPassStats s;
  int passes = 0;
  while (s.bound < static_cast<size_t>(vms) && passes < 100) {
    loops::SchedulerPassStats pass = mgr.scheduler().run_once();
    ++passes;
    s.bound += pass.bound;
    s.conflicts += pass.conflicts;
    s.write_errors += pass.write_errors;
    mgr.scheduler().observe(mgr.cache().sync());
    if (pass.attempted == 0) break;
  }
  const double secs = bench::ms_since(started) / 1000;
  const double cpu = process_cpu_seconds() - cpu_before;
  std::printf("%-7s %zu of %d VMs bound on %d nodes in %d passes, %.2f s = %.0f placements/s; "
              "CPU %.2f s (%.0f us per placement); %zu conflicts, %zu write errors\n",
              label, s.bound, vms, nodes, passes, secs, static_cast<double>(s.bound) / secs, cpu,
              cpu * 1e6 / static_cast<double>(std::max<size_t>(1, s.bound)), s.conflicts,
              s.write_errors);
  return s.bound == static_cast<size_t>(vms);
}

}  // namespace

int main(int argc, char** argv) {
  const int nodes = bench::int_flag(argc, argv, "--nodes", 5000);
  const int vms = bench::int_flag(argc, argv, "--vms", 10000);
  const int writers = bench::int_flag(argc, argv, "--writers", 128);
  std::printf("scheduler_bench: %d VMs onto %d nodes, %d writer threads, %u cores "
              "(target >= 10000 placements/s)\n",
              vms, nodes, writers, std::thread::hardware_concurrency());
  corral::testing::TempDir dir;
  auto sqlite = store::open_sqlite_store((dir.path() / "corral.db").string(), RealClock::instance());
  if (!sqlite) {
    std::fprintf(stderr, "%s\n", sqlite.error().message.c_str());
    return 1;
  }
  bool ok = run("sqlite", **sqlite, nodes, vms, writers);
  auto memory = store::open_memory_store(RealClock::instance());
  ok = run("memory", *memory, nodes, vms, writers) && ok;
  if (bench::int_flag(argc, argv, "--etcd", 0) != 0) {
    corral::testing::EtcdProcess etcd;
    std::string error;
    if (!etcd.start(&error)) {
      std::fprintf(stderr, "%s\n", error.c_str());
      return 1;
    }
    store::EtcdStoreOptions options;
    options.endpoints = {etcd.endpoint()};
    auto on_etcd = store::open_etcd_store(options, RealClock::instance());
    if (!on_etcd) {
      std::fprintf(stderr, "%s\n", on_etcd.error().message.c_str());
      return 1;
    }
    ok = run("etcd", **on_etcd, nodes, vms, writers) && ok;
  }
  return ok ? 0 : 1;
}
