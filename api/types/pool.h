// Pool: a set of hosts chosen by label, with its placement, overcommit,
// rebalance and fail-over policies; its status carries V, L and the spread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types/meta.h"

namespace corral {

namespace condition_type {
// True while the mass-failure guard holds the pool: most of its nodes went
// silent together, and their VMs stay where they are (node lifecycle loop).
inline constexpr const char* kDisrupted = "Disrupted";
}  // namespace condition_type

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
  // The longest a node whose agent stopped for a restart (SIGTERM, an upgrade)
  // keeps its VMs while no agent beats: 5 minutes. The agent asks for its
  // --restart-window; the controller grants at most this. 0: never hold; the
  // node is judged as if its agent had died.
  int32_t restartWindowSeconds = 300;
  template <class V> void visit(V& v) {
    v("nodeGraceSeconds", nodeGraceSeconds); v("tolerateNodeFailures", tolerateNodeFailures);
    v("availabilityWindowSeconds", availabilityWindowSeconds);
    v("restartWindowSeconds", restartWindowSeconds);
  }
};

struct PoolSpec {
  Labels nodeSelector;             // nodes whose labels include all of these; empty = every node
  Overcommit overcommit;
  std::string placement = "spread";  // spread | binpack | leastLoaded ("least-loaded" is respelled)
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
  ResourceList capacity;           // V = Σ Pᵢ: Σ allocatable of its Ready nodes (no overcommit)
  ResourceList schedulable;        // Σ allocatable × spec.overcommit: what the scheduler may promise
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
    v("schedulable", schedulable); v("allocated", allocated); v("used", used); v("meanLoad", meanLoad);
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

}  // namespace corral
