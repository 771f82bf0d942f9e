#include "cli/desired_state.h"

#include "api/json.h"

namespace corral::cli {

namespace {
bool non_empty_object(const Json& j) { return j.is_object() && !j.empty(); }
}  // namespace

Json desired_state(const Json& object) {
  Json out = Json::object();
  if (!object.is_object()) return out;
  if (object.contains("apiVersion")) out["apiVersion"] = object["apiVersion"];
  if (object.contains("kind")) out["kind"] = object["kind"];
  Json meta = Json::object();
  if (object.contains("metadata") && object["metadata"].is_object()) {
    const Json& m = object["metadata"];
    if (m.contains("name")) meta["name"] = m["name"];
    if (m.contains("labels") && non_empty_object(m["labels"])) meta["labels"] = m["labels"];
    if (m.contains("annotations") && non_empty_object(m["annotations"]))
      meta["annotations"] = m["annotations"];
  }
  out["metadata"] = meta;
  for (auto it = object.begin(); it != object.end(); ++it) {
    const std::string& k = it.key();
    if (k == "apiVersion" || k == "kind" || k == "metadata" || k == "status") continue;
    out[k] = it.value();
  }
  return out;
}

bool same_desired_state(const Json& a, const Json& b) {
  // ordered_json compares objects in key order; std::map-backed json does not.
  return nlohmann::json::parse(desired_state(a).dump()) == nlohmann::json::parse(desired_state(b).dump());
}

Json keep_server_owned_fields(const Json& desired, const Json& live) {
  Json out = desired;
  if (desired.value("kind", "") != "VM") return out;
  if (!out.contains("spec") || !out["spec"].is_object()) return out;
  if (!live.contains("spec") || !live["spec"].is_object()) return out;
  Json& spec = out["spec"];
  const Json& live_spec = live["spec"];
  bool unbound = !spec.contains("nodeName") || spec["nodeName"] == "";
  if (unbound) {
    if (live_spec.contains("nodeName")) spec["nodeName"] = live_spec["nodeName"];
    bool no_epoch = !spec.contains("epoch") || spec["epoch"] == 0;
    if (no_epoch && live_spec.contains("epoch")) spec["epoch"] = live_spec["epoch"];
  }
  return out;
}

}  // namespace corral::cli
