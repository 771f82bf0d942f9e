// Maps a method and path onto what the request is about: which endpoint,
// which kind and object, and the Kubernetes verb (get, list, watch, create,
// update, patch, delete) that authorisation and metrics speak in.
#pragma once

#include <string>
#include <string_view>

#include "api/kinds.h"

namespace corral::server {

enum class Endpoint {
  kNotFound,      // no such path: 404
  kCoreVersions,  // /api (kubectl probes the core group; Corral serves none)
  kGroupList,     // /apis
  kGroup,         // /apis/corral
  kResourceList,  // /apis/corral/v1
  kCollection,    // /apis/corral/v1/<plural>
  kMultiWatch,    // GET /apis/corral/v1/watch?kinds=<plural>,...: several kinds, one stream
  kObject,        // /apis/corral/v1/<plural>/<name>
  kStatus,        // /apis/corral/v1/<plural>/<name>/status
  kHeartbeat,     // POST /apis/corral/v1/nodes/<name>/heartbeat (api/heartbeat.h)
  kLog,           // GET /apis/corral/v1/vms/<name>/log[?tailLines=N] (vm_log.h)
  kScale,         // /apis/corral/v1/vmsets/<name>/scale: autoscaling/v1 Scale (scale.h)
  kOpenApiV2,     // /openapi/v2: JSON, or protobuf for kubectl (openapi.h)
  kOpenApiV3,     // /openapi/v3: the index of group-versions
  kOpenApiV3Group,  // /openapi/v3/apis/corral/v1
  kVersion,       // /version
  kHealthz,       // /healthz (open)
  kReadyz,        // /readyz (open)
  kMetrics,       // /metrics
  kUi,            // /ui/<file>: the dashboard's files (open; ui_route.h)
  kUsageHistory,  // GET /usage/nodes: each node's CPU and memory, 15 minutes (usage_history.h)
  // POST /apis/authentication.k8s.io/v1/selfsubjectreviews: who am I
  // (`kubectl auth whoami`, the dashboard's role check); any identity may ask.
  kSelfSubjectReview,
};

struct Route {
  Endpoint endpoint = Endpoint::kNotFound;
  const KindInfo* kind = nullptr;  // for collection, object, status and log
  std::string name;                // for object, status, heartbeat and log; ui: the file
  // The Kubernetes verb; empty when the method is not allowed on the path.
  std::string verb;
  // The metrics label: the plural ("vms", "vms/status") or the path of a
  // non-resource endpoint; bounded, so unknown paths read "unknown".
  std::string resource_label;
  bool open = false;  // served without authentication (/healthz, /readyz, /ui/)
};

// The metrics' verb label of a request: the route's verb ("get", "list",
// "watch", ...) when it has one, else the HTTP method if it is a standard
// one, else "OTHER" — never a string a client chose, so a client sending
// made-up methods cannot create metric series.
std::string verb_label(const Route& route, std::string_view method);

// `method` as sent ("GET", "HEAD", ...); `watch` is the ?watch= flag.
Route parse_route(const std::string& method, const std::string& path, bool watch);

}  // namespace corral::server
