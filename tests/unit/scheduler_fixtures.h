// Builders for the scheduler tests: typed Nodes, Pools, VMSets and VMs with
// only the fields the scheduler reads.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/types.h"
#include "controller/scheduler/snapshot.h"

namespace corral::scheduler::testing {

inline constexpr int64_t kMilli = 1000;
inline constexpr int64_t kGi = int64_t{1024} * 1024 * 1024;

inline Quantity cores(double n) { return Quantity::from_milli(static_cast<int64_t>(n * kMilli)); }
inline Quantity gib(int64_t n) { return Quantity::from_bytes(n * kGi); }

inline Node make_node(const std::string& name, double cpu, int64_t memory_gib, Labels labels = {},
                      bool ready = true) {
  Node n;
  n.metadata.name = name;
  n.metadata.labels = std::move(labels);
  n.status.allocatable.cpu = cores(cpu);
  n.status.allocatable.memory = gib(memory_gib);
  n.status.capacity = n.status.allocatable;
  n.status.phase = ready ? "Ready" : "NotReady";
  n.status.conditions.push_back(Condition{"Ready", ready ? "True" : "False", "", "", "", 0});
  return n;
}

inline Pool make_pool(const std::string& name, Labels selector = {},
                      const std::string& placement = "spread", double cpu_over = 1.0,
                      double memory_over = 1.0) {
  Pool p;
  p.metadata.name = name;
  p.spec.nodeSelector = std::move(selector);
  p.spec.placement = placement;
  p.spec.overcommit = {cpu_over, memory_over};
  return p;
}

inline VMSet make_vmset(const std::string& name, const std::string& pool, double cpu = 1,
                        int64_t memory_gib = 1) {
  VMSet s;
  s.metadata.name = name;
  s.spec.pool = pool;
  s.spec.templ.spec.resources.cpu = cores(cpu);
  s.spec.templ.spec.resources.memory = gib(memory_gib);
  return s;
}

// A VM of `set`, bound to `node` (empty: pending) in `phase`.
inline VM make_vm(const std::string& name, const std::string& set, double cpu, int64_t memory_gib,
                  const std::string& node = "", const std::string& phase = "") {
  VM v;
  v.metadata.name = name;
  if (!set.empty()) {
    v.metadata.labels["corral.io/vmset"] = set;
    v.metadata.ownerReferences.push_back(OwnerReference{kApiVersion, "VMSet", set, "", true});
  }
  v.spec.resources.cpu = cores(cpu);
  v.spec.resources.memory = gib(memory_gib);
  v.spec.nodeName = node;
  v.status.phase = phase.empty() ? (node.empty() ? "Pending" : "Running") : phase;
  return v;
}

inline VmRequest request(const std::string& name, const std::string& set, const std::string& pool,
                         double cpu = 1, int64_t memory_gib = 1, int32_t priority = 0,
                         int64_t epoch = 0) {
  VmRequest r;
  r.name = name;
  r.vmset = set;
  r.pool = pool;
  r.cpu = static_cast<int64_t>(cpu * kMilli);
  r.memory = memory_gib * kGi * kMilli;
  r.priority = priority;
  r.epoch = epoch;
  return r;
}

}  // namespace corral::scheduler::testing
