// A ResourceClient that keeps objects in memory and records every call
// ("get pools/web", "create pools/web", ...), as client-go's fake clientset.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "api/selector.h"
#include "cli/resource_client.h"
#include "cli/watch_event.h"

namespace corral::testing {

class FakeResourceClient final : public cli::ResourceClient {
 public:
  std::vector<std::string> calls;                              // every call, in order
  std::map<std::string, std::map<std::string, Json>> objects;  // plural → name → object
  std::map<std::string, std::vector<Error>> fail;              // call → errors to answer, one per call
  std::vector<cli::WatchEvent> watch_events;                   // streamed by watch()
  std::map<std::string, std::string> logs;                     // VM name → what vm_log() answers
  int64_t revision = 100;
  FakeClock* clock = nullptr;  // advanced by each watch's timeout

  // Stores an object as the server would: resourceVersion, uid, creationTimestamp.
  Json put(Json object) {
    const KindInfo* k = find_kind(object.value("kind", ""));
    object["metadata"]["resourceVersion"] = std::to_string(++revision);
    if (!object["metadata"].contains("uid")) object["metadata"]["uid"] = "uid-" + std::to_string(revision);
    if (!object["metadata"].contains("creationTimestamp"))
      object["metadata"]["creationTimestamp"] = "2026-09-21T07:33:20.000Z";
    objects[k->plural][cli::object_name(object)] = object;
    return object;
  }

  size_t writes() const {
    size_t n = 0;
    for (const auto& c : calls)
      if (c.rfind("create ", 0) == 0 || c.rfind("replace ", 0) == 0 || c.rfind("remove ", 0) == 0 ||
          c.rfind("patch ", 0) == 0)
        ++n;
    return n;
  }

