#include "controller/server/server_metrics.h"

#include <chrono>

#include "api/json.h"
#include "controller/store/batch_write.h"

namespace corral::server {

ServerMetrics::ServerMetrics(metrics::Registry& r)
    : requests(r.counter("corral_api_requests_total",
                         "API requests by Kubernetes verb, resource and HTTP code.",
                         {"verb", "resource", "code"})),
      request_latency(r.histogram("corral_api_request_duration_seconds",
                                  "API request latency by verb and resource (watches excluded).",
                                  {"verb", "resource"})),
      store_ops(r.counter("corral_store_operations_total",
                          "Store operations by operation and result.", {"operation", "result"})),
      store_latency(r.histogram("corral_store_operation_duration_seconds",
                                "Store operation latency by operation.", {"operation"})),
      open_watches(r.gauge("corral_api_open_watches", "Watch streams open on the API server.")),
      store_revision(r.gauge("corral_store_revision", "The store's current revision.")),
      store_watches(r.gauge("corral_store_open_watches", "Watches open on the store.")),
      refused(r.counter("corral_api_refused_total",
                        "Connections and request heads refused before a handler ran, by "
                        "listener and reason (connection caps, head deadline, malformed).",
                        {"listener", "reason"})),
      open_connections(r.gauge("corral_api_open_connections",
                               "Connections open on each listener.", {"listener"})) {
  // Unlabelled gauges show 0 from the first scrape, not only after first use.
  open_watches.with({});
  store_revision.with({});
  store_watches.with({});
}

template <class F>
auto InstrumentedStore::timed(const char* op, F&& f) {
  auto start = std::chrono::steady_clock::now();
  auto result = f();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  m_.store_latency.with({op}).observe(took.count());
  m_.store_ops.with({op, result.ok() ? "ok" : reason_name(result.error().code)}).inc();
  return result;
}

Result<store::RecordPtr> InstrumentedStore::get(const std::string& kind, const std::string& name) {
  return timed("get", [&] { return inner_.get(kind, name); });
}

Result<store::ListResult> InstrumentedStore::list(const std::string& kind,
                                                  const store::ListOptions& options) {
  return timed("list", [&] { return inner_.list(kind, options); });
}

Result<store::RecordPtr> InstrumentedStore::create(const std::string& kind, Json object) {
  return timed("create", [&] { return inner_.create(kind, std::move(object)); });
}

Result<store::RecordPtr> InstrumentedStore::update(const std::string& kind, Json object) {
  return timed("update", [&] { return inner_.update(kind, std::move(object)); });
}

Result<store::RecordPtr> InstrumentedStore::update_status(const std::string& kind, Json object) {
  return timed("update_status", [&] { return inner_.update_status(kind, std::move(object)); });
}

// One latency sample for the batch; one count per entry, by its result.
std::vector<Result<store::RecordPtr>> InstrumentedStore::write_batch(
    std::vector<store::BatchWrite> writes) {
  auto start = std::chrono::steady_clock::now();
  auto results = inner_.write_batch(std::move(writes));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  m_.store_latency.with({"write_batch"}).observe(took.count());
  for (const auto& r : results) {
    m_.store_ops.with({"write_batch", r.ok() ? "ok" : reason_name(r.error().code)}).inc();
  }
  return results;
}

Result<store::RecordPtr> InstrumentedStore::remove(const std::string& kind, const std::string& name,
                                                   const store::Preconditions& preconditions) {
  return timed("delete", [&] { return inner_.remove(kind, name, preconditions); });
}

Result<std::unique_ptr<store::Watch>> InstrumentedStore::watch(const std::string& kind,
                                                               int64_t from_revision,
                                                               const store::ListOptions& filter) {
  return timed("watch", [&] { return inner_.watch(kind, from_revision, filter); });
}

}  // namespace corral::server
