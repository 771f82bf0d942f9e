// API benchmark: the real corral-controller on its SQLite store, driven over
// real HTTP on loopback by concurrent clients. Prints its figures; see
// bench/RESULTS.md for recorded runs and the targets.
//
//   build/bench/api_bench [--vms 100000] [--nodes 5000] [--clients 32] [--watchers 100]
//
// Phases:
//  1. creates/s   N clients POST VMs until --vms are stored (acknowledged = durable)
//  2. nodes       POST --nodes Nodes (for the RSS figure)
//  3. GET         p50/p99 of single-object GETs at random, from 4 clients
//  4. LIST        time for a full LIST of every VM (median of 3), and for
//                 reading it in pages of 500 with limit/continue (median of 3)
//  5. watch       --watchers concurrent watches, read by one epoll thread;
//                 p50/p99 from the write's send to each watcher's receipt
//  6. RSS         the controller's resident set size with everything stored
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "api/json.h"
#include "bench/bench_api.h"
#include "bench/bench_cluster.h"
#include "bench/bench_util.h"
#include "bench/watch_fleet.h"
#include "tests/support/cluster.h"

namespace {

using Clock = corral::bench::SteadyClock;
using corral::ApiClient;
using corral::ClientConfig;
using corral::Json;
using corral::bench::ms_since;
using corral::bench::percentile;
using corral::bench::rss_kib;

Json vm_object(const std::string& name, int i) {
  return Json{{"apiVersion", "corral/v1"},
              {"kind", "VM"},
              {"metadata", {{"name", name}, {"labels", {{"app", "bench"}, {"shard", std::to_string(i % 16)}}}}},
              {"spec",
               {{"resources", {{"cpu", "250m"}, {"memory", "256Mi"}}},
                {"runtime", {{"driver", "sim"}}},
                {"nodeName", "node-" + std::to_string(i % 5000)}}}};
}

Json node_object(const std::string& name, int i) {
  return Json{{"apiVersion", "corral/v1"},
              {"kind", "Node"},
              {"metadata", {{"name", name}, {"labels", {{"zone", "z" + std::to_string(i % 3)}}}}},
              {"spec", Json::object()}};
}

// The list's metadata.continue, read from the raw page ("" on the last).
std::string continue_token(const std::string& page) {
  static constexpr std::string_view kKey = "\"continue\":\"";
  const size_t at = page.find(kKey);
  if (at == std::string::npos) return "";
  const size_t from = at + kKey.size();
  const size_t end = page.find('"', from);
  return end == std::string::npos ? "" : page.substr(from, end - from);
}

}  // namespace

