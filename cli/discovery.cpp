#include "cli/discovery.h"

#include <ostream>

#include "api/json.h"
#include "cli/printers.h"

#ifndef CORRAL_VERSION
#define CORRAL_VERSION "unknown"
#endif

namespace corral::cli {

int run_api_resources(Context& ctx) {
  auto list = ctx.client.discovery();
  if (!list) {
    print_error(ctx.err, list.error());
    return kExitError;
  }
  std::string group_version = list->value("groupVersion", std::string(kApiVersion));
  std::vector<Row> rows = {{"NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"}};
  if (list->contains("resources") && (*list)["resources"].is_array()) {
    for (const auto& r : (*list)["resources"]) {
      if (!r.is_object()) continue;
      std::string name = r.value("name", "");
      if (name.empty() || name.find('/') != std::string::npos) continue;  // subresources
      std::string shorts;
      if (r.contains("shortNames") && r["shortNames"].is_array()) {
        for (const auto& s : r["shortNames"]) {
          if (!s.is_string()) continue;
          if (!shorts.empty()) shorts += ",";
          shorts += s.get<std::string>();
        }
      }
      bool namespaced = r.value("namespaced", false);
      rows.push_back({name, shorts, group_version, namespaced ? "true" : "false", r.value("kind", "")});
    }
  }
  ctx.out << render_rows(rows);
  return kExitOk;
}

int run_version(Context& ctx, const VersionOptions& options) {
  ctx.out << "Client Version: " << CORRAL_VERSION << "\n";
  if (options.client_only) return kExitOk;
  auto v = ctx.client.server_version();
  if (!v) {
    print_error(ctx.err, v.error());
    return kExitError;
  }
  ctx.out << "Server Version: " << v->value("gitVersion", "unknown") << "\n";
  // Several controllers on etcd: who leads, and which one answered.
  if (v->contains("controlPlane") && (*v)["controlPlane"].is_object()) {
    const Json& cp = (*v)["controlPlane"];
    std::string leader = cp.value("leader", "");
    ctx.out << "Leader: "
            << (leader.empty() ? std::string("none (an election is under way)")
                               : leader + " (" + cp.value("leaderURL", "") + ")")
            << "\n";
    ctx.out << "Answered by: " << cp.value("self", "") << " ("
            << (cp.value("leading", false) ? "leader" : "follower") << ")\n";
  }
  return kExitOk;
}

}  // namespace corral::cli
