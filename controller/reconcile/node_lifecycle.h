// Node lifecycle: the decision core of the loop that judges nodes by their
// heartbeat leases. A pure function of (nodes, pools, VMs, lease observations,
// peer-probe results, controller start, now); the caller writes the result.
//
// Time is the controller's own steady clock throughout: leases are judged by
// when the controller *saw* them renewed (Kubernetes' node lifecycle controller
// does the same with its probeTimestamp), never by comparing the agent's wall
// clock in lease.renewTime with ours, so clock skew and agent clock jumps
// cannot fail a node over.
//
// Per node, each pass:
//   lease fresh (seen renewed within grace)     → Ready
//   lease expired, peers asked, one reached it   → Unreachable (VMs stay put),
//                                                   for at most one more grace
//                                                   (max_peer_hold), then NotReady
//   lease expired, peers asked, none reached it  → NotReady (its VMs turn Lost)
//   lease expired, no answer within probeTimeout → NotReady
//   lease expired, no Ready peer in its pools    → NotReady (no second path)
// NotReady is sticky until the lease is seen renewed again: its VMs are
// already being re-placed, so a late peer answer changes nothing.
//
// Self-fencing: a NotReady node's `fencing: none` VMs turn Lost at once; its
// `fencing: selfFence` VMs only once the lease has been expired for the
// fence time as well (lease seen renewed + grace + FenceOptions::total()):
// by then the node's agent, if it is alive but cut off, has stopped them
// (agent/sync_loop.h), so the re-placed copy never runs beside the old one.
// Until then they are listed in `fencing` (the loop writes an Event).
//
// No fail-over storm after a controller outage, whatever its length:
//  - a lease the controller has not seen renewed since it (re)started counts
//    as renewed at the start, and is judged by startup_grace (10 s) rather
//    than the pool's grace: long enough for every live agent, retrying at
//    least once a second, to have reached the returning controller; and a
//    node only seen once (no renewal observed yet) is never turned Ready on
//    that sighting alone, so a node that was dead before is not resurrected;
//  - the mass-failure guard: when more than half of a pool's nodes (and at
//    least two) have expired leases together, the likelier cause is the
//    controller's own network or the controller itself, not the hosts (as
//    Kubernetes' node lifecycle controller stops evicting in a zone in full
//    disruption). Those nodes turn Unreachable, not NotReady: their VMs stay,
//    the pool is listed in `disruptions` (the loop writes its Disrupted
//    condition and an Event), and once enough nodes report again the ones
//    still silent are judged by the usual rules — a host that really died
//    meanwhile is failed over then.
//
// Graceful agent restarts: an agent stopped for a restart says so in its last
// beat; the heartbeat service records the window it granted in
// status.lease.restartWindowSeconds. While that lease is expired but younger
// than the window, the node is Restarting: its VMs stay, no peer is asked.
// Past the window the usual rules apply.
//
// Thread safety: pure functions; LeaseTracker and AvailabilityTracker are
// plain values with one owner (the loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"

namespace corral::reconcile {

using SteadyTime = std::chrono::steady_clock::time_point;

enum class NodeHealth { kUnknown, kReady, kNotReady, kUnreachable, kRestarting };
// "Unknown" | "Ready" | "NotReady" | "Unreachable" | "Restarting": the Node's status.phase.
const char* health_name(NodeHealth health);
// From status.phase (and the Ready condition when phase is empty).
NodeHealth current_health(const Node& node);

// When the controller last saw a node's lease renewed.
struct LeaseObservation {
  SteadyTime since{};    // last renewal seen, or the first sighting of the node
  bool renewed = false;  // false: `since` is only the first sighting, no renewal seen yet
};

// Turns successive sightings of Nodes (from the watch cache or the heartbeat
// path) into LeaseObservations on the controller's steady clock. A lease is
// renewed when its (holderIdentity, renewTime) differs from the last sighting.
class LeaseTracker {
 public:
  void observe(const Node& node, SteadyTime now);
  void forget(const std::string& node);
  const std::map<std::string, LeaseObservation>& observations() const { return obs_; }

