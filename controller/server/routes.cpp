#include "controller/server/routes.h"

#include <vector>

namespace corral::server {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool is_get(const std::string& method) { return method == "GET" || method == "HEAD"; }

}  // namespace

Route parse_route(const std::string& method, const std::string& path, bool watch) {
  Route r;
  if (path == "/ui" || path.starts_with("/ui/")) {
    // The page is no secret; what it shows comes from the API with a token.
    r.endpoint = Endpoint::kUi;
    r.resource_label = "/ui";
    r.open = true;
    r.name = path.size() > 4 ? path.substr(4) : "";
    if (is_get(method)) r.verb = "get";
    return r;
  }
  auto seg = split_path(path);
  auto non_resource = [&](Endpoint e, const char* label, bool open = false) {
    r.endpoint = e;
    r.resource_label = label;
    r.open = open;
    if (is_get(method)) r.verb = "get";
    return r;
  };
  if (seg.size() == 1) {
    if (seg[0] == "api") return non_resource(Endpoint::kCoreVersions, "/api");
    if (seg[0] == "apis") return non_resource(Endpoint::kGroupList, "/apis");
    if (seg[0] == "version") return non_resource(Endpoint::kVersion, "/version");
    if (seg[0] == "healthz") return non_resource(Endpoint::kHealthz, "/healthz", true);
    if (seg[0] == "readyz") return non_resource(Endpoint::kReadyz, "/readyz", true);
    if (seg[0] == "metrics") return non_resource(Endpoint::kMetrics, "/metrics");
  }
  if (seg.size() == 2 && seg[0] == "usage" && seg[1] == "nodes") {
    // Authorised as a list of Nodes: whoever may see the nodes sees their past.
    r.endpoint = Endpoint::kUsageHistory;
    r.kind = find_kind_by_plural("nodes");
    r.resource_label = "/usage/nodes";
    if (is_get(method)) r.verb = "list";
    return r;
  }
  if (seg.size() == 4 && seg[0] == "apis" && seg[1] == "authentication.k8s.io" && seg[2] == "v1" &&
      seg[3] == "selfsubjectreviews") {
    r.endpoint = Endpoint::kSelfSubjectReview;
    r.resource_label = "selfsubjectreviews";
    if (method == "POST") r.verb = "create";
    return r;
  }
  if (seg.size() >= 2 && seg[0] == "openapi") {
    // Read by kubectl before it validates, explains or scales anything.
    if (seg.size() == 2 && seg[1] == "v2") return non_resource(Endpoint::kOpenApiV2, "/openapi/v2");
    if (seg.size() == 2 && seg[1] == "v3") return non_resource(Endpoint::kOpenApiV3, "/openapi/v3");
    if (seg.size() == 5 && seg[1] == "v3" && seg[2] == "apis" && seg[3] == "corral" &&
        seg[4] == "v1")
      return non_resource(Endpoint::kOpenApiV3Group, "/openapi/v3/apis/corral/v1");
    r.resource_label = "unknown";
    return r;
  }
  r.resource_label = "unknown";
  if (seg.size() < 2 || seg[0] != "apis" || seg[1] != "corral") return r;
  if (seg.size() == 2) return non_resource(Endpoint::kGroup, "/apis/corral");
  if (seg[2] != "v1") return r;
  if (seg.size() == 3) return non_resource(Endpoint::kResourceList, "/apis/corral/v1");
  if (seg.size() > 6) return r;
  if (seg.size() == 4 && seg[3] == "watch") {
    r.endpoint = Endpoint::kMultiWatch;
    r.resource_label = "watch";
    if (is_get(method)) r.verb = "watch";
    return r;
  }
  r.kind = find_kind_by_plural(seg[3]);
  if (!r.kind) return r;
  r.resource_label = r.kind->plural;
  if (seg.size() == 4) {
    r.endpoint = Endpoint::kCollection;
    if (is_get(method)) r.verb = watch ? "watch" : "list";
    if (method == "POST") r.verb = "create";
    return r;
  }
  r.name = seg[4];
  if (seg.size() == 5) {
    r.endpoint = Endpoint::kObject;
    if (is_get(method)) r.verb = "get";
    if (method == "PUT") r.verb = "update";
    if (method == "PATCH") r.verb = "patch";
    if (method == "DELETE") r.verb = "delete";
    return r;
  }
  if (seg[5] == "heartbeat" && r.kind->kind == "Node") {
    // Authorised as an update of the Node (a node may beat only for itself);
    // the metrics label keeps heartbeats apart from status writes.
    r.endpoint = Endpoint::kHeartbeat;
    r.resource_label = "nodes/heartbeat";
    if (method == "POST") r.verb = "update";
    return r;
  }
  if (seg[5] == "log" && r.kind->kind == "VM") {
    // Kubernetes' pods/<name>/log: read from the VM's agent (vm_log.h).
    r.endpoint = Endpoint::kLog;
    r.resource_label = "vms/log";
    if (is_get(method)) r.verb = "get";
    return r;
  }
  if (seg[5] == "scale" && r.kind->kind == "VMSet") {
    // Kubernetes' scale subresource, as Deployments have it: kubectl scale.
    r.endpoint = Endpoint::kScale;
    r.resource_label = "vmsets/scale";
    if (is_get(method)) r.verb = "get";
    if (method == "PUT") r.verb = "update";
    if (method == "PATCH") r.verb = "patch";
    return r;
  }
  if (seg[5] != "status" || !r.kind->has_status) {
    r.kind = nullptr;
    r.name.clear();
    r.resource_label = "unknown";
    return r;
  }
  r.endpoint = Endpoint::kStatus;
  r.resource_label = r.kind->plural + "/status";
  if (is_get(method)) r.verb = "get";
  if (method == "PUT") r.verb = "update";
  if (method == "PATCH") r.verb = "patch";
  return r;
}

std::string verb_label(const Route& route, std::string_view method) {
  if (!route.verb.empty()) return route.verb;
  static constexpr std::string_view kStandard[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                   "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  for (std::string_view m : kStandard)
    if (method == m) return std::string(m);
  return "OTHER";
}

}  // namespace corral::server
