#include "balancer/proxy/proxy_metrics.h"

namespace corral::balancer {

ProxyMetrics::ProxyMetrics()
    : requests_(registry_.counter("corral_balancer_requests_total",
                                  "HTTP requests (http mode) or connections (tcp mode) sent to an endpoint.",
                                  {"balancer", "endpoint"})),
      errors_(registry_.counter("corral_balancer_errors_total",
                                "Failed attempts per endpoint: connect, timeout, reset, status5xx.",
                                {"balancer", "endpoint", "kind"})),
      duration_(registry_.histogram("corral_balancer_request_duration_seconds",
                                    "Time from sending a request to its whole answer (http), or a "
                                    "connection's life (tcp), per endpoint.",
                                    {"balancer", "endpoint"})),
      rejected_(registry_.counter("corral_balancer_rejected_total",
                                  "Client connections or requests refused before reaching an endpoint.",
                                  {"balancer", "reason"})),
      retries_(registry_.counter("corral_balancer_retries_total",
                                 "Attempts moved to another endpoint after a connect failure.",
                                 {"balancer"})),
      accepted_(registry_.counter("corral_balancer_accepted_total",
                                  "Client connections accepted, per Balancer and the event loop that serves them.",
                                  {"balancer", "loop"})) {}

metrics::Counter* ProxyMetrics::accepted(const std::string& balancer, size_t loop) {
  return &accepted_.with({balancer, std::to_string(loop)});
}

BalancerMetrics ProxyMetrics::for_balancer(const std::string& balancer) {
  BalancerMetrics m;
  m.rejected_max_connections = &rejected_.with({balancer, "maxConnections"});
  m.rejected_max_connections_per_client = &rejected_.with({balancer, "maxConnectionsPerClient"});
  m.rejected_no_endpoint = &rejected_.with({balancer, "noEndpoint"});
  m.rejected_bad_request = &rejected_.with({balancer, "badRequest"});
  m.rejected_header_timeout = &rejected_.with({balancer, "headerTimeout"});
  m.retries = &retries_.with({balancer});
  return m;
}

std::vector<BackendMetrics> ProxyMetrics::for_set(const EndpointSet& set) {
  std::vector<BackendMetrics> out(set.backends.size());
  for (const Backend* b : set.backends) {
    const std::string& vm = b->endpoint.vm;
    BackendMetrics& m = out[b->index];
    m.requests = requests_.share({set.name, vm});
    m.connect_errors = errors_.share({set.name, vm, "connect"});
    m.timeouts = errors_.share({set.name, vm, "timeout"});
    m.resets = errors_.share({set.name, vm, "reset"});
    m.status_5xx = errors_.share({set.name, vm, "status5xx"});
    m.duration = duration_.share({set.name, vm});
  }
  return out;
}

void ProxyMetrics::prune() {
  requests_.prune_unused();
  errors_.prune_unused();
  duration_.prune_unused();
}

}  // namespace corral::balancer
