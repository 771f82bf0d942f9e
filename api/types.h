// The resource model: every kind, its spec (desired, written by people) and its
// status (observed, written by controllers and agents). Field names and JSON
// shapes follow the Kubernetes API conventions; see ARCHITECTURE.md.
//
// Defaults that do not depend on other fields are the member initialisers
// below, written next to each field; defaults derived from other fields are
// applied in api/defaults.cpp. Validation lives in api/validate.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/int_or_string.h"
#include "api/quantity.h"

namespace corral {

inline constexpr const char* kApiVersion = "corral/v1";
using Labels = std::map<std::string, std::string>;

// ---- shared pieces ------------------------------------------------------------

struct OwnerReference {
  std::string apiVersion = kApiVersion;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = true;
  template <class V> void visit(V& v) {
    v("apiVersion", apiVersion); v("kind", kind); v("name", name); v("uid", uid);
    v("controller", controller);
  }
};

struct ObjectMeta {
  std::string name;
  std::string uid;                 // set by the server
  std::string resourceVersion;     // the store revision of the last write; set by the server
  int64_t generation = 0;          // +1 on every spec change; set by the server
  Labels labels;
  std::map<std::string, std::string> annotations;
  std::string creationTimestamp;   // RFC 3339, UTC; set by the server
  std::vector<OwnerReference> ownerReferences;
  template <class V> void visit(V& v) {
    v("name", name); v("uid", uid); v("resourceVersion", resourceVersion);
    v("generation", generation); v("labels", labels); v("annotations", annotations);
    v("creationTimestamp", creationTimestamp); v("ownerReferences", ownerReferences);
  }
};

// A condition as in Kubernetes: type Ready, status "True" | "False" | "Unknown".
struct Condition {
  std::string type;
  std::string status;
  std::string reason;
  std::string message;
  std::string lastTransitionTime;
  int64_t observedGeneration = 0;
  template <class V> void visit(V& v) {
    v("type", type); v("status", status); v("reason", reason); v("message", message);
    v("lastTransitionTime", lastTransitionTime); v("observedGeneration", observedGeneration);
  }
};

// CPU in cores ("500m", "2"), memory in bytes ("512Mi", "4Gi").
struct ResourceList {
  Quantity cpu;
  Quantity memory;
  template <class V> void visit(V& v) { v("cpu", cpu); v("memory", memory); }
};

// A set-based label selector: matchLabels AND every matchExpression.
struct SelectorRequirement {
  std::string key;
  std::string op;  // In | NotIn | Exists | DoesNotExist
  std::vector<std::string> values;
  template <class V> void visit(V& v) { v("key", key); v("operator", op); v("values", values); }
};
struct LabelSelector {
  Labels matchLabels;
  std::vector<SelectorRequirement> matchExpressions;
  template <class V> void visit(V& v) {
    v("matchLabels", matchLabels); v("matchExpressions", matchExpressions);
  }
};

struct Taint {
  std::string key;
  std::string value;
  std::string effect = "NoSchedule";  // NoSchedule | PreferNoSchedule | NoExecute
  template <class V> void visit(V& v) { v("key", key); v("value", value); v("effect", effect); }
};
struct Toleration {
  std::string key;                 // empty with operator Exists: tolerates every taint
  std::string op = "Equal";        // Equal | Exists
  std::string value;
  std::string effect;              // empty: every effect
  template <class V> void visit(V& v) {
    v("key", key); v("operator", op); v("value", value); v("effect", effect);
  }
};

// ---- Node ---------------------------------------------------------------------

struct NodeSpec {
  bool unschedulable = false;      // cordoned: the scheduler places nothing new here
  std::vector<Taint> taints;
  // Maintenance: every VM is moved off, made before broken, within disruption
  // budgets (`corralctl drain`). Implies unschedulable for the scheduler.
  bool drain = false;
  template <class V> void visit(V& v) {
    v("unschedulable", unschedulable); v("taints", taints); v("drain", drain);
  }
};

// The agent's heartbeat lease (like coordination.k8s.io Lease).
struct NodeLease {
  std::string holderIdentity;      // the agent instance that holds it
  std::string renewTime;           // RFC 3339 with milliseconds
  int32_t durationSeconds = 0;     // the grace the agent asked for
  template <class V> void visit(V& v) {
    v("holderIdentity", holderIdentity); v("renewTime", renewTime);
    v("durationSeconds", durationSeconds);
  }
};

struct NodeStatus {
  int64_t observedGeneration = 0;
  std::string phase;               // Ready | NotReady | Unreachable (derived from conditions)
  ResourceList capacity;           // what the host has
  ResourceList allocatable;        // capacity less what is reserved for the host
  ResourceList usage;              // measured, smoothed
  std::vector<Condition> conditions;
  std::string lastHeartbeatTime;
  NodeLease lease;
  double availability = 1.0;       // Rᵢ: share of the last window with a fresh lease, in [0,1]
  std::string driver;              // process | libvirt | sim
  std::string agentVersion;
  std::string address;             // host:port of the agent's local endpoint (peer probes)
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("phase", phase); v("capacity", capacity);
    v("allocatable", allocatable); v("usage", usage); v("conditions", conditions);
    v("lastHeartbeatTime", lastHeartbeatTime); v("lease", lease);
    v("availability", availability); v("driver", driver); v("agentVersion", agentVersion);
    v("address", address);
  }
};

