#include "cli/resource_client.h"

#include <cctype>

#include "api/json.h"
#include "cli/watch_event.h"

namespace corral::cli {

namespace {

std::string query(const ListOptions& options) {
  std::string q;
  auto add = [&q](const std::string& key, const std::string& value) {
    q += q.empty() ? "?" : "&";
    q += key + "=" + ApiClient::url_encode(value);
  };
  if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
  if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
  return q;
}

// Names the server's reason, as kubectl's "Error from server (Forbidden)",
// unless the message already says it ("... not found", "Unauthorized: ...").
Result<Json> with_reason(Result<Json> r) {
  if (r) return r;
  Error e = r.take_error();
  if (e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout) return e;  // transport
  std::string squashed, reason = reason_name(e.code);
  for (char c : e.message)
    if (c != ' ') squashed += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : reason) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (squashed.find(reason) == std::string::npos)
    e.message = std::string(reason_name(e.code)) + ": " + e.message;
  return e;
}

}  // namespace

std::string object_name(const Json& object) {
  if (!object.is_object()) return "";
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("name");
  return n != m->end() && n->is_string() ? n->get<std::string>() : "";
}

Result<Json> HttpResourceClient::get(const KindInfo& kind, const std::string& name) {
  return with_reason(api_.call("GET", ApiClient::resource_path(kind.plural, name)));
}

Result<Json> HttpResourceClient::list(const KindInfo& kind, const ListOptions& options) {
  return with_reason(api_.call("GET", ApiClient::resource_path(kind.plural) + query(options)));
}

Result<Json> HttpResourceClient::create(const KindInfo& kind, const Json& object) {
  return with_reason(api_.call("POST", ApiClient::resource_path(kind.plural), &object));
}

Result<Json> HttpResourceClient::replace(const KindInfo& kind, const Json& object) {
  return with_reason(api_.call("PUT", ApiClient::resource_path(kind.plural, object_name(object)), &object));
}

Result<Json> HttpResourceClient::replace_status(const KindInfo& kind, const Json& object) {
  return with_reason(
      api_.call("PUT", ApiClient::resource_path(kind.plural, object_name(object), "status"), &object));
}

Result<Json> HttpResourceClient::patch(const KindInfo& kind, const std::string& name,
                                       PatchType type, const Json& patch,
                                       const std::string& subresource) {
  return with_reason(api_.call("PATCH", ApiClient::resource_path(kind.plural, name, subresource),
                               &patch, std::string(patch_media_type(type))));
}

Result<Json> HttpResourceClient::remove(const KindInfo& kind, const std::string& name) {
  return with_reason(api_.call("DELETE", ApiClient::resource_path(kind.plural, name)));
}

Result<void> HttpResourceClient::watch(const KindInfo& kind, const ListOptions& options,
                                       const std::string& resource_version, std::chrono::milliseconds timeout,
                                       const std::function<bool(const WatchEvent&)>& on_event) {
  std::string q = query(options);
  q += q.empty() ? "?" : "&";
  q += "watch=true";
  if (!resource_version.empty()) q += "&resourceVersion=" + ApiClient::url_encode(resource_version);
  // Let the server end the stream itself a little after our own deadline, so
  // that it never holds a thread for a client that has gone.
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout).count() + 1;
  q += "&timeoutSeconds=" + std::to_string(secs);
  Result<void> line_error = Ok{};
  auto r = api_.stream_lines(
      ApiClient::resource_path(kind.plural) + q,
      [&](const std::string& line) {
        auto parsed = parse_json(line, "watch event");
        if (!parsed || !parsed->is_object()) {
          line_error = make_error(ErrorCode::kInternal, "malformed watch event from the server: " + line);
          return false;
        }
        WatchEvent ev{parsed->value("type", ""), parsed->value("object", Json::object())};
        if (ev.type == "ERROR") {
          HttpResponse resp{ev.object.value("code", 500), ev.object.dump(), "application/json"};
          line_error = error_from_response(resp);
          return false;
        }
        return on_event(ev);
      },
      timeout);
  if (!r) return r;
  return line_error;
}

Result<Json> HttpResourceClient::discovery() { return with_reason(api_.call("GET", "/apis/corral/v1")); }

Result<Json> HttpResourceClient::server_version() { return with_reason(api_.call("GET", "/version")); }

Result<std::string> HttpResourceClient::vm_log(const std::string& name, int64_t tail_lines) {
  std::string path = ApiClient::resource_path("vms", name, "log");
  if (tail_lines >= 0) path += "?tailLines=" + std::to_string(tail_lines);
  auto response = api_.request("GET", path);
  if (!response) return response.take_error();
  // Not with_reason(): the log route's messages say what went wrong in words
  // ("agent of node/host-1: no log for vm/web-1 ..."), better bare.
  if (response->status < 200 || response->status >= 300) return error_from_response(*response);
  return std::move(response->body);
}

Result<void> HttpResourceClient::follow_vm_log(const std::string& name, int64_t tail_lines,
                                               const std::function<bool(const std::string&)>& on_line) {
  std::string path = ApiClient::resource_path("vms", name, "log") + "?follow=true";
  if (tail_lines >= 0) path += "&tailLines=" + std::to_string(tail_lines);
  // The server ends a follow itself (an hour by default); this bound only
  // keeps a client whose server vanished silently from waiting for ever.
  return api_.stream_lines(path, on_line, std::chrono::hours(25));
}

}  // namespace corral::cli
