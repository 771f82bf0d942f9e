// Micro-benchmarks (Google Benchmark) of the per-request CPU work the API
// server does on every write: strict decode + defaults + validation + encode
// (normalize_object), and JSON parsing of a stored object.
//   build/bench/codec_bench
#include <benchmark/benchmark.h>

#include "api/json.h"
#include "api/kinds.h"

namespace {

corral::Json sample_vmset() {
  return corral::Json::parse(R"({
    "apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "frontend", "labels": {"app": "frontend", "tier": "web"}},
    "spec": {"pool": "web", "replicas": 6,
             "spread": {"topologyKey": "zone", "maxSkew": 1},
             "template": {"metadata": {"labels": {"app": "frontend"}},
                          "spec": {"resources": {"cpu": "2", "memory": "4Gi"},
                                   "runtime": {"driver": "process",
                                               "command": ["/usr/bin/python3", "-m", "http.server", "${PORT}"]},
                                   "restartPolicy": "Always"}}}})");
}

void BM_NormalizeVMSet(benchmark::State& state) {
  corral::Json obj = sample_vmset();
  for (auto _ : state) {
    auto r = corral::normalize_object(obj);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_NormalizeVMSet);

void BM_ParseStoredVMSet(benchmark::State& state) {
  std::string text = corral::normalize_object(sample_vmset())->dump();
  for (auto _ : state) {
    auto j = corral::Json::parse(text);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseStoredVMSet);

}  // namespace

BENCHMARK_MAIN();
