#include "controller/server/pipeline.h"

#include <chrono>
#include <cstdlib>
#include <exception>

#include "api/json.h"
#include "api/patch.h"
#include "base/log.h"
#include "controller/server/discovery.h"
#include "controller/server/heartbeat_route.h"
#include "controller/server/openapi_route.h"
#include "controller/server/request.h"
#include "controller/server/resources.h"
#include "controller/server/routes.h"
#include "controller/server/scale.h"
#include "controller/server/secret_view.h"
#include "controller/server/self_review.h"
#include "controller/server/server.h"
#include "controller/server/status.h"
#include "controller/server/ui_route.h"
#include "controller/server/vm_log.h"
#include "controller/server/watch.h"

namespace corral::server {

namespace {

void write_json(HttpResponse& res, const Json& j) {
  res.status = 200;
  res.set_content(dump_json(j), kJsonContentType);
}

void write_text(HttpResponse& res, int code, const std::string& text) {
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

bool is_read_verb(const std::string& verb) {
  return verb == "get" || verb == "list" || verb == "watch";
}

void serve_readyz(Context& ctx, HttpResponse& res) {
  if (ctx.stopping.load()) return write_text(res, 503, "not ready: the server is stopping\n");
  auto healthy = ctx.store.healthy();
  if (!healthy) return write_text(res, 503, "not ready: store: " + healthy.error().message + "\n");
  std::string text = "ok\n";
  if (ctx.control_plane) {
    // Every controller serves the API, leading or not: ready either way; the
    // line says who leads, for people and load balancers that care.
    Json info = ctx.control_plane();
    std::string leader = info.value("leader", "");
    text += "leader: " + (leader.empty() ? std::string("none (election under way)") : leader) +
            (info.value("leading", false) ? " (this controller)" : "") + "\n";
  }
  write_text(res, 200, text);
}

}  // namespace

namespace {
void serve_unguarded(Context& ctx, const HttpRequest& req, HttpResponse& res) {
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
                            : route.endpoint == Endpoint::kLog       ? "log"
                            : route.endpoint == Endpoint::kScale     ? "scale"
                                                                     : "";
  Attributes attrs{route.verb, plural, route.name, subresource};
  // Anyone signed in may ask who they are.
  if (!route.open && route.endpoint != Endpoint::kSelfSubjectReview) {
    auto allowed = authorize(who, attrs, bound_node_lookup(ctx));
    if (!allowed) {
      if (allowed.error().code == ErrorCode::kForbidden)
        logger("api")->info("denied: {}", allowed.error().message);
      return write_error(res, allowed.error(), route.name, plural);
    }
  }
  if (reads_redacted(who, route)) return serve_redacted(ctx, route, who, req, res);
  if (req.has_param("dryRun") && !is_read_verb(route.verb))
    // Answering a dry run with a real write would be the worst answer.
    return write_error(res,
                       make_error(ErrorCode::kBadRequest,
                                  "dryRun is not supported: Corral would write for real; use "
                                  "`corralctl diff` or `kubectl diff` to preview a change"),
                       route.name, plural);

  switch (route.endpoint) {
    case Endpoint::kUi:
      return serve_ui(route.name, req.path == "/ui", ctx.options.ui_dir, res);
    case Endpoint::kUsageHistory:
      if (!ctx.usage_history)
        return write_error(res, make_error(ErrorCode::kUnavailable,
                                           "this controller keeps no usage history"));
      return write_json(res, ctx.usage_history());
    case Endpoint::kSelfSubjectReview:
      res.status = 201;
      return res.set_content(dump_json(self_subject_review(who)), kJsonContentType);
    case Endpoint::kHealthz:
      return write_text(res, 200, "ok\n");
    case Endpoint::kReadyz:
      return serve_readyz(ctx, res);
    case Endpoint::kMetrics:
      res.status = 200;
      return res.set_content(ctx.registry.render(), "text/plain; version=0.0.4");
    case Endpoint::kVersion: {
      Json version = version_info();
      if (ctx.control_plane) version["controlPlane"] = ctx.control_plane();
      return write_json(res, version);
    }
    case Endpoint::kCoreVersions:
      return write_json(res, core_api_versions());
    case Endpoint::kGroupList:
      return write_json(res, api_group_list());
    case Endpoint::kGroup:
      return write_json(res, api_group());
    case Endpoint::kResourceList:
      return write_json(res, api_resource_list());
    case Endpoint::kOpenApiV2:
      return serve_openapi_v2(req, res);
    case Endpoint::kOpenApiV3:
      return write_json(res, openapi_v3_index());
    case Endpoint::kOpenApiV3Group:
      return write_json(res, openapi_v3_group());
    case Endpoint::kMultiWatch:
      return handle_multi_watch(ctx, who, req, res);
    case Endpoint::kCollection:
      if (route.verb == "watch") return handle_watch(ctx, route, who, req, res);
      if (route.verb == "list") return handle_list(ctx, route, req, res);
      return handle_create(ctx, route, who, req, res);
    case Endpoint::kObject:
      if (route.verb == "get") return handle_get(ctx, route, req, res);
      if (route.verb == "update") return handle_update(ctx, route, req, res);
      if (route.verb == "patch") return handle_patch(ctx, route, who, req, res);
      return handle_delete(ctx, route, req, res);
    case Endpoint::kStatus:
      if (route.verb == "get") return handle_get(ctx, route, req, res);
      if (route.verb == "patch") return handle_patch(ctx, route, who, req, res);
      return handle_update_status(ctx, route, who, req, res);
    case Endpoint::kScale:
      return handle_scale(ctx, route, who, req, res);
    case Endpoint::kHeartbeat:
      return handle_heartbeat(ctx, route, req, res);
    case Endpoint::kLog:
      return handle_vm_log(ctx, route, who, req, res);
    case Endpoint::kNotFound:
      break;
  }
  write_error(res, make_error(ErrorCode::kInternal, "unrouted endpoint"));
}
}  // namespace

void serve(Context& ctx, const HttpRequest& req, HttpResponse& res) {
  try {
    serve_unguarded(ctx, req, res);
  } catch (const std::exception& e) {
    logger("api")->error("BUG: {} {} threw: {}", req.method, req.path, e.what());
    res = HttpResponse();
    write_error(res, make_error(ErrorCode::kInternal, std::string("internal error: ") + e.what()));
  } catch (...) {
    logger("api")->error("BUG: {} {} threw a non-exception", req.method, req.path);
    res = HttpResponse();
    write_error(res, make_error(ErrorCode::kInternal, "internal error: unknown exception"));
  }
}

namespace {

bool has_body(const HttpRequest& req) {
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

// The Origin a page served by this server sends: its scheme and Host.
bool same_origin(const Context& ctx, const HttpRequest& req) {
  const std::string host = req.get_header_value("Host");
  if (host.empty()) return false;
  const bool tls = !ctx.options.tls_cert_file.empty();
  return req.get_header_value("Origin") == (tls ? "https://" : "http://") + host;
}

std::optional<Error> head_refusal(Context& ctx, const HttpRequest& req) {
  const Route route = parse_route(req.method, req.path, false);
  if (!ctx.auth.enabled()) {
    // Without tokens everyone local is an admin, so a web page in a local
    // browser must not pass for "local": a cross-site request carries an
    // Origin, and DNS rebinding a Host that is not a loopback name.
    // The dashboard's own requests carry the server's own origin, which a
    // page elsewhere cannot claim (and with a loopback Host, checked below,
    // no rebinding name either).
    if (req.has_header("Origin") && !same_origin(ctx, req)) {
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
  // The review's body says nothing the token does not (kubectl sends it as
  // protobuf): it is read within the caps and ignored.
  if (!has_body(req) || route.endpoint == Endpoint::kSelfSubjectReview) return std::nullopt;
  const std::string encoding = req.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") {
    return make_error(ErrorCode::kUnsupportedMedia,
                      "unsupported Content-Encoding \"" + encoding +
                          "\": request bodies are not accepted compressed");
  }
  if (req.method == "PATCH") {
    // A PATCH names its patch type in its Content-Type (api/patch.h).
    auto type = patch_type_from_content_type(req.get_header_value("Content-Type"));
    if (!type) return type.error();
  } else if (!is_json_content_type(body_content_type(req))) {
    return make_error(ErrorCode::kUnsupportedMedia, "unsupported media type \"" +
                                                        req.get_header_value("Content-Type") +
                                                        "\": bodies must be application/json");
  }
  // A declared length over the cap, and a chunked body reaching it, are the
  // core's to refuse (413), once this gate has passed the head.
  return std::nullopt;
}

}  // namespace

std::optional<HttpResponse> gate_request_head(Context& ctx, const HttpRequest& req) {
  auto refusal = head_refusal(ctx, req);
  if (!refusal) return std::nullopt;
  HttpResponse res;
  write_error(res, *refusal);
  return res;
}

void end_request(Context& ctx, const HttpRequest& req, int status, double seconds) {
  Route route = parse_route(req.method, req.path, wants_watch(req));
  const std::string verb = verb_label(route, req.method);
  ctx.metrics.requests.with({verb, route.resource_label, std::to_string(status)}).inc();
  if (verb != "watch") ctx.metrics.request_latency.with({verb, route.resource_label}).observe(seconds);
  logger("api")->debug("{} {} → {} ({} {})", req.method, req.path, status, verb,
                       route.resource_label);
}

HttpResponse status_response(int status, const std::string& message) {
  Error error = make_error(code_from_reason("", status), message);
  Json body = status_object(error);
  body["code"] = status;
  HttpResponse res;
  res.status = status;
  res.set_content(dump_json(body), kJsonContentType);
  return res;
}

std::optional<HttpResponse> ApiHandler::gate(const HttpRequest& head) {
  return gate_request_head(ctx_, head);
}

void ApiHandler::serve(HttpRequest& request, HttpResponse& response) {
  corral::server::serve(ctx_, request, response);
}

HttpResponse ApiHandler::error(int status, const std::string& message) {
  return status_response(status, message);
}

void ApiHandler::finished(const HttpRequest& request, int status, double seconds) {
  end_request(ctx_, request, status, seconds);
}

void ApiHandler::refused(CoreRefusal reason) {
  ctx_.metrics.refused.with({"api", refusal_label(reason)}).inc();
}

void ApiHandler::connections(int delta) {
  ctx_.metrics.open_connections.with({"api"}).inc(delta);
}

}  // namespace corral::server