struct Node {
  static constexpr const char* kKind = "Node";
  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

// ---- Pool ---------------------------------------------------------------------

struct Overcommit {
  double cpu = 1.0;                // ≥ 1: allocatable CPU × this may be promised
  double memory = 1.0;             // ≥ 1
  template <class V> void visit(V& v) { v("cpu", cpu); v("memory", memory); }
};

struct RebalancePolicy {
  bool enabled = false;
  double maxImbalance = 0.20;      // [0,1]: allowed |load − L| before a node is out of band
  double highWatermark = 0.85;     // [0,1]: a node above this load is relieved regardless of L
  double minGain = 0.05;           // [0,1]: a move must reduce imbalance by at least this
  int32_t holdSeconds = 60;        // how long a deviation must last before acting
  int32_t intervalSeconds = 30;    // how often the rebalancer looks
  int32_t maxMovesPerRound = 2;    // ≥ 0
  int32_t cooldownSeconds = 300;   // a VM that moved is not moved again for this long
  template <class V> void visit(V& v) {
    v("enabled", enabled); v("maxImbalance", maxImbalance); v("highWatermark", highWatermark);
    v("minGain", minGain); v("holdSeconds", holdSeconds); v("intervalSeconds", intervalSeconds);
    v("maxMovesPerRound", maxMovesPerRound); v("cooldownSeconds", cooldownSeconds);
  }
};

struct FailoverPolicy {
  // A node whose lease is older than this turns NotReady and its VMs are replaced.
  // With 1 s heartbeats, 2 s notices a dead host 1–2 s after it dies; peer probes
  // keep so short a grace from causing false fail-overs.
  int32_t nodeGraceSeconds = 2;
  int32_t tolerateNodeFailures = 0;      // HA admission control: survive any N node failures
  int32_t availabilityWindowSeconds = 3600;  // the window over which Rᵢ is measured
  template <class V> void visit(V& v) {
    v("nodeGraceSeconds", nodeGraceSeconds); v("tolerateNodeFailures", tolerateNodeFailures);
    v("availabilityWindowSeconds", availabilityWindowSeconds);
  }
};

struct PoolSpec {
  Labels nodeSelector;             // nodes whose labels include all of these; empty = every node
  Overcommit overcommit;
  std::string placement = "spread";  // spread | binpack | least-loaded
  RebalancePolicy rebalance;
  FailoverPolicy failover;
  template <class V> void visit(V& v) {
    v("nodeSelector", nodeSelector); v("overcommit", overcommit); v("placement", placement);
    v("rebalance", rebalance); v("failover", failover);
  }
};

// One node's share of the pool's load, for the deviation from the mean L.
struct NodeLoad {
  std::string name;
  double load = 0;                 // Rᵢ: measured use / allocatable, the larger of CPU and memory
  double deviation = 0;            // Rᵢ − L
  template <class V> void visit(V& v) { v("name", name); v("load", load); v("deviation", deviation); }
};

struct PoolStatus {
  int64_t observedGeneration = 0;
  ResourceList capacity;           // V = Σ Pᵢ over Ready nodes (allocatable × overcommit)
  ResourceList allocated;          // Σ requests of VMs bound to its nodes
  ResourceList used;               // Σ measured use of its nodes
  double meanLoad = 0;             // L = Σ Rᵢ / n over Ready nodes
  double loadSpread = 0;           // max |Rᵢ − L|
  std::vector<NodeLoad> nodeLoads;
  int32_t readyNodes = 0;
  int32_t totalNodes = 0;
  int32_t tolerableFailures = 0;   // how many node failures the pool can absorb right now
  std::vector<Condition> conditions;
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("capacity", capacity);
    v("allocated", allocated); v("used", used); v("meanLoad", meanLoad);
    v("loadSpread", loadSpread); v("nodeLoads", nodeLoads); v("readyNodes", readyNodes);
    v("totalNodes", totalNodes); v("tolerableFailures", tolerableFailures);
    v("conditions", conditions);
  }
};

