// Node: one host, registered and kept alive by its agent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types/meta.h"

namespace corral {

// Node status.phase, written by the node lifecycle loop.
namespace node_phase {
inline constexpr const char* kUnknown = "Unknown";          // not judged yet
inline constexpr const char* kReady = "Ready";
inline constexpr const char* kNotReady = "NotReady";        // dead: its VMs are re-placed
// The controller cannot hear it but its VMs stay: a peer still reaches it, or
// most of its pool went quiet together (the mass-failure guard).
inline constexpr const char* kUnreachable = "Unreachable";
// Its agent stopped for a restart (an upgrade) and said so: its VMs stay
// within the restart window (NodeLease.restartWindowSeconds).
inline constexpr const char* kRestarting = "Restarting";
}  // namespace node_phase

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
  // Non-zero: the holder stopped gracefully for a restart at renewTime, and the
  // node keeps its VMs for this many seconds while no agent beats (granted by
  // the controller: the agent's --restart-window, at most the pools'
  // failover.restartWindowSeconds). Cleared by the next agent's first beat.
  int32_t restartWindowSeconds = 0;
  template <class V> void visit(V& v) {
    v("holderIdentity", holderIdentity); v("renewTime", renewTime);
    v("durationSeconds", durationSeconds); v("restartWindowSeconds", restartWindowSeconds);
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
  std::string driver;              // process | libvirt | qemu | sim
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

}  // namespace corral
