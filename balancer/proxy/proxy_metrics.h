// The data plane's Prometheus metrics. Per-backend children are looked up once
// when an endpoint set is installed, so the hot path touches atomics only.
//
//   corral_balancer_requests_total{balancer,endpoint}          http requests / tcp connections sent
//   corral_balancer_errors_total{balancer,endpoint,kind}       connect | timeout | reset | status5xx
//   corral_balancer_request_duration_seconds{balancer,endpoint} response (http) / session (tcp) time
//   corral_balancer_rejected_total{balancer,reason}            maxConnections | noEndpoint |
//                                                              maxConnectionsPerClient |
//                                                              badRequest | headerTimeout
//   corral_balancer_retries_total{balancer}                    attempts moved to another endpoint
//   corral_balancer_accepted_total{balancer,loop}              client connections per serving event
//                                                              loop (dealt in turn: how evenly they share)
//   corral_balancer_client_connections{balancer}               open client connections (at scrape)
//   corral_balancer_endpoint_active{balancer,endpoint}         connections/requests in flight (at scrape)
//   corral_balancer_endpoint_healthy{balancer,endpoint}        1 healthy, 0 not (at scrape)
//
// Thread safety: the registry's children are thread-safe; this struct is
// immutable after construction.
#pragma once

#include <string>
#include <vector>

#include "base/metrics.h"
#include "balancer/core/endpoint_set.h"

namespace corral::balancer {

// Held, not just pointed to: when the last endpoint set naming a backend is
// gone, prune() drops its children and they stop being exported.
struct BackendMetrics {
  std::shared_ptr<metrics::Counter> requests;
  std::shared_ptr<metrics::Counter> connect_errors;
  std::shared_ptr<metrics::Counter> timeouts;
  std::shared_ptr<metrics::Counter> resets;
  std::shared_ptr<metrics::Counter> status_5xx;
  std::shared_ptr<metrics::Histogram> duration;
};

struct BalancerMetrics {
  metrics::Counter* rejected_max_connections = nullptr;
  metrics::Counter* rejected_max_connections_per_client = nullptr;
  metrics::Counter* rejected_no_endpoint = nullptr;
  metrics::Counter* rejected_bad_request = nullptr;
  metrics::Counter* rejected_header_timeout = nullptr;
  metrics::Counter* retries = nullptr;
};

class ProxyMetrics {
 public:
  ProxyMetrics();
  metrics::Registry& registry() { return registry_; }
  BalancerMetrics for_balancer(const std::string& balancer);
  // Connections of `balancer` accepted by event loop `loop`.
  metrics::Counter* accepted(const std::string& balancer, size_t loop);
  // One entry per backend of `set`, by Backend::index.
  std::vector<BackendMetrics> for_set(const EndpointSet& set);
  // Drops the per-endpoint children no installed set holds any more (its
  // endpoints were removed): called before every scrape.
  void prune();

 private:
  metrics::Registry registry_;
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Counter>& errors_;
  metrics::Family<metrics::Histogram>& duration_;
  metrics::Family<metrics::Counter>& rejected_;
  metrics::Family<metrics::Counter>& retries_;
  metrics::Family<metrics::Counter>& accepted_;
};

}  // namespace corral::balancer
