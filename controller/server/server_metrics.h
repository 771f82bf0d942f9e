// The API server's Prometheus metrics, and a Store decorator that times every
// store operation into them.
#pragma once

#include <atomic>
#include <memory>

#include "base/metrics.h"
#include "controller/store/store.h"

namespace corral::server {

struct ServerMetrics {
  explicit ServerMetrics(metrics::Registry& registry);

  metrics::CounterFamily& requests;           // {verb, resource, code}
  metrics::HistogramFamily& request_latency;  // {verb, resource}; watches excluded (they last)
  metrics::CounterFamily& store_ops;          // {operation, result}
  metrics::HistogramFamily& store_latency;    // {operation}
  metrics::GaugeFamily& open_watches;         // streaming watch requests
  metrics::GaugeFamily& store_revision;
  metrics::GaugeFamily& store_watches;  // the store's own count
  // Connections and request heads the event-driven core refused on its own
  // {listener: api|heartbeat, reason: refusal_label(), a fixed set}.
  metrics::CounterFamily& refused;
  metrics::GaugeFamily& open_connections;  // {listener}
};

// Forwards to `inner`, counting each call by operation and result
// ("ok" or the error reason) with its latency. Thread-safe as `inner` is.
class InstrumentedStore final : public store::Store {
 public:
  InstrumentedStore(store::Store& inner, ServerMetrics& metrics) : inner_(inner), m_(metrics) {}

  Result<store::RecordPtr> get(const std::string& kind, const std::string& name) override;
  Result<store::ListResult> list(const std::string& kind,
                                 const store::ListOptions& options) override;
  Result<store::RecordPtr> create(const std::string& kind, Json object) override;
  Result<store::RecordPtr> update(const std::string& kind, Json object) override;
  Result<store::RecordPtr> update_status(const std::string& kind, Json object) override;
  std::vector<Result<store::RecordPtr>> write_batch(
      std::vector<store::BatchWrite> writes) override;
  Result<store::RecordPtr> remove(const std::string& kind, const std::string& name,
                                  const store::Preconditions& preconditions) override;
  Result<std::unique_ptr<store::Watch>> watch(const std::string& kind, int64_t from_revision,
                                              const store::ListOptions& filter) override;
  int64_t revision() const override { return inner_.revision(); }
  Result<void> healthy() const override { return inner_.healthy(); }
  size_t open_watches() const override { return inner_.open_watches(); }

 private:
  template <class F>
  auto timed(const char* op, F&& f);

  store::Store& inner_;
  ServerMetrics& m_;
};

}  // namespace corral::server