struct Pool {
  static constexpr const char* kKind = "Pool";
  ObjectMeta metadata;
  PoolSpec spec;
  PoolStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

// ---- VM and VMSet ---------------------------------------------------------------

// How a VM runs on its host, per driver.
struct SimLoad {
  Quantity cpu;                    // simulated CPU use
  Quantity memory;                 // simulated memory use
  template <class V> void visit(V& v) { v("cpu", cpu); v("memory", memory); }
};
struct RuntimeSpec {
  std::string driver = "process";  // process | libvirt | sim
  std::vector<std::string> command;        // process: argv; ${PORT} and ${CORRAL_*} substituted
  std::map<std::string, std::string> env;  // process: extra environment
  std::string image;               // libvirt: disk image path
  std::string domainType;          // libvirt: e.g. "test", "kvm"; empty = the connection's default
  SimLoad sim;                     // sim: scripted load
  template <class V> void visit(V& v) {
    v("driver", driver); v("command", command); v("env", env); v("image", image);
    v("domainType", domainType); v("sim", sim);
  }
};

struct VMSpec {
  ResourceList resources;          // requests: what the scheduler reserves
  RuntimeSpec runtime;
  std::string restartPolicy = "Always";  // Always | OnFailure | Never
  std::vector<Toleration> tolerations;
  std::string nodeName;            // the binding, written by the scheduler
  int64_t epoch = 0;               // +1 on every (re)placement; stale copies are stopped
  int32_t priority = 0;            // restartPriority of its VMSet: higher is re-placed first
  std::string fencing = "none";    // none | selfFence, from its VMSet
  template <class V> void visit(V& v) {
    v("resources", resources); v("runtime", runtime); v("restartPolicy", restartPolicy);
    v("tolerations", tolerations); v("nodeName", nodeName); v("epoch", epoch);
    v("priority", priority); v("fencing", fencing);
  }
};

struct VMStatus {
  int64_t observedGeneration = 0;
  // Pending | Scheduled | Starting | Running | Failed | Lost | Terminating
  std::string phase;
  std::string nodeName;            // where it runs (as reported)
  int64_t epoch = 0;               // the epoch of the copy that reported
  ResourceList usage;              // measured
  int32_t restarts = 0;
  std::string lastError;
  std::string address;             // host:port where it serves, when it does
  std::string startTime;
  std::string message;             // e.g. why it fits nowhere: "0/12 nodes: 5 insufficient memory"
  std::vector<Condition> conditions;
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("phase", phase); v("nodeName", nodeName);
    v("epoch", epoch); v("usage", usage); v("restarts", restarts); v("lastError", lastError);
    v("address", address); v("startTime", startTime); v("message", message);
    v("conditions", conditions);
  }
};

struct VM {
  static constexpr const char* kKind = "VM";
  ObjectMeta metadata;
  VMSpec spec;
  VMStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

// The template a VMSet stamps its VMs from. nodeName and epoch are not allowed here.
struct VMTemplateMeta {
  Labels labels;
  std::map<std::string, std::string> annotations;
  template <class V> void visit(V& v) { v("labels", labels); v("annotations", annotations); }
};
struct VMTemplate {
  VMTemplateMeta metadata;
  VMSpec spec;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); }
};

struct SpreadPolicy {
  std::string topologyKey;         // a node label such as zone or rack
  int32_t maxSkew = 1;             // ≥ 1: max difference in replicas between two domains
  template <class V> void visit(V& v) { v("topologyKey", topologyKey); v("maxSkew", maxSkew); }
};

