// ClusterSnapshot: everything the scheduler's filters and scorers read, built
// from typed Nodes, Pools, VMSets and VMs, and kept current incrementally.
//
// It is a plain value with no store, clock or I/O behind it, so that every
// decision is a pure function of (snapshot, pending VMs, options).
//
// Sizes it is shaped for: 5,000 nodes, 100,000 VMs. Nodes keep a stable index
// for their lifetime in the snapshot; per-VMSet replica counts are kept per
// node and per topology domain so that a filter answers in O(1) hash lookups,
// and binding a VM updates only what that VM touches.
//
// Which VMs hold a place on their node (count towards its allocation, its
// replica and domain counts): every VM with spec.nodeName set, except
//   - status.phase Lost: its node is dead and the VM is being re-placed; the
//     node's capacity is not promised to it any more, and the replacement must
//     be free to land anywhere (spread and anti-affinity ignore it too);
//   - status.phase Failed with restartPolicy Never: it will never run again.
// A Failed VM that will be restarted (Always, OnFailure) keeps its place, and so
// does a Terminating one until it is gone.
//
// Thread safety: none. One owner (the scheduling loop) reads and updates it.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/types.h"

namespace corral::scheduler {

// The label every VM of a VMSet carries (api/defaults.cpp sets it).
inline constexpr std::string_view kVMSetLabel = "corral.io/vmset";
// The topology key that means "the node itself": its value is the node name.
inline constexpr std::string_view kHostnameKey = "corral.io/hostname";

inline constexpr uint32_t kNoIndex = UINT32_MAX;

enum class Strategy { kSpread, kBinpack, kLeastLoaded };
// "spread" | "binpack" | "leastLoaded" (or the old "least-loaded"); anything else (validation refuses it)
// falls back to spread, the safest for availability.
Strategy parse_strategy(std::string_view placement);

struct NodeInfo {
  std::string name;
  uint32_t index = kNoIndex;  // stable for the node's life in this snapshot
  bool present = true;        // false once removed; removed nodes are in no pool
  Labels labels;
  // Ready when the Ready condition says True (or, without one, phase is
  // "Ready"), and nothing says otherwise: a Ready condition that is not True
  // or a phase other than Ready (NotReady, Unreachable) makes it not Ready.
  bool ready = false;
  bool unschedulable = false;  // spec.unschedulable (cordoned) or spec.drain
  std::vector<Taint> taints;
  bool has_hard_taints = false;  // any NoSchedule/NoExecute taint: fast path for the common case
  // Milli-units (Quantity::milli): 1 CPU = 1000, 1 byte = 1000.
  int64_t allocatable_cpu = 0;
  int64_t allocatable_memory = 0;
  int64_t requested_cpu = 0;  // Σ requests of the VMs holding a place here
  int64_t requested_memory = 0;
  int64_t usage_cpu = 0;  // status.usage: measured and smoothed by the agent
  int64_t usage_memory = 0;
  // Σ requests of VMs bound here that are not Running yet: the agent's measured
  // usage cannot include them, so load estimates add them (otherwise one batch
  // would pour every VM onto the node that looked idle).
  int64_t expected_cpu = 0;
  int64_t expected_memory = 0;
  int32_t vm_count = 0;  // VMs holding a place here
};

// What the scheduler needs of one Pending VM.
struct VmRequest {
  std::string name;
  std::string vmset;  // the owning VMSet; "" for none
  std::string pool;   // where to place it (from the VMSet's spec.pool)
  int64_t cpu = 0;    // requests, milli-units
  int64_t memory = 0;
  std::vector<Toleration> tolerations;
  int32_t priority = 0;  // spec.priority: higher is placed first
  int64_t epoch = 0;     // spec.epoch now; a binding gets epoch + 1
  // A move's replacement (api/annotations.h, target-node): the only node it may
  // be bound to, so that the rebalancer's plan is what happens; "" = any.
  std::string target_node;
};

struct PoolInfo {
  std::string name;
  Labels node_selector;
  Overcommit overcommit;
  Strategy strategy = Strategy::kSpread;
  std::vector<uint32_t> members;  // node indices, sorted by node name
  // Where the next sampled search starts (see Options::percentage_of_nodes_to_score).
  size_t next_start = 0;
};

// Replicas of one VMSet in one topology domain (a node, or a label value).
struct DomainReplicas {
  int32_t count = 0;
  std::set<std::string> vms;  // ordered: rejection reasons name the smallest
};

struct VmSetInfo {
  std::string name;
  std::string pool;
  std::optional<SpreadPolicy> spread;
  std::optional<AntiAffinity> anti_affinity;  // topologyKey defaulted to hostname
  int32_t placed = 0;                         // replicas holding a place somewhere
  // By node index: the hostname domain, and the spread scorer's input.
  std::unordered_map<uint32_t, DomainReplicas> per_node;
  // Per label topology key the set uses (spread, anti-affinity), per value.
  std::unordered_map<std::string, std::unordered_map<std::string, DomainReplicas>> per_domain;
};

// One set's replica counts per domain of one topology key, resolved once per
// VM so that asking about each node costs one label lookup and one hash probe.
class DomainCounter {
 public:
  DomainCounter() = default;
  DomainCounter(const VmSetInfo& set, const std::string& key);
  // Replicas of the set in the node's domain; nullptr when none or when the
  // node lacks the label.
  const DomainReplicas* find(const NodeInfo& node) const;
  int32_t count(const NodeInfo& node) const {
    const DomainReplicas* d = find(node);
    return d ? d->count : 0;
  }

