// Secret: named values a VM takes into its environment (env[].valueFrom.
// secretKeyRef), kept out of VMSets and VMs that viewers read.
//
// As Kubernetes' Secret: `data` holds base64 values; `stringData` takes plain
// strings on write, is merged into `data` (winning over the same key) by
// normalize_object and is never stored or returned. Readable whole by admins;
// viewers and balancers get every value redacted; node tokens may not read
// Secrets at all — the node of a VM that uses one receives the resolved values
// in its heartbeat answer (README.md "Security").
#pragma once

#include <cstddef>
#include <map>
#include <string>

#include "api/json_fwd.h"
#include "api/types/meta.h"

namespace corral {

// Secret bounds (Kubernetes caps a Secret at 1 MiB; a VM's environment is
// smaller, and every Secret is held in memory by the controller).
inline constexpr size_t kMaxSecretBytes = 64 * 1024;  // sum of decoded values
inline constexpr size_t kMaxSecretKeyLength = 253;
// What every value reads as for roles that may not see values.
inline constexpr const char* kRedactedValue = "<redacted>";

// Secret.type: only Opaque (arbitrary user data) for now.
namespace secret_type {
inline constexpr const char* kOpaque = "Opaque";
}  // namespace secret_type

// Secrets have no spec/status split (as in Kubernetes): their fields are top level.
struct Secret {
  static constexpr const char* kKind = "Secret";
  ObjectMeta metadata;
  std::string type = secret_type::kOpaque;
  std::map<std::string, std::string> data;        // key → base64 of the value
  std::map<std::string, std::string> stringData;  // key → value; write-only (merged into data)
  template <class V> void visit(V& v) {
    v("metadata", metadata); v("type", type); v("data", data); v("stringData", stringData);
  }
};

// `secret` (a Secret as JSON) with every value of data and stringData
// replaced by kRedactedValue; keys and everything else kept. What viewers and
// balancers read (controller/server/secret_view.h). api/secret.cpp.
Json redact_secret_values(Json secret);

}  // namespace corral
