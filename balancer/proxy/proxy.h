// Proxy: the data plane's runtime. N event loops (one io_context and thread
// each, one per core by default). Each Balancer gets one listening socket,
// bound exclusively (no SO_REUSEPORT: no other process or Balancer can bind
// its port), and every loop accepts from it through its own descriptor (a
// dup). Accepted connections are dealt to the loops in turn; a connection
// lives on its loop for its whole life, lock-free.
//
//   source (file or API watch) ──apply(Balancer)──► build EndpointSet (this thread)
//                                                   resolve addresses, metric children
//                                                   bind acceptors if listen changed
//                                                   post install to every loop
//   loop i: acceptor ─► TcpSession | HttpSession (per spec.mode)
//   loop 0 also runs the health checker and the admin server
//
// A failed bind (port taken) leaves the Balancer not serving, with the error
// in listen_error() ("spec.listen 127.0.0.1:8080: address already in use");
// apply() again (the next change, or retry_listeners()) tries again. Other
// Balancers are not affected.
//
// Thread safety: apply/remove/report/… from any thread (guarded by mu_);
// everything a loop touches is posted to it.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/types.h"
#include "balancer/proxy/proxy_metrics.h"

namespace corral::balancer {

struct ProxyOptions {
  size_t threads = 0;                 // event loops; 0 = one per core
  std::string admin = "127.0.0.1:9901";  // /metrics and /healthz; port 0 = any free port
  std::string instance;               // this copy's name in status.reportedBy
};

// What the status reporter writes back for one endpoint.
struct EndpointReport {
  std::string vm;
  int64_t epoch = 0;
  std::string health;          // Healthy | Unhealthy | Unknown
  int64_t active = 0;
  bool drained = false;        // draining and nothing in flight
};

struct BalancerReport {
  std::string name;
  bool serving = false;
  std::string listen;          // bound address (real port) when serving
  std::string listen_error;    // why not, when not
  std::vector<EndpointReport> endpoints;
};

class Proxy {
 public:
  explicit Proxy(ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  // Starts the loops and the admin server. Errors: Unavailable naming the
  // admin address when it cannot be bound.
  Result<void> start();
  void stop();

  // Installs the Balancer's current spec and endpoints. Errors: Invalid for a
  // spec the data plane cannot run (bad listen address); Unavailable naming
  // the address when its port cannot be bound (the previous listener, if any,
  // keeps serving).
  Result<void> apply(const Balancer& balancer);
  // Stops serving a Balancer that was deleted: closes its listeners;
  // connections in flight finish.
  void remove(const std::string& name);
  // Binds listeners that failed before. Returns the names still failing.
  std::vector<std::string> retry_listeners();

  std::vector<BalancerReport> report() const;
  std::string admin_address() const;
  // The Balancers this process was asked to serve (--balancer): one missing
  // from what was applied makes the proxy unhealthy.
  void expect(std::vector<std::string> names);
  // True when every expected Balancer is applied and every applied one is
  // serving (for /healthz); `why` names the others.
  bool healthy(std::string* why = nullptr) const;
  ProxyMetrics& metrics() { return *metrics_; }

 private:
  struct Impl;
  // Declared first: sessions the loops still hold when impl_ goes point at it.
  std::unique_ptr<ProxyMetrics> metrics_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::balancer