  Result<Json> get(const KindInfo& kind, const std::string& name) override {
    std::string call = "get " + kind.plural + "/" + name;
    if (auto e = injected(call)) return *e;
    auto& m = objects[kind.plural];
    auto it = m.find(name);
    if (it == m.end()) return make_error(ErrorCode::kNotFound, kind.plural + " \"" + name + "\" not found");
    return it->second;
  }
  Result<Json> list(const KindInfo& kind, const cli::ListOptions& options) override {
    std::string call = "list " + kind.plural;
    if (!options.label_selector.empty()) call += " l=" + options.label_selector;
    if (!options.field_selector.empty()) call += " f=" + options.field_selector;
    if (auto e = injected(call)) return *e;
    auto sel = Selector::parse(options.label_selector);
    if (!sel) return sel.take_error();
    Json list = {{"kind", kind.kind + "List"},
                 {"metadata", {{"resourceVersion", std::to_string(revision)}}},
                 {"items", Json::array()}};
    for (const auto& [name, o] : objects[kind.plural]) {
      Labels labels;
      if (o["metadata"].contains("labels")) labels = o["metadata"]["labels"].get<Labels>();
      if (sel->matches(labels)) list["items"].push_back(o);
    }
    return list;
  }
  Result<Json> create(const KindInfo& kind, const Json& object) override {
    std::string call = "create " + kind.plural + "/" + cli::object_name(object);
    if (auto e = injected(call)) return *e;
    if (objects[kind.plural].count(cli::object_name(object)))
      return make_error(ErrorCode::kAlreadyExists, "already exists");
    return put(object);
  }
  Result<Json> replace(const KindInfo& kind, const Json& object) override {
    std::string name = cli::object_name(object);
    calls.push_back("replace " + kind.plural + "/" + name +
                    " rv=" + object["metadata"].value("resourceVersion", ""));
    if (auto e = injected_no_record("replace " + kind.plural + "/" + name)) return *e;
    auto& m = objects[kind.plural];
    auto it = m.find(name);
    if (it == m.end()) return make_error(ErrorCode::kNotFound, "not found");
    if (it->second["metadata"]["resourceVersion"] != object["metadata"]["resourceVersion"])
      return make_error(ErrorCode::kConflict, "conflict");
    Json stored = object;
    stored["metadata"]["uid"] = it->second["metadata"]["uid"];
    stored["metadata"]["creationTimestamp"] = it->second["metadata"]["creationTimestamp"];
    return put(stored);
  }
  Result<Json> replace_status(const KindInfo& kind, const Json& object) override {
    calls.push_back("replace_status " + kind.plural + "/" + cli::object_name(object));
    return put(object);
  }
  // "patch vmsets/web" (+ "/scale"): the patch applied as the server would,
  // a stale pinned resourceVersion a Conflict; a Scale for "scale".
  Result<Json> patch(const KindInfo& kind, const std::string& name, PatchType type,
                     const Json& patch, const std::string& subresource) override {
    std::string call = "patch " + kind.plural + "/" + name + (subresource.empty() ? "" : "/" + subresource);
    if (auto e = injected(call)) return *e;
    auto& m = objects[kind.plural];
    auto it = m.find(name);
    if (it == m.end()) return make_error(ErrorCode::kNotFound, kind.plural + " \"" + name + "\" not found");
    if (subresource == "scale") {
      Json scale = {{"apiVersion", "autoscaling/v1"}, {"kind", "Scale"},
                    {"metadata", {{"name", name}}},
                    {"spec", {{"replicas", it->second["spec"].value("replicas", 0)}}}};
      auto patched = apply_patch(type, scale, patch);
      if (!patched) return patched.take_error();
      Json stored = it->second;
      stored["spec"]["replicas"] = (*patched)["spec"]["replicas"];
      put(stored);
      (*patched)["metadata"]["resourceVersion"] = std::to_string(revision);
      return patched;
    }
    auto patched = apply_patch(type, it->second, patch);
    if (!patched) return patched.take_error();
    if ((*patched)["metadata"]["resourceVersion"] != it->second["metadata"]["resourceVersion"])
      return make_error(ErrorCode::kConflict, "conflict");
    return put(*patched);
  }
  Result<Json> remove(const KindInfo& kind, const std::string& name) override {
    std::string call = "remove " + kind.plural + "/" + name;
    if (auto e = injected(call)) return *e;
    auto& m = objects[kind.plural];
    auto it = m.find(name);
    if (it == m.end()) return make_error(ErrorCode::kNotFound, kind.plural + " \"" + name + "\" not found");
    Json out = it->second;
    m.erase(it);
    return out;
  }
  Result<void> watch(const KindInfo& kind, const cli::ListOptions&, const std::string& rv,
                     std::chrono::milliseconds timeout,
                     const std::function<bool(const cli::WatchEvent&)>& on_event) override {
    calls.push_back("watch " + kind.plural + " rv=" + rv);
    for (const auto& ev : watch_events)
      if (!on_event(ev)) break;
    watch_events.clear();
    // The stream lasted until its timeout.
    if (clock) clock->advance(timeout);
    return Ok{};
  }
  Result<Json> discovery() override {
    calls.push_back("discovery");
    Json resources = Json::array();
    for (const auto& k : all_kinds())
      resources.push_back({{"name", k.plural},
                           {"singularName", k.singular},
                           {"namespaced", false},
                           {"kind", k.kind},
                           {"verbs", {"get", "list"}},
                           {"shortNames", k.short_names}});
    return Json{{"kind", "APIResourceList"}, {"groupVersion", "corral/v1"}, {"resources", resources}};
  }
  Result<Json> server_version() override {
    calls.push_back("version");
    return Json{{"gitVersion", "v9.9.9"}};
  }
  // "log vms/web-1" (+ " tailLines=N"): logs[name] for a VM that is stored
  // ("" when absent), NotFound for one that is not, or an injected error.
  Result<std::string> vm_log(const std::string& name, int64_t tail_lines) override {
    std::string call = "log vms/" + name;
    if (tail_lines >= 0) call += " tailLines=" + std::to_string(tail_lines);
    if (auto e = injected(call)) return *e;
    if (!objects["vms"].count(name)) return make_error(ErrorCode::kNotFound, "vms \"" + name + "\" not found");
    return logs[name];
  }
  // "follow vms/web-1" (+ " tailLines=N"): the lines of logs[name], then the
  // stream ends, as vm_log() answers otherwise.
  Result<void> follow_vm_log(const std::string& name, int64_t tail_lines,
                             const std::function<bool(const std::string&)>& on_line) override {
    std::string call = "follow vms/" + name;
    if (tail_lines >= 0) call += " tailLines=" + std::to_string(tail_lines);
    if (auto e = injected(call)) return *e;
    if (!objects["vms"].count(name)) return make_error(ErrorCode::kNotFound, "vms \"" + name + "\" not found");
    std::string text = logs[name];
    size_t at = 0;
    while (at < text.size()) {
      size_t nl = text.find('\n', at);
      if (nl == std::string::npos) nl = text.size();
      if (!on_line(text.substr(at, nl - at))) break;
      at = nl + 1;
    }
    return Ok{};
  }

 private:
  std::optional<Error> injected(const std::string& call) {
    calls.push_back(call);
    return injected_no_record(call);
  }
  std::optional<Error> injected_no_record(const std::string& call) {
    auto it = fail.find(call);
    if (it == fail.end() || it->second.empty()) return std::nullopt;
    Error e = it->second.front();
    it->second.erase(it->second.begin());
    return e;
  }
};

}  // namespace corral::testing