int main(int argc, char** argv) {
  int vms = 100000, nodes = 5000, clients = 32, watchers = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (f == "--vms") vms = v;
    else if (f == "--nodes") nodes = v;
    else if (f == "--clients") clients = v;
    else if (f == "--watchers") watchers = v;
  }
  // The targets: issue 17 §1 at the default size, §2 past 100,000 VMs (LIST
  // streamed <= 2 s, RSS <= 2 GiB at 300,000 VMs and 10,000 Nodes).
  const bool large = vms > 100000;
  corral::bench::LocalCluster cluster;  // the controller alone
  std::string error;
  // Every watcher connects from 127.0.0.1 as one identity (no tokens).
  const std::string watch_cap = std::to_string(watchers + 16);
  if (!cluster.start(0, "", &error,
                     {"--max-connections-per-address", "0", "--max-watches", watch_cap,
                      "--max-watches-per-identity", watch_cap})) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  corral::testing::Controller& controller = *cluster.controller;
  struct {
    pid_t pid;
    std::string url;
  } ctl{controller.process()->pid(), controller.url()};
  std::printf("api_bench: controller %s, SQLite store in %s\n", ctl.url.c_str(),
              (cluster.dir.path() / "controller").c_str());
  std::printf("machine: %u cores\n\n", std::thread::hardware_concurrency());

  // 1. creates/s
  double secs = corral::bench::create_objects(ctl.url, "vms", vms, clients, [](int i) {
    return vm_object("vm-" + std::to_string(i), i);
  });
  std::printf("creates:  %d VMs from %d clients in %.2f s = %.0f acknowledged creates/s (target >= 5000)\n",
              vms, clients, secs, vms / secs);
  // 2. nodes
  secs = corral::bench::create_objects(ctl.url, "nodes", nodes, clients, [](int i) {
    return node_object("node-" + std::to_string(i), i);
  });
  std::printf("nodes:    %d Nodes in %.2f s\n", nodes, secs);

  // 3. GET latency
  {
    std::vector<double> lat;
    std::mutex mu;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        ClientConfig cfg;
        cfg.server = ctl.url;
        ApiClient client(cfg);
        std::mt19937 rng(t);
        std::vector<double> mine;
        for (int i = 0; i < 2500; ++i) {
          std::string path = ApiClient::resource_path("vms", "vm-" + std::to_string(rng() % vms));
          auto s = Clock::now();
          auto r = client.call("GET", path);
          mine.push_back(ms_since(s));
          if (!r) std::fprintf(stderr, "get failed: %s\n", r.error().message.c_str());
        }
        std::lock_guard lock(mu);
        lat.insert(lat.end(), mine.begin(), mine.end());
      });
    }
    for (auto& t : threads) t.join();
    std::printf("GET:      %zu requests from 4 clients, p50 %.2f ms, p99 %.2f ms (target p99 <= 5 ms)\n",
                lat.size(), percentile(lat, 0.5), percentile(lat, 0.99));
  }

  // 4. LIST
  {
    constexpr int kPageSize = 500;
    ClientConfig cfg;
    cfg.server = ctl.url;
    cfg.timeout = std::chrono::milliseconds(120000);
    ApiClient client(cfg);
    std::vector<double> times;
    size_t bytes = 0;
    for (int i = 0; i < 3; ++i) {
      auto s = Clock::now();
      auto r = client.request("GET", ApiClient::resource_path("vms"));
      times.push_back(ms_since(s));
      if (r) bytes = r->body.size();
    }
    auto s = Clock::now();
    auto r = client.call("GET", ApiClient::resource_path("vms"));
    double with_parse = ms_since(s);
    size_t items = r ? (*r)["items"].size() : 0;
    std::printf("LIST:     %zu VMs (%.1f MB) in %.0f ms median transfer, %.0f ms with client JSON parse "
                "(target <= %d ms)\n",
                items, bytes / 1e6, percentile(times, 0.5), with_parse, large ? 2000 : 1000);

    // As kubectl and client-go's pager read a large list: pages of 500
    // (limit/continue), so that no client holds the whole list. Transfer time
    // as above: the token is found in the raw page, the items not parsed.
    std::vector<double> paged_times;
    size_t paged_bytes = 0, pages = 0;
    for (int i = 0; i < 3; ++i) {
      auto start = Clock::now();
      std::string token;
      size_t got = 0, n = 0;
      do {
        std::string path = ApiClient::resource_path("vms") + "?limit=" + std::to_string(kPageSize);
        if (!token.empty()) path += "&continue=" + token;
        auto page = client.request("GET", path);
        if (!page || page->status != 200) {
          std::fprintf(stderr, "paged list failed: %s\n",
                       page ? page->body.substr(0, 200).c_str() : page.error().message.c_str());
          break;
        }
        got += page->body.size();
        ++n;
        token = continue_token(page->body);
      } while (!token.empty());
      paged_times.push_back(ms_since(start));
      paged_bytes = got;
      pages = n;
    }
    std::printf("LIST paged: %zu pages of %d VMs (%.1f MB, limit/continue) in %.0f ms median transfer "
                "(target <= 2000 ms at 300,000 VMs)\n",
                pages, kPageSize, paged_bytes / 1e6, percentile(paged_times, 0.5));
  }

  // 5. watch delivery: the watchers are streams of one reader thread
  // (WatchFleet), so the figure is the controller's, not 100 client threads'
  // JSON parsing on the same 2 cores.
  {
    constexpr int kWrites = 200;
    ClientConfig cfg;
    cfg.server = ctl.url;
    ApiClient probe(cfg);
    auto list = probe.call("GET", ApiClient::resource_path("nodes") + "?limit=1");
    std::string rv = list ? (*list)["metadata"]["resourceVersion"].get<std::string>() : "0";
    corral::bench::WatchFleet fleet("bench/seq", kWrites);
    std::string fleet_error;
    const int port = std::atoi(ctl.url.substr(ctl.url.rfind(':') + 1).c_str());
    if (!fleet.open(port,
                    ApiClient::resource_path("nodes") + "?watch=true&timeoutSeconds=120&resourceVersion=" + rv,
                    watchers, &fleet_error)) {
      std::fprintf(stderr, "%s\n", fleet_error.c_str());
      return 1;
    }
    auto connecting = Clock::now();
    while (fleet.streaming() < watchers && ms_since(connecting) < 30000)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (fleet.streaming() < watchers)
      std::fprintf(stderr, "only %d of %d watches streaming\n", fleet.streaming(), watchers);
    for (int seq = 0; seq < kWrites; ++seq) {
      auto got = probe.call("GET", ApiClient::resource_path("nodes", "node-" + std::to_string(seq)));
      if (!got) continue;
      Json obj = *got;
      obj["metadata"]["annotations"]["bench/seq"] = std::to_string(seq);
      fleet.mark_sent(seq);
      auto r = probe.call("PUT", ApiClient::resource_path("nodes", "node-" + std::to_string(seq)), &obj);
      if (!r) std::fprintf(stderr, "update failed: %s\n", r.error().message.c_str());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    fleet.stop();
    auto lat = fleet.latencies_ms();
    std::printf("watch:    %d watchers, %zu deliveries (of %d), p50 %.2f ms, p99 %.2f ms from send to "
                "receipt (target p99 <= 10 ms)\n",
                watchers, lat.size(), watchers * kWrites, percentile(lat, 0.5), percentile(lat, 0.99));
  }

  // 6. RSS
  std::printf("RSS:      %.0f MiB with %d VMs and %d Nodes stored (target <= %d MiB)\n",
              rss_kib(ctl.pid) / 1024.0, vms, nodes, large ? 2048 : 1024);

  controller.stop();
  return 0;
}
