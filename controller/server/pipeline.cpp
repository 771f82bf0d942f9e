#include "controller/server/pipeline.h"

#include <chrono>
#include <cstdlib>

#include "api/json.h"
#include "base/log.h"
#include "controller/server/discovery.h"
#include "controller/server/heartbeat_route.h"
#include "controller/server/request.h"
#include "controller/server/resources.h"
#include "controller/server/routes.h"
#include "controller/server/secret_view.h"
#include "controller/server/server.h"
#include "controller/server/status.h"
#include "controller/server/watch.h"

namespace corral::server {

namespace {

// httplib runs one request from pre-routing to logger on one worker thread,
// so the start time can travel in a thread_local. Latency is a measurement of
// the real machine, not logic, so it reads the steady clock directly.
struct Trace {
  bool active = false;
  std::chrono::steady_clock::time_point start;
};
thread_local Trace t_trace;

void write_json(httplib::Response& res, const Json& j) {
  res.status = 200;
  res.set_content(dump_json(j), kJsonContentType);
}

void write_text(httplib::Response& res, int code, const std::string& text) {
  res.status = code;
  res.set_content(text, "text/plain; charset=utf-8");
}

// The node role's VM-status rule needs the stored binding, read through the store.
BoundNodeLookup bound_node_lookup(Context& ctx) {
  return [&ctx](const std::string& vm) -> Result<std::optional<std::string>> {
    auto record = ctx.store.get("VM", vm);
    if (!record) {
      if (record.error().code == ErrorCode::kNotFound) return std::optional<std::string>();
      return record.take_error();
    }
    const auto& fields = (*record)->fields;
    if (auto it = fields.find("spec.nodeName"); it != fields.end())
      return std::optional<std::string>(it->second);
    return std::optional<std::string>(field_value((*record)->parse(), "spec.nodeName"));
  };
}

void serve_readyz(Context& ctx, httplib::Response& res) {
  if (ctx.stopping.load()) return write_text(res, 503, "not ready: the server is stopping\n");
  auto healthy = ctx.store.healthy();
  if (!healthy) return write_text(res, 503, "not ready: store: " + healthy.error().message + "\n");
  write_text(res, 200, "ok\n");
}

}  // namespace

void serve(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  Route route = parse_route(req.method, req.path, wants_watch(req));
  Identity who;
  if (!route.open) {
    auto id = ctx.auth.authenticate(req.get_header_value("Authorization"));
    if (!id) return write_error(res, id.error());
    who = std::move(*id);
  }
  if (route.endpoint == Endpoint::kNotFound)
    return write_error(res,
                       make_error(ErrorCode::kNotFound,
                                  "the server could not find the requested resource: " + req.path));
  if (route.verb.empty())
    return write_error(
        res, make_error(ErrorCode::kMethodNotAllowed,
                        "the server does not allow method " + req.method + " on " + req.path));
  std::string plural = route.kind ? route.kind->plural : "";
  std::string subresource = route.endpoint == Endpoint::kStatus      ? "status"
                            : route.endpoint == Endpoint::kHeartbeat ? "heartbeat"
                                                                     : "";
  Attributes attrs{route.verb, plural, route.name, subresource};
  if (!route.open) {
    auto allowed = authorize(who, attrs, bound_node_lookup(ctx));
    if (!allowed) {
      if (allowed.error().code == ErrorCode::kForbidden)
        logger("api")->info("denied: {}", allowed.error().message);
      return write_error(res, allowed.error(), route.name, plural);
    }
  }
  if (reads_redacted(who, route)) return serve_redacted(ctx, route, who, req, res);

  switch (route.endpoint) {
    case Endpoint::kHealthz:
      return write_text(res, 200, "ok\n");
    case Endpoint::kReadyz:
      return serve_readyz(ctx, res);
    case Endpoint::kMetrics:
      res.status = 200;
      return res.set_content(ctx.registry.render(), "text/plain; version=0.0.4");
    case Endpoint::kVersion:
      return write_json(res, version_info());
    case Endpoint::kCoreVersions:
      return write_json(res, core_api_versions());
    case Endpoint::kGroupList:
      return write_json(res, api_group_list());
    case Endpoint::kGroup:
      return write_json(res, api_group());
    case Endpoint::kResourceList:
      return write_json(res, api_resource_list());
    case Endpoint::kCollection:
      if (route.verb == "watch") return handle_watch(ctx, route, who, req, res);
      if (route.verb == "list") return handle_list(ctx, route, req, res);
      return handle_create(ctx, route, who, req, res);
    case Endpoint::kObject:
      if (route.verb == "get") return handle_get(ctx, route, res);
      if (route.verb == "update") return handle_update(ctx, route, req, res);
      return handle_delete(ctx, route, req, res);
    case Endpoint::kStatus:
      if (route.verb == "get") return handle_get(ctx, route, res);
      return handle_update_status(ctx, route, who, req, res);
    case Endpoint::kHeartbeat:
      return handle_heartbeat(ctx, route, req, res);
    case Endpoint::kNotFound:
      break;
  }
  write_error(res, make_error(ErrorCode::kInternal, "unrouted endpoint"));
}

namespace {

// An answer after which the connection must close: part of a body may be
// unread, and what follows it on the wire is not a request.
void answer_and_close(httplib::Response& res, const Error& error) {
  write_error(res, error);
  res.set_header("Connection", "close");
}

bool has_body(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) return true;
  const std::string length = req.get_header_value("Content-Length");
  return !length.empty() && length != "0";
}

// The Host field without its port: "127.0.0.1:7443" → "127.0.0.1",
// "[::1]:7443" → "[::1]".
std::string host_name(const std::string& host) {
  if (!host.empty() && host.front() == '[') return host.substr(0, host.find(']') + 1);
  return host.substr(0, host.find(':'));
}

std::optional<Error> head_refusal(Context& ctx, const httplib::Request& req) {
  const Route route = parse_route(req.method, req.path, false);
  if (!ctx.auth.enabled()) {
    // Without tokens everyone local is an admin, so a web page in a local
    // browser must not pass for "local": a cross-site request carries an
    // Origin, and DNS rebinding a Host that is not a loopback name.
    if (req.has_header("Origin")) {
      return make_error(ErrorCode::kForbidden, "requests from web pages (Origin " +
                                                   req.get_header_value("Origin") +
                                                   ") are refused while authentication is off");
    }
    const std::string host = req.get_header_value("Host");
    if (!host.empty() && !is_loopback_host(host_name(host))) {
      return make_error(ErrorCode::kForbidden, "Host \"" + host +
                                                   "\" is not a loopback name: refused while "
                                                   "authentication is off (DNS rebinding)");
    }
  }
  if (!route.open) {
    auto id = ctx.auth.authenticate(req.get_header_value("Authorization"));
    if (!id) return id.error();
  }
  if (!has_body(req)) return std::nullopt;
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    return make_error(ErrorCode::kUnsupportedMedia,
                      "unsupported Content-Encoding \"" + encoding +
                          "\": request bodies are not accepted compressed");
  }
  if (!is_json_content_type(req.get_header_value("Content-Type"))) {
    return make_error(ErrorCode::kUnsupportedMedia, "unsupported media type \"" +
                                                        req.get_header_value("Content-Type") +
                                                        "\": bodies must be application/json");
  }
  // A declared length over the cap is httplib's to refuse (413, after it
  // discarded the body); a chunked one over the cap, serve_with_body's.
  return std::nullopt;
}

}  // namespace