struct AntiAffinity {
  // Replicas of the set never share a value of this node label; empty = hostname.
  std::string topologyKey;
  std::string mode = "required";   // required | preferred
  template <class V> void visit(V& v) { v("topologyKey", topologyKey); v("mode", mode); }
};

struct DisruptionBudget {
  IntOrString maxUnavailable{false, 1, ""};  // count or "25%": voluntary moves never exceed it
  template <class V> void visit(V& v) { v("maxUnavailable", maxUnavailable); }
};

struct VMSetSpec {
  std::string pool;                // the Pool its VMs are placed in (a reference)
  int32_t replicas = 1;            // ≥ 0
  VMTemplate templ;
  std::optional<SpreadPolicy> spread;
  std::optional<AntiAffinity> antiAffinity;
  int32_t restartPriority = 0;     // higher is re-placed first when capacity is short
  DisruptionBudget disruption;
  std::string fencing = "none";    // none | selfFence
  template <class V> void visit(V& v) {
    v("pool", pool); v("replicas", replicas); v("template", templ); v("spread", spread);
    v("antiAffinity", antiAffinity); v("restartPriority", restartPriority);
    v("disruption", disruption); v("fencing", fencing);
  }
};

struct VMSetStatus {
  int64_t observedGeneration = 0;
  int32_t replicas = 0;            // VMs that exist
  int32_t scheduled = 0;           // bound to a node
  int32_t running = 0;             // phase Running in their current epoch
  int32_t ready = 0;               // Running and passing readiness
  double availability = 0;         // R = 1 − Π(1 − Rᵢ) over the distinct hosts of its replicas
  std::vector<Condition> conditions;
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("replicas", replicas);
    v("scheduled", scheduled); v("running", running); v("ready", ready);
    v("availability", availability); v("conditions", conditions);
  }
};

struct VMSet {
  static constexpr const char* kKind = "VMSet";
  ObjectMeta metadata;
  VMSetSpec spec;
  VMSetStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

// ---- Balancer -------------------------------------------------------------------

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
  int32_t clientSeconds = 60;      // idle client connection
  int32_t serverSeconds = 60;      // waiting for a backend's answer
  // A moved VM's endpoint drains (no new connections) this long at most before
  // its VM is stopped; sooner once the data plane reports it has no connections.
  int32_t drainSeconds = 30;
  template <class V> void visit(V& v) {
    v("connectSeconds", connectSeconds); v("clientSeconds", clientSeconds);
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
  std::string sessionAffinity = "None";  // None | sourceIP
  BalancerTimeouts timeouts;
  int32_t maxConnections = 10000;
  template <class V> void visit(V& v) {
    v("selector", selector); v("vmSet", vmSet); v("listen", listen); v("mode", mode);
    v("algorithm", algorithm); v("rules", rules); v("healthCheck", healthCheck);
    v("sessionAffinity", sessionAffinity); v("timeouts", timeouts);
    v("maxConnections", maxConnections);
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

// ---- Event --------------------------------------------------------------------

struct ObjectReference {
  std::string kind;
  std::string name;
  std::string uid;
  template <class V> void visit(V& v) { v("kind", kind); v("name", name); v("uid", uid); }
};
struct EventSource {
  std::string component;           // controller, agent, scheduler, ...
  std::string host;
  template <class V> void visit(V& v) { v("component", component); v("host", host); }
};

// Events have no spec/status split (as in Kubernetes): their fields are top level.
struct Event {
  static constexpr const char* kKind = "Event";
  ObjectMeta metadata;
  ObjectReference involvedObject;
  std::string reason;              // CamelCase: NodeNotReady, VMLost, Scheduled, ...
  std::string message;
  std::string type = "Normal";     // Normal | Warning
  int32_t count = 1;
  std::string firstTimestamp;
  std::string lastTimestamp;
  EventSource source;
  template <class V> void visit(V& v) {
    v("metadata", metadata); v("involvedObject", involvedObject); v("reason", reason);
    v("message", message); v("type", type); v("count", count);
    v("firstTimestamp", firstTimestamp); v("lastTimestamp", lastTimestamp); v("source", source);
  }
};

}  // namespace corral
