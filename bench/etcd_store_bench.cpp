// Acknowledged creates/s of the Store on etcd, beside the same on SQLite and
// beside raw etcd puts of the same size, in one run (issue 16: the etcd store
// should reach >= 0.8x raw etcd).
//
//   build/bench/etcd_store_bench [--seconds 10] [--threads 32]
//
// Every figure is closed-loop: --threads writers, each sending its next write
// when the last one was acknowledged, for --seconds.
//  - raw etcd put     EtcdClient::put of a value as large as a stored VM, to
//                     a fresh key each (what etcd and the JSON gateway cost)
//  - raw etcd txn     the same put inside a create-if-absent transaction
//                     (compare create_revision == 0): what any create that
//                     must not overwrite costs — Kubernetes' included
//  - etcd store       Store::create of a VM: the create-if-absent transaction,
//                     then waiting until the store's watch feed has published
//                     it (acknowledged means visible, as on SQLite)
//  - sqlite store     Store::create on the embedded store (group commit)
// A real single-member etcd on loopback (data on the same disk as SQLite's).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "bench/bench_util.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/etcd_watch.h"
#include "controller/store/etcd_store.h"
#include "controller/store/store.h"
#include "tests/support/etcd_process.h"
#include "tests/support/temp_dir.h"

namespace {

using corral::Json;
using corral::bench::SteadyClock;

Json vm(const std::string& name) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "VM"},
          {"metadata", {{"name", name}, {"labels", {{"app", "web"}, {"tier", "frontend"}}}}},
          {"spec",
           {{"resources", {{"cpu", "500m"}, {"memory", "256Mi"}}},
            {"runtime", {{"driver", "sim"}}},
            {"fencing", "none"}}}};
}

struct Figure {
  long ok = 0;
  long failed = 0;
  double seconds = 0;
  double per_second() const { return seconds > 0 ? static_cast<double>(ok) / seconds : 0; }
};

