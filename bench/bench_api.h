// Loading a controller over its API from a benchmark: many objects created
// from concurrent clients, as api_bench measures and other benchmarks need
// before they measure something else.
#pragma once

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "bench/bench_util.h"
#include "client/client.h"

namespace corral::bench {

// Calls `method` on path_of(i) with make(i) as the body for i in
// 0..count-1, from `clients` threads, each a client of its own; returns the
// seconds it took. Failures are printed (the first three, after `what`) and
// counted in *failed when given.
inline double write_objects(const std::string& url, const std::string& method, const std::string& what,
                            int count, int clients, const std::function<std::string(const Json&)>& path_of,
                            const std::function<Json(int)>& make, int* failed_out = nullptr) {
  std::atomic<int> next{0}, failed{0};
  const auto start = SteadyClock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&] {
      ClientConfig cfg;
      cfg.server = url;
      ApiClient client(cfg);
      for (int i = next++; i < count; i = next++) {
        Json body = make(i);
        auto r = client.call(method, path_of(body), &body);
        if (!r && failed++ < 3) std::fprintf(stderr, "%s failed: %s\n", what.c_str(), r.error().message.c_str());
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) std::fprintf(stderr, "%d %ss failed\n", failed.load(), what.c_str());
  if (failed_out) *failed_out = failed.load();
  return ms_since(start) / 1000.0;
}

// Creates `count` objects (make(i) for i in 0..count-1) in `plural`.
inline double create_objects(const std::string& url, const std::string& plural, int count, int clients,
                             const std::function<Json(int)>& make, int* failed_out = nullptr) {
  const std::string path = ApiClient::resource_path(plural);
  return write_objects(url, "POST", "create", count, clients, [&](const Json&) { return path; }, make,
                       failed_out);
}

}  // namespace corral::bench
