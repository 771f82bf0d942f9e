// The agent ↔ controller protocol: one short request per heartbeat, and the
// agent's own small HTTP endpoint that the controller and corralctl call.
//
// Why a heartbeat request and not a watch: a watch pins one server thread per
// agent for its whole life (cpp-httplib is thread-per-connection), and
// thousands of agents must not pin thousands of threads (ARCHITECTURE.md,
// scale notes). A heartbeat is a short POST; its answer carries the VMs bound
// to the node, so the agent learns its bindings at the heartbeat rate (1 s).
//
// Where: the API server answers heartbeats on a connection of their own
// (Connection: close: a kept connection would pin a thread there). When the
// controller also runs its event-driven heartbeat listener, every answer names
// it in `heartbeatEndpoint`; the agent then sends its beats there over one
// kept-alive connection, and back to the API server if that endpoint fails.
//
//   POST /apis/corral/v1/nodes/{node}/heartbeat      body HeartbeatRequest
//     200 HeartbeatResponse
//     409 Conflict   another live agent holds the node's lease (the message names
//                    the holder and how fresh its lease is); refused until it expires
//     422 Invalid    impossible values, with field paths (usage.cpu: -1 ...)
//     403 Forbidden  a node:<name> token for another node
//   The Node is created on the first heartbeat (registration) with `labels`;
//   later heartbeats renew the lease, which the controller keeps in memory and
//   persists to Node.status in batches (every few seconds, or at once when
//   something other than usage and time changed).
//
// Agent's local endpoint (HTTP on --listen, default 127.0.0.1:0; reported as
// Node.status.address):
//   GET  /healthz                      "ok" (X-Corral-Node: its node), or 503
//                                      naming why: the sync loop is wedged
//   GET  /metrics                      Prometheus text
//   GET  /v1/logs/{vm}?tailLines=N     text/plain: the VM's log (process driver),
//                                      for the API's vms/{vm}/log; ?sinceBytes=N
//                                      reads on from an offset (follow)
//   POST /v1/probe   body ProbeRequest → ProbeResponse: can this agent reach
//                    another agent's /healthz? (the controller's second path to
//                    a suspect node before it declares it dead)
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral {

inline constexpr const char* kHeartbeatSuffix = "/heartbeat";
std::string heartbeat_path(const std::string& node);  // /apis/corral/v1/nodes/<node>/heartbeat

// What an agent reports about one VM it runs (becomes VM.status when it changed).
struct VmReport {
  std::string name;
  int64_t epoch = 0;               // the epoch of the copy that runs here
  std::string phase;               // Starting | Running | Failed
  ResourceList usage;              // measured
  int32_t restarts = 0;
  std::string lastError;           // empty on a clean exit (restartPolicy OnFailure relies on it)
  std::string address;             // host:port where it serves
  int64_t pid = 0;                 // its process on the node (process driver); 0 = none
  std::string startTime;           // RFC 3339
  std::string message;
  std::vector<Condition> conditions;  // e.g. LimitsEnforced=False with the reason
  template <class V> void visit(V& v) {
    v("name", name); v("epoch", epoch); v("phase", phase); v("usage", usage);
    v("restarts", restarts); v("lastError", lastError); v("address", address); v("pid", pid);
    v("startTime", startTime); v("message", message); v("conditions", conditions);
  }
};

struct HeartbeatRequest {
  static constexpr const char* kKind = "HeartbeatRequest";
  // The agent instance: "<node>/<pid>-<random>", new at every agent start. A
  // different holder while the lease is fresh is another agent: refused (409).
  std::string holderIdentity;
  std::string time;                // the agent's wall clock (RFC 3339): skew is reported, never judged on
  Labels labels;                   // applied when the heartbeat creates the Node
  ResourceList capacity;           // what the host has (measured or overridden by flags)
  ResourceList allocatable;        // capacity less what is reserved for the host
  ResourceList usage;              // measured, smoothed
  std::string address;             // host:port of the agent's local endpoint
  std::string driver;              // process | libvirt | qemu | sim
  std::string agentVersion;
  // VMs whose report changed since the last acknowledged heartbeat; all of them
  // when `fullReport` (first heartbeat, after an error, and every 30th).
  std::vector<VmReport> vms;
  bool fullReport = false;
  // Non-zero on the last beat of an agent stopping gracefully for a restart:
  // "keep my VMs where they are for up to this many seconds" (its
  // --restart-window). The controller releases the lease at once, so the next
  // agent is not refused, and grants at most the pools' restartWindowSeconds.
  int32_t restartWindowSeconds = 0;
  // "Send me my endpoint key" (HeartbeatResponse::endpointKey). Asked for, not
  // sent unasked: agents decode answers strictly, so an older agent would
  // refuse an answer with a field it does not know.
  bool endpointAuth = false;
  template <class V> void visit(V& v) {
    v("holderIdentity", holderIdentity); v("time", time); v("labels", labels);
    v("capacity", capacity); v("allocatable", allocatable); v("usage", usage);
    v("address", address); v("driver", driver); v("agentVersion", agentVersion);
    v("vms", vms); v("fullReport", fullReport); v("restartWindowSeconds", restartWindowSeconds);
    v("endpointAuth", endpointAuth);
  }
};

// One VM bound to the node: everything the agent needs to run it.
struct BoundVm {
  std::string name;
  int64_t epoch = 0;
  ResourceList resources;
  RuntimeSpec runtime;
  std::string restartPolicy = "Always";
  std::string fencing = "none";
  template <class V> void visit(V& v) {
    v("name", name); v("epoch", epoch); v("resources", resources); v("runtime", runtime);
    v("restartPolicy", restartPolicy); v("fencing", fencing);
  }
};

struct HeartbeatResponse {
  static constexpr const char* kKind = "HeartbeatResponse";
  std::string node;
  // The grace the controller judges this node's lease by (its pools' smallest
  // failover.nodeGraceSeconds).
  int32_t leaseDurationSeconds = 2;
  std::string serverTime;          // the controller's wall clock (RFC 3339)
  // Every VM whose spec.nodeName is this node, except Lost ones (their node was
  // declared dead; they are being re-placed, and a returning agent must stop
  // its copy). A VM absent from this list, or listed with another epoch, must
  // not run here.
  std::vector<BoundVm> vms;
  // "http://host:port" of the controller's heartbeat listener, "" when none.
  std::string heartbeatEndpoint;
  // When the request asked (endpointAuth): this node's key for its local
  // endpoint (64 hex digits, client/agent_auth.h), with which the controller
  // signs its calls to the agent. The same on every answer.
  std::string endpointKey;
  template <class V> void visit(V& v) {
    v("node", node); v("leaseDurationSeconds", leaseDurationSeconds);
    v("serverTime", serverTime); v("vms", vms); v("heartbeatEndpoint", heartbeatEndpoint);
    v("endpointKey", endpointKey);
  }
};

// POST /v1/probe on an agent, signed by the controller (client/agent_auth.h):
// the signature covers the body, so the agent probes only what the controller
// asked, which is a registered node's endpoint — never an address a caller
// chose.
struct ProbeRequest {
  static constexpr const char* kKind = "ProbeRequest";
  std::string address;             // host:port of the suspect agent's endpoint
  int32_t timeoutMs = 300;
  // The suspect's name: its /healthz must name it (X-Corral-Node), so that
  // another server at that address does not count as the suspect. "": not checked.
  std::string node;
  template <class V> void visit(V& v) {
    v("address", address); v("timeoutMs", timeoutMs); v("node", node);
  }
};
struct ProbeResponse {
  static constexpr const char* kKind = "ProbeResponse";
  bool reachable = false;
  std::string message;             // "GET http://127.0.0.1:4100/healthz: connection refused"
  template <class V> void visit(V& v) { v("reachable", reachable); v("message", message); }
};

// The most one host may report (capacity, allocatable, usage; a VM's usage
// too): 1,024 cores and 64 TiB, several times today's largest servers. A node
// token is a machine's credential: bounded reports keep a broken or hostile
// agent from claiming a pool's worth of capacity, and keep pool sums (10,000
// hosts × these) far inside int64 milli-units.
inline constexpr int64_t kMaxHostCpuMilli = int64_t{1024} * 1000;
inline constexpr int64_t kMaxHostMemoryBytes = int64_t{64} << 40;

// Free text in a VM report (message, lastError, a condition's message) is
// kept to this many bytes; an agent's error text can be long (a driver's
// message), so it is cut, not refused: an honest node must not fail its
// heartbeat over a verbose error.
inline constexpr size_t kMaxHeartbeatMessageBytes = 1024;
// VM reports in one heartbeat: far more than a host runs.
inline constexpr size_t kMaxHeartbeatVms = 10'000;
// Cuts each VM report's free text to kMaxHeartbeatMessageBytes on a UTF-8
// boundary, marked " [truncated]". The controller calls it before validating.
void clamp_heartbeat_text(HeartbeatRequest& request);

// Impossible values, each with its field path: negative or absurd quantities
// (above kMaxHostCpuMilli / kMaxHostMemoryBytes, usage above 2 × capacity,
// allocatable above capacity, zero capacity), a bad holderIdentity, phase,
// time or driver, a VM report without a name, identifiers and free text
// longer than their caps (names 253 bytes, addresses 261, versions, times and
// condition types 128, free text kMaxHeartbeatMessageBytes), more than
// kMaxHeartbeatVms reports or 16 conditions on one. Errors: Invalid.
Result<void> validate_heartbeat(const HeartbeatRequest& request);

// What a controller that does not lead answers a heartbeat: Unavailable
// "not the leader: ...", with a cause {field "leader", message the leader's
// API URL} when `leader_url` is known (empty: an election is under way).
Error not_the_leader(const std::string& leader_name, const std::string& leader_url);
// The leader's API URL such an answer names; "" when it names none or `error`
// is another.
std::string leader_url_of(const Error& error);

}  // namespace corral