// Runs `write(thread, i)` closed-loop on `threads` threads for `duration`.
template <class Write>
Figure closed_loop(int threads, std::chrono::seconds duration, Write write) {
  std::atomic<long> ok{0}, failed{0};
  const auto start = SteadyClock::now();
  const auto end = start + duration;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (long i = 0; SteadyClock::now() < end; ++i) {
        if (write(t, i)) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  return {ok.load(), failed.load(),
          std::chrono::duration<double>(SteadyClock::now() - start).count()};
}

void print(const char* what, const Figure& f) {
  std::printf("  %-16s %8.0f /s  (%ld acknowledged, %ld failed, %.1f s)\n", what, f.per_second(),
              f.ok, f.failed, f.seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int seconds = corral::bench::int_flag(argc, argv, "--seconds", 10);
  const int threads = corral::bench::int_flag(argc, argv, "--threads", 32);
  const auto duration = std::chrono::seconds(seconds);

  corral::testing::EtcdProcess etcd;
  std::string error;
  if (!etcd.start(&error)) {
    std::fprintf(stderr, "etcd_store_bench: %s\n", error.c_str());
    return 1;
  }
  corral::FakeClock clock;
  // The size a stored VM takes: its JSON with the metadata the store fills.
  const size_t value_bytes = vm("web-00000-00000").dump().size() + 120;
  std::printf("etcd_store_bench: %d writers, %d s each, etcd %s, values ~%zu bytes\n", threads,
              seconds, etcd.endpoint().c_str(), value_bytes);

  corral::etcd::EtcdClient raw({{etcd.endpoint()}});
  const std::string value(value_bytes, 'x');
  Figure raw_put = closed_loop(threads, duration, [&](int t, long i) {
    return raw.put({"/raw/" + std::to_string(t) + "-" + std::to_string(i), value}).ok();
  });
  print("raw etcd put", raw_put);
  // The store's create is this transaction (create-if-absent) plus the wait
  // for its own watch feed: the gap between the two is the store's own cost.
  Figure raw_txn = closed_loop(threads, duration, [&](int t, long i) {
    const std::string key = "/rawtxn/" + std::to_string(t) + "-" + std::to_string(i);
    corral::etcd::TxnRequest txn;
    txn.compare.push_back(corral::etcd::Compare::absent(key));
    txn.success.push_back(corral::etcd::PutRequest{key, value});
    auto done = raw.txn(txn);
    return done.ok() && done->succeeded;
  });
  print("raw etcd txn", raw_txn);

  // The same transactions with a watch on their prefix, as the store's feed
  // is: etcd then also encodes and sends every event (the "watched" row);
  // and with each writer waiting until that watch has delivered its own
  // revision ("waited"), which is what "acknowledged means visible" costs
  // before any of the store's own code runs.
  std::mutex seen_mu;
  std::condition_variable seen_cv;
  int64_t seen = 0;
  corral::etcd::WatchOptions watch_options;
  watch_options.key = "/rawwatched/";
  watch_options.range_end = corral::etcd::prefix_end(watch_options.key);
  corral::etcd::EtcdWatch watch(
      {etcd.endpoint()}, watch_options,
      [&](const corral::etcd::WatchBatch& batch) {
        if (batch.events.empty()) return;
        {
          std::lock_guard lock(seen_mu);
          seen = std::max(seen, batch.events.back().kv.mod_revision);
        }
        seen_cv.notify_all();
      },
      nullptr);
  auto watched_txn = [&](const std::string& key, bool wait) {
    corral::etcd::TxnRequest txn;
    txn.compare.push_back(corral::etcd::Compare::absent(key));
    txn.success.push_back(corral::etcd::PutRequest{key, value});
    auto done = raw.txn(txn);
    if (!done.ok() || !done->succeeded) return false;
    if (!wait) return true;
    std::unique_lock lock(seen_mu);
    return seen_cv.wait_for(lock, std::chrono::seconds(5), [&] { return seen >= done->revision; });
  };
  Figure raw_watched = closed_loop(threads, duration, [&](int t, long i) {
    return watched_txn("/rawwatched/w-" + std::to_string(t) + "-" + std::to_string(i), false);
  });
  print("txn, watched", raw_watched);
  Figure raw_waited = closed_loop(threads, duration, [&](int t, long i) {
    return watched_txn("/rawwatched/a-" + std::to_string(t) + "-" + std::to_string(i), true);
  });
  print("txn, waited", raw_waited);

  corral::store::EtcdStoreOptions options;
  options.endpoints = {etcd.endpoint()};
  options.prefix = "/bench";
  auto etcd_store = corral::store::open_etcd_store(options, clock);
  if (!etcd_store) {
    std::fprintf(stderr, "etcd_store_bench: %s\n", etcd_store.error().message.c_str());
    return 1;
  }
  Figure on_etcd = closed_loop(threads, duration, [&](int t, long i) {
    return (*etcd_store)->create("VM", vm("web-" + std::to_string(t) + "-" + std::to_string(i))).ok();
  });
  print("etcd store", on_etcd);
  etcd_store->reset();

  corral::testing::TempDir dir;
  auto sqlite = corral::store::open_sqlite_store(dir.file("bench.db"), clock);
  if (!sqlite) {
    std::fprintf(stderr, "etcd_store_bench: %s\n", sqlite.error().message.c_str());
    return 1;
  }
  Figure on_sqlite = closed_loop(threads, duration, [&](int t, long i) {
    return (*sqlite)->create("VM", vm("web-" + std::to_string(t) + "-" + std::to_string(i))).ok();
  });
  print("sqlite store", on_sqlite);

  std::printf("\netcd store / raw etcd put: %.2fx (target >= 0.8x)\n",
              on_etcd.per_second() / std::max(1.0, raw_put.per_second()));
  std::printf("etcd store / raw etcd txn: %.2fx\n",
              on_etcd.per_second() / std::max(1.0, raw_txn.per_second()));
  std::printf("etcd store / txn, waited: %.2fx (the store's own cost)\n",
              on_etcd.per_second() / std::max(1.0, raw_waited.per_second()));
  std::printf("etcd store / sqlite store: %.2fx\n",
              on_etcd.per_second() / std::max(1.0, on_sqlite.per_second()));
  return 0;
}
