// VMSet: replicas of a VM template, spread over a topology, with restart,
// disruption and fencing policies; its status carries availability R.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/types/meta.h"
#include "api/types/vm.h"

namespace corral {

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

}  // namespace corral
