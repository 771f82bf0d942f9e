#include "tests/support/vm_view.h"

#include "api/json.h"

namespace corral::testing {

std::map<std::string, VmView> list_vm_views(ApiClient& api) {
  std::map<std::string, VmView> out;
  auto r = api.call("GET", ApiClient::resource_path("vms"));
  if (!r) return out;
  for (const Json& item : (*r)["items"]) {
    VmView v;
    const Json& spec = item["spec"];
    const Json status = item.value("status", Json::object());
    v.node = spec.value("nodeName", "");
    v.epoch = spec.value("epoch", int64_t{0});
    v.phase = status.value("phase", "");
    v.reported_node = status.value("nodeName", "");
    v.reported_epoch = status.value("epoch", int64_t{0});
    v.restarts = status.value("restarts", 0);
    v.last_error = status.value("lastError", "");
    v.resource_version = item["metadata"].value("resourceVersion", "");
    out[item["metadata"]["name"].get<std::string>()] = v;
  }
  return out;
}

bool all_vms_running(const std::map<std::string, VmView>& vms, int replicas,
                     const std::string& avoid_node) {
  if (static_cast<int>(vms.size()) != replicas) return false;
  for (const auto& [name, v] : vms)
    if (!v.running() || v.node == avoid_node) return false;
  return true;
}

std::string describe_vm_views(const std::map<std::string, VmView>& vms) {
  std::string out;
  for (const auto& [name, v] : vms)
    out += name + " node=" + v.node + " epoch=" + std::to_string(v.epoch) + " phase=" + v.phase +
           " reported=" + v.reported_node + "/" + std::to_string(v.reported_epoch) +
           " restarts=" + std::to_string(v.restarts) + " rv=" + v.resource_version +
           " lastError=" + v.last_error + "\n";
  return out;
}

}  // namespace corral::testing
