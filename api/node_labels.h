// Node labels every agent sets, so that spread, antiAffinity and selectors
// work without hand-made labels. Kubernetes' own names are rewritten to these
// in topology keys, with a warning (api/defaults.h respell_old_values).
#pragma once

namespace corral::node_label {

inline constexpr const char* kHostname = "corral.io/hostname";   // the node's name (always)
inline constexpr const char* kZone = "topology.corral.io/zone";  // corral-agent --zone
inline constexpr const char* kKubernetesHostname = "kubernetes.io/hostname";
inline constexpr const char* kKubernetesZone = "topology.kubernetes.io/zone";

}  // namespace corral::node_label
