#include "controller/server/pipeline.h"

#include <chrono>

#include "api/json.h"
#include "base/log.h"
#include "controller/server/discovery.h"
#include "controller/server/heartbeat_route.h"
#include "controller/server/request.h"
#include "controller/server/resources.h"
#include "controller/server/routes.h"
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
      if (route.verb == "watch") return handle_watch(ctx, route, req, res);
      if (route.verb == "list") return handle_list(ctx, route, req, res);
      return handle_create(ctx, route, who, req, res);
    case Endpoint::kObject:
      if (route.verb == "get") return handle_get(ctx, route, res);
      if (route.verb == "update") return handle_update(ctx, route, req, res);
      return handle_delete(ctx, route, req, res);
    case Endpoint::kStatus:
      if (route.verb == "get") return handle_get(ctx, route, res);
      return handle_update_status(ctx, route, req, res);
    case Endpoint::kHeartbeat:
      return handle_heartbeat(ctx, route, req, res);
    case Endpoint::kNotFound:
      break;
  }
  write_error(res, make_error(ErrorCode::kInternal, "unrouted endpoint"));
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