 private:
  std::map<std::string, std::string> last_lease_;  // node → holder + renewTime last seen
  std::map<std::string, LeaseObservation> obs_;
};

// The answer of a peer probe: could another agent of the pool reach the node?
struct PeerProbe {
  bool reachable_by_peer = false;
  SteadyTime probed_at{};  // when the answer arrived (controller steady clock)
};

// How long the controller waits, after a node's lease expired, before it
// re-places the node's selfFence VMs: the bound on how long the node's agent
// may still be running them. The agent's deadline is measured from the send
// of its last answered heartbeat (no later than our renewal), so its fence
// starts no later than our expiry; what follows is bounded by these values.
// ONE stop budget, whatever the number of VMs: the agent's fence thread stops
// them all in one Driver::stop_all, and the fence watchdog (a process of its
// own, for a dead or frozen agent) signals them all at the same deadline
// (agent/fence/).
struct FenceOptions {
  // The agent's stop of its selfFence VMs, all at once: SIGTERM (ACPI
  // shutdown) then SIGKILL at the end of its stop grace. 10 s: corral-agent's
  // --stop-grace default; set it to at least the agents' --stop-grace
  // (controller flag --fence-stop-timeout).
  std::chrono::milliseconds stop_timeout{10'000};
  // How late the fence may start after the deadline: the agent's fence thread
  // waits for the deadline itself (no heartbeat call or converge in the way),
  // the watchdog polls every 100 ms; the rest is scheduling on a loaded host.
  // 1 s. (It was 4 s while the loop could be inside two heartbeat calls.)
  std::chrono::milliseconds notice_latency{1'000};
  // Safety margin for the two steady clocks running at different rates (NTP
  // slews by at most 500 ppm: 10 ms over 20 s) and for scheduling delays on
  // a loaded host: 1 s.
  std::chrono::milliseconds margin{1'000};
  std::chrono::milliseconds total() const { return stop_timeout + notice_latency + margin; }
};

struct NodeLifecycleOptions {
  // Grace for a node in no pool; pools set their own (failover.nodeGraceSeconds,
  // default 2 s as well).
  std::chrono::milliseconds default_grace{2000};
  // The grace of a node not heard from since the controller started: the
  // agents' longest wait between two beats while the controller was away
  // (SyncOptions::max_retry_interval, 1 s; 5 s in agents before 0.2), plus a
  // beat stuck in its call timeout (2 × 2 s), plus a margin.
  std::chrono::milliseconds startup_grace{10'000};
  // The mass-failure guard holds a pool whose expired nodes are more than this
  // share of its nodes, and at least mass_failure_min_nodes of them (one dead
  // host in a pool of one or two is an ordinary fail-over).
  double mass_failure_fraction = 0.5;
  size_t mass_failure_min_nodes = 2;
  // Other agents asked to probe a suspect node: two, as the issue asks — one
  // more than needed, so that one dead or partitioned prober is not decisive.
  size_t probers_per_node = 2;
  // How long to wait for a peer answer before declaring the node NotReady.
  // 500 ms keeps grace + probe within the fail-over target (p99 ≤ 3 s with a
  // 2 s grace) while a probe over loopback/LAN takes milliseconds.
  std::chrono::milliseconds probe_timeout{500};
  // How long past its grace a peer's "reachable" may keep a silent node
  // Unreachable (its VMs in place); then it is NotReady unless its own lease
  // was renewed meanwhile. 0 (the default): one more grace of the node (2 s
  // by default), so a lying or fooled peer delays fail-over by at most one
  // grace and never blocks it. Measured from the expiry (or from when the
  // mass-failure guard let go of the node).
  std::chrono::milliseconds max_peer_hold{0};
  // While a lease stays expired, an Unreachable node is probed again this
  // often, so that a node that peers stop reaching is noticed; an answer older
  // than probe_interval + probe_timeout no longer counts.
  std::chrono::milliseconds probe_interval{1000};
  // The wait before a NotReady node's selfFence VMs turn Lost (12 s by default).
  FenceOptions fence;
};

// A node's lease as this controller last saw it renewed; nullopt: never
// (treated as first seen at controller_started, not renewed). A lookup rather
// than a table: the loop asks the heartbeat service's LeaseTable node by node
// instead of copying 10,000 leases under the lock the heartbeats renew under,
// four times a second.
using LeaseLookup = std::function<std::optional<LeaseObservation>(const std::string& node)>;
// A lookup in a map (tests, benchmarks); `leases` must outlive it.
LeaseLookup lookup_in(const std::map<std::string, LeaseObservation>& leases);

struct NodeLifecycleInput {
  const std::vector<Node>* nodes = nullptr;
  const std::vector<Pool>* pools = nullptr;
  const std::vector<VM>* vms = nullptr;
  LeaseLookup lease_of;  // unset: no lease seen for any node
  // The latest answer per node; may be null (none yet).
  const std::map<std::string, PeerProbe>* probes = nullptr;
  // When the mass-failure guard last held each node (verdicts with `guarded`);
  // may be null. Once the guard lifts, a node still silent gets a full probe
  // timeout from then, not from its long-past expiry.
  const std::map<std::string, SteadyTime>* guarded_at = nullptr;
  // Optional, kept by the caller between passes: indices of `nodes` in name
  // order. Reused when still a sorted permutation (a linear check), rebuilt
  // otherwise — sorting 10,000 names was a third of a pass.
  std::vector<size_t>* name_order = nullptr;
  SteadyTime controller_started{};
  SteadyTime now{};
};

// A change of a node's health, to write as its phase + Ready condition and an Event.
struct NodeTransition {
  std::string node;
  NodeHealth from = NodeHealth::kUnknown;
  NodeHealth to = NodeHealth::kUnknown;
  // NodeReady | NodeNotReady | NodeUnreachable | NodeRestarting: the Event and condition reason
  std::string reason;
  std::string message;  // "lease not renewed for 2.6s (grace 2s); no peer reached it"
};

// Ask `peers` (their agents' local endpoints) to probe `node` at `address`.
struct ProbeRequest {
  std::string node;
  std::string address;             // the suspect's status.address
  std::vector<std::string> peers;  // node names, in asking order
};

struct LostVM {
  std::string vm;
  std::string node;
  std::string message;  // "node host-3 is NotReady: ..."
};

// A selfFence VM on a NotReady node whose agent may still be stopping it: it
// turns Lost at `until`, not before.
struct FencingVM {
  std::string vm;
  std::string node;
  int64_t epoch = 0;
  SteadyTime until{};
  // "waiting 13s for node/host-3 to fence vm/web-1 before re-placing (node
  // host-3 is NotReady: ...)": the same text on every pass of one wait.
  std::string message;
};

// A pool held by the mass-failure guard this pass (pool "" : the nodes in no pool).
struct PoolDisruption {
  std::string pool;
  size_t expired = 0;  // nodes of the pool whose leases are expired
  size_t total = 0;
  // "5 of 6 nodes stopped reporting together (leases expired); ...": the
  // condition message and the Event.
  std::string message;
};

// Every node's verdict this pass, including unchanged ones.
struct NodeVerdict {
  std::string node;
  NodeHealth health = NodeHealth::kUnknown;
  bool lease_fresh = false;  // feed AvailabilityTracker::sample with this
  bool judged = false;       // false: held (startup or first sighting), health unchanged
  bool guarded = false;      // held Unreachable by the mass-failure guard this pass
};

struct NodeLifecycleResult {
  std::vector<NodeVerdict> verdicts;        // sorted by node name
  std::vector<NodeTransition> transitions;  // sorted by node name
  std::vector<ProbeRequest> probes;         // sorted by node name
  // VMs bound (spec.nodeName) to a node judged NotReady this pass, whose phase
  // is not already Lost, Failed or Terminating. Level-triggered: if a previous
  // pass marked the node but not all of its VMs, they are listed again.
  std::vector<LostVM> lost;  // sorted by VM name
  // selfFence VMs of NotReady nodes still inside their fence wait; not in `lost`.
  std::vector<FencingVM> fencing;  // sorted by VM name
  std::vector<PoolDisruption> disruptions;  // sorted by pool name
};

// REQUIRES: nodes, pools and vms non-null.
// Cost: O(N × P) for pool membership and the guard, O(E × N) for choosing
// peers of the E expired nodes, O(V) once when some node is NotReady.
NodeLifecycleResult decide_node_lifecycle(const NodeLifecycleInput& in,
                                          const NodeLifecycleOptions& options = {});

// The Ready condition to write for a transition: True for Ready, False for
// NotReady, Unknown for Unreachable and Restarting (the controller cannot hear
// it, but it is not known to be down). `timestamp` is an RFC 3339 wall time from the Clock.
Condition ready_condition(const NodeTransition& t, const std::string& timestamp);

// Rᵢ: the share of a sliding window in which a node's lease was fresh.
//
// Fed with (now, fresh?) samples — one per lifecycle pass. Each sample
// attributes the time since the previous sample to the state it reports, capped
// at one bucket width (time the controller did not observe, e.g. while it was
// down, is not counted either way). Time is summed in `buckets` equal buckets
// of width window/buckets kept in a ring: memory is O(buckets) per node
// whatever the heartbeat rate. The ratio covers the current (partly filled)
// bucket and the buckets−1 before it, so the effective window is between
// window − window/buckets and window (with the defaults, 59–60 min of the
// last hour). A node with nothing observed yet has Rᵢ = 1: no evidence
// against it (NodeStatus.availability defaults to 1 as well).
class AvailabilityTracker {
 public:
  static constexpr int kDefaultBuckets = 60;  // 1-minute buckets for the 1 h default window

  explicit AvailabilityTracker(std::chrono::seconds window, int buckets = kDefaultBuckets);

  void sample(SteadyTime now, bool fresh);
  double availability(SteadyTime now) const;
  std::chrono::seconds window() const { return window_; }

 private:
  struct Bucket {
    int64_t index = -1;  // which bucket of time this slot holds
    std::chrono::milliseconds fresh{0};
    std::chrono::milliseconds observed{0};
  };
  int64_t bucket_index(SteadyTime t) const;

  std::chrono::seconds window_;
  std::chrono::milliseconds width_;
  std::vector<Bucket> ring_;
  std::optional<SteadyTime> origin_;  // first sample: bucket 0 starts here
  SteadyTime last_{};
};

}  // namespace corral::reconcile
