// Balancer: a load-balancing rule in front of a VMSet; its status carries the
// endpoints the data plane (corral-balancer) routes to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types/meta.h"

namespace corral {

// Balancer condition types (and condition_type::kReady) and endpoint health.
namespace condition_type {
inline constexpr const char* kServing = "Serving";
}  // namespace condition_type
namespace endpoint_health {
inline constexpr const char* kHealthy = "Healthy";
inline constexpr const char* kUnhealthy = "Unhealthy";
inline constexpr const char* kUnknown = "Unknown";
}  // namespace endpoint_health

struct BalancerRule {
  std::string host;                // exact Host header match; empty = any
  std::string pathPrefix;          // empty = any
  LabelSelector selector;          // the subset of endpoints this rule sends to
  template <class V> void visit(V& v) { v("host", host); v("pathPrefix", pathPrefix); v("selector", selector); }
};

struct HealthCheck {
  std::string type;                // tcp | http; default: http in http mode, tcp otherwise
  std::string path = "/";          // http only
  int32_t intervalSeconds = 2;
  int32_t timeoutSeconds = 1;
  int32_t rise = 2;                // consecutive successes to turn healthy
  int32_t fall = 2;                // consecutive failures to turn unhealthy
  template <class V> void visit(V& v) {
    v("type", type); v("path", path); v("intervalSeconds", intervalSeconds);
    v("timeoutSeconds", timeoutSeconds); v("rise", rise); v("fall", fall);
  }
};

struct BalancerTimeouts {
  int32_t connectSeconds = 5;
  int32_t clientSeconds = 60;      // idle client connection (also between http requests)
  // http: the whole request head (request line and fields) must arrive within
  // this from the connection's start or a request's first byte (slowloris: 408).
  int32_t requestHeadSeconds = 10;
  int32_t serverSeconds = 60;      // waiting for a backend's answer
  // A moved VM's endpoint drains (no new connections) this long at most before
  // its VM is stopped; sooner once the data plane reports it has no connections.
  int32_t drainSeconds = 30;
  template <class V> void visit(V& v) {
    v("connectSeconds", connectSeconds); v("clientSeconds", clientSeconds);
    v("requestHeadSeconds", requestHeadSeconds);
    v("serverSeconds", serverSeconds); v("drainSeconds", drainSeconds);
  }
};

struct BalancerSpec {
  LabelSelector selector;          // VMs by label ...
  std::string vmSet;               // ... or every VM of this VMSet
  std::string listen;              // "address:port" the data plane listens on
  std::string mode = "http";       // tcp | http
  std::string algorithm = "roundRobin";  // roundRobin | leastConnections | sourceHash | weighted
  std::vector<BalancerRule> rules; // http mode only
  HealthCheck healthCheck;
  std::string sessionAffinity = "none";  // none | sourceIP ("None" is respelled)
  BalancerTimeouts timeouts;
  int32_t maxConnections = 10000;
  // Open client connections from one address (0: no cap); the one over it is
  // closed at once, before anything is read.
  int32_t maxConnectionsPerClient = 1000;
  template <class V> void visit(V& v) {
    v("selector", selector); v("vmSet", vmSet); v("listen", listen); v("mode", mode);
    v("algorithm", algorithm); v("rules", rules); v("healthCheck", healthCheck);
    v("sessionAffinity", sessionAffinity); v("timeouts", timeouts);
    v("maxConnections", maxConnections); v("maxConnectionsPerClient", maxConnectionsPerClient);
  }
};

// One VM a Balancer sends traffic to. The controller's endpoints loop writes
// vm, node, address, epoch, labels, weight, draining and drainingSince; the
// data plane (corral-balancer) reports health, activeConnections and drained,
// and the controller keeps those while the endpoint (vm, epoch) stays.
struct Endpoint {
  std::string vm;
  std::string node;
  std::string address;             // host:port
  int64_t epoch = 0;
  Labels labels;                   // the VM's labels: content rules select by them
  double weight = 1.0;             // the node's measured headroom, 0.05..1
  std::string health = "Unknown";  // Healthy | Unhealthy | Unknown (data plane)
  bool draining = false;           // being moved: no new connections
  std::string drainingSince;       // RFC 3339, when draining was published
  bool drained = false;            // data plane: saw draining, no connection left
  int64_t activeConnections = 0;   // data plane
  template <class V> void visit(V& v) {
    v("vm", vm); v("node", node); v("address", address); v("epoch", epoch); v("labels", labels);
    v("weight", weight); v("health", health); v("draining", draining);
    v("drainingSince", drainingSince); v("drained", drained);
    v("activeConnections", activeConnections);
  }
};

struct BalancerStatus {
  int64_t observedGeneration = 0;
  std::vector<Endpoint> endpoints;
  double meanLoad = 0;             // L over its endpoints' nodes
  double loadSpread = 0;           // max |Rᵢ − L| over those nodes
  // The data plane's last report (RFC 3339) and who made it (its --instance).
  std::string lastReportTime;
  std::string reportedBy;
  std::vector<Condition> conditions;
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("endpoints", endpoints);
    v("meanLoad", meanLoad); v("loadSpread", loadSpread);
    v("lastReportTime", lastReportTime); v("reportedBy", reportedBy); v("conditions", conditions);
  }
};

struct Balancer {
  static constexpr const char* kKind = "Balancer";
  ObjectMeta metadata;
  BalancerSpec spec;
  BalancerStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

}  // namespace corral