 private:
  const VmSetInfo* set_ = nullptr;
  std::string key_;
  bool hostname_ = false;
  const std::unordered_map<std::string, DomainReplicas>* by_value_ = nullptr;
};

// One topology domain of a pool: its value and the member nodes carrying it.
struct Domain {
  std::string value;
  std::vector<uint32_t> nodes;
};

class ClusterSnapshot {
 public:
  ClusterSnapshot() = default;

  // Builds from full lists (as a watch cache holds them). Cost O(N + V) with
  // N nodes and V VMs, plus O(pools × N) for pool membership.
  static ClusterSnapshot build(const std::vector<Node>& nodes, const std::vector<Pool>& pools,
                               const std::vector<VMSet>& vmsets, const std::vector<VM>& vms);

  // ---- incremental updates (from watch events) ----------------------------------
  // Adds a VMSet the snapshot has never held. False (nothing done) when it
  // holds one of that name: a changed or re-created set needs a build. VMs of
  // the set counted before it was known are re-counted by upsert_vm.
  bool add_vmset(const VMSet& vmset);
  // Adds a node or replaces what is known of it (labels, readiness, taints,
  // allocatable, usage); its pool memberships are recomputed. Allocation from
  // VMs is kept.
  void upsert_node(const Node& node);
  // The node leaves every pool; VMs still bound to it keep their accounting
  // until they are removed or re-placed.
  void remove_node(std::string_view name);
  // Adds, moves or forgets a VM's accounting per the rule at the top of this file.
  void upsert_vm(const VM& vm);
  void remove_vm(std::string_view name);
  // Records a binding the scheduler just decided: the VM holds `node` from now
  // on (moved off its previous node if it had one). Counts it as expected load
  // until an upsert_vm reports it Running.
  void bind(const VmRequest& vm, uint32_t node);
  // bind() with the place counted as expected load or not: puts back exactly
  // a place that remove_vm() took (see expected()), for callers that try a
  // change on the snapshot and undo it (the rebalance planner's what-ifs).
  void place(const VmRequest& vm, uint32_t node, bool expected);
  // Pools and VMSets change rarely: rebuild the snapshot when they do.

  // ---- reads --------------------------------------------------------------------
  const std::vector<NodeInfo>& nodes() const { return nodes_; }
  size_t node_count() const { return live_nodes_; }  // present nodes only
  const NodeInfo* node(std::string_view name) const;
  const PoolInfo* pool(std::string_view name) const;
  PoolInfo* mutable_pool(std::string_view name);
  const VmSetInfo* vmset(std::string_view name) const;
  // The node a VM holds a place on, or nullptr.
  const NodeInfo* node_of_vm(std::string_view vm) const;
  // Whether the VM's place counts as expected load (bound, not Running yet);
  // false when it holds none.
  bool expected(std::string_view vm) const;

  // The domain value of `node` for `key` ("corral.io/hostname" = its name);
  // nullptr when the node lacks that label.
  static const std::string* domain_of(const NodeInfo& node, std::string_view key);
  // Replicas of `set` in the domain of `node` for `key`; nullptr when none.
  const DomainReplicas* replicas_in_domain(const VmSetInfo& set, std::string_view key,
                                           const NodeInfo& node) const;
  // The domains of a pool's member nodes for `key`, sorted by value; nodes
  // without the label are in none. Cached until a node changes.
  const std::vector<Domain>& domains(const PoolInfo& pool, std::string_view key) const;

 private:
  struct Placement {
    uint32_t node = kNoIndex;
    int64_t cpu = 0;
    int64_t memory = 0;
    bool expected = false;  // bound but not Running yet
    std::string vmset;      // "" when not owned or its set is unknown
  };

  void set_node_fields(NodeInfo& info, const Node& node);
  void index_node_in_pools(uint32_t index);
  void unindex_node_from_pools(uint32_t index);
  void add_placement(const std::string& vm, const Placement& p);
  void remove_placement(std::string_view vm);
  void count_replica(VmSetInfo& set, const std::string& vm, uint32_t node, int delta);
  VmSetInfo* find_vmset(std::string_view name);

  std::vector<NodeInfo> nodes_;  // by stable index
  size_t live_nodes_ = 0;
  std::unordered_map<std::string, uint32_t> node_index_;
  std::deque<PoolInfo> pools_;  // deque: pointers stay valid
  std::unordered_map<std::string, size_t> pool_index_;
  std::deque<VmSetInfo> vmsets_;
  std::unordered_map<std::string, size_t> vmset_index_;
  std::unordered_map<std::string, Placement> placements_;  // VMs holding a place
  // (pool name + '\n' + key) → domains; cleared whenever a node changes.
  mutable std::unordered_map<std::string, std::vector<Domain>> domain_cache_;
};

// Whether a VM holds a place on spec.nodeName (see the rule at the top).
bool holds_place(const VM& vm);
// Whether a VM is waiting for the scheduler: no binding yet, or Lost.
bool needs_placement(const VM& vm);
// The owning VMSet's name: the controller ownerReference of kind VMSet, else
// the corral.io/vmset label; "" when neither.
std::string owning_vmset(const VM& vm);
// A VmRequest for `vm`, its pool taken from its VMSet in `snapshot` ("" when
// the set is unknown; the scheduler then reports why).
VmRequest make_request(const VM& vm, const ClusterSnapshot& snapshot);

}  // namespace corral::scheduler
