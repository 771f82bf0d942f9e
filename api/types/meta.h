// The pieces every kind shares: object metadata, conditions, resource lists,
// label selectors, taints and tolerations (Kubernetes API conventions).
//
// Defaults that do not depend on other fields are the member initialisers,
// written next to each field; defaults derived from other fields are applied
// in api/defaults.cpp. Validation lives in api/validate.cpp.
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

// The words of the status fields, spelled once (here and next to each kind):
// code compares and writes these, never bare literals, so that a misspelling
// does not compile instead of never matching.

// Condition.type values shared by several kinds.
namespace condition_type {
inline constexpr const char* kReady = "Ready";
}  // namespace condition_type
// Condition.status: "True" | "False" | "Unknown".
namespace condition_status {
inline constexpr const char* kTrue = "True";
inline constexpr const char* kFalse = "False";
inline constexpr const char* kUnknown = "Unknown";
}  // namespace condition_status

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

}  // namespace corral