bool gate_request_head(Context& ctx, const httplib::Request& req, httplib::Response& res) {
  auto refusal = head_refusal(ctx, req);
  if (!refusal) return false;
  if (has_body(req)) {
    answer_and_close(res, *refusal);  // its body is never read
  } else {
    write_error(res, *refusal);
  }
  return true;
}

void serve_with_body(Context& ctx, const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& read) {
  const size_t cap = ctx.options.max_body_bytes;
  std::string body;
  bool too_large = false;
  const bool complete = read([&](const char* data, size_t n) {
    if (body.size() + n > cap) {
      too_large = true;  // stop reading at the cap, not after the whole body
      return false;
    }
    body.append(data, n);
    return true;
  });
  if (too_large || res.status == 413) {
    return answer_and_close(
        res, make_error(ErrorCode::kTooLarge, "the request body is larger than the limit of " +
                                                  std::to_string(cap) + " bytes"));
  }
  if (!complete) {
    return answer_and_close(
        res, make_error(ErrorCode::kBadRequest, "the request body could not be read whole"));
  }
  httplib::Request with_body = req;
  with_body.body = std::move(body);
  serve(ctx, with_body, res);
}

void begin_request(const httplib::Request&) {
  t_trace.active = true;
  t_trace.start = std::chrono::steady_clock::now();
}

void end_request(Context& ctx, const httplib::Request& req, const httplib::Response& res) {
  Route route = parse_route(req.method, req.path, wants_watch(req));
  const std::string verb = verb_label(route, req.method);
  ctx.metrics.requests.with({verb, route.resource_label, std::to_string(res.status)}).inc();
  if (t_trace.active && verb != "watch") {
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - t_trace.start;
    ctx.metrics.request_latency.with({verb, route.resource_label}).observe(took.count());
  }
  t_trace.active = false;
  logger("api")->debug("{} {} → {} ({} {})", req.method, req.path, res.status, verb,
                       route.resource_label);
}

httplib::Server::HandlerResponse on_error(Context& ctx, const httplib::Request& req,
                                          httplib::Response& res) {
  if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
  Error error;
  int code = res.status;
  if (res.status == 413) {
    // Authentication still comes first: strangers learn nothing but 401.
    Route route = parse_route(req.method, req.path, false);
    auto id = route.open ? Result<Identity>(Identity{})
                         : ctx.auth.authenticate(req.get_header_value("Authorization"));
    error = id ? make_error(ErrorCode::kTooLarge, "the request body is larger than the limit of " +
                                                      std::to_string(ctx.options.max_body_bytes) +
                                                      " bytes")
               : id.take_error();
    code = http_status(error.code);
  } else if (req.method == "CONNECT" || req.method == "TRACE" || req.method == "PATCH") {
    // No path takes these; httplib refuses some of them itself (400).
    error =
        make_error(ErrorCode::kMethodNotAllowed, "the server does not allow method " + req.method);
    code = http_status(error.code);
  } else {
    // Codes without an ErrorCode of their own (414, ...) keep httplib's code.
    error = make_error(code_from_reason("", res.status),
                       "the request could not be served (HTTP " + std::to_string(res.status) + ")");
  }
  Json body = status_object(error);
  body["code"] = code;
  res.status = code;
  res.set_content(dump_json(body), kJsonContentType);
  return httplib::Server::HandlerResponse::Handled;
}

void on_exception(const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
  std::string what = "unknown exception";
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  logger("api")->error("BUG: {} {} threw: {}", req.method, req.path, what);
  write_error(res, make_error(ErrorCode::kInternal, "internal error: " + what));
}

}  // namespace corral::server
