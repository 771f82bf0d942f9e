#include "controller/server/heartbeat_listener.h"

#include <optional>

#include "api/heartbeat.h"
#include "api/json.h"
#include "base/log.h"
#include "controller/server/http_core.h"
#include "controller/server/node_address.h"
#include "controller/server/pipeline.h"
#include "controller/server/request.h"
#include "controller/server/routes.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

constexpr const char* kResourceLabel = "nodes/heartbeat";
constexpr const char* kListener = "heartbeat";

HttpResponse error_response(const Error& error, const std::string& name) {
  HttpResponse res;
  write_error(res, error, name, "nodes");
  return res;
}

Route route_of(const HttpRequest& req) { return parse_route(req.method, req.path, false); }

// The listener's side of the core: everything but the handler's JSON is
// judged on the head.
class HeartbeatHttpHandler final : public HttpHandler {
 public:
  HeartbeatHttpHandler(const Authenticator& auth, const HeartbeatHandler& handler,
                       ServerMetrics& metrics, bool trust_node_addresses)
      : auth_(auth),
        handler_(handler),
        metrics_(metrics),
        trust_node_addresses_(trust_node_addresses) {}

  std::optional<HttpResponse> gate(const HttpRequest& req) override {
    const Route route = route_of(req);
    if (route.endpoint != Endpoint::kHeartbeat || route.verb.empty()) {
      return error_response(make_error(ErrorCode::kNotFound,
                                       "this listener serves only POST " +
                                           heartbeat_path("<node>") + "; got " + req.method +
                                           " " + req.path),
                            "");
    }
    auto who = auth_.authenticate(req.get_header_value("Authorization"));
    if (!who) return error_response(who.error(), route.name);
    auto no_vm_lookup = [](const std::string&) -> Result<std::optional<std::string>> {
      return std::optional<std::string>();
    };
    if (auto allowed =
            authorize(*who, {route.verb, "nodes", route.name, "heartbeat"}, no_vm_lookup);
        !allowed) {
      return error_response(allowed.error(), route.name);
    }
    const std::string encoding = req.get_header_value("Content-Encoding");
    if (!encoding.empty() && encoding != "identity") {
      return error_response(make_error(ErrorCode::kUnsupportedMedia,
                                       "unsupported Content-Encoding \"" + encoding +
                                           "\": request bodies are not accepted compressed"),
                            route.name);
    }
    if (!is_json_content_type(req.get_header_value("Content-Type"))) {
      return error_response(
          make_error(ErrorCode::kUnsupportedMedia,
                     "unsupported media type \"" + req.get_header_value("Content-Type") +
                         "\": bodies must be application/json"),
          route.name);
    }
    return std::nullopt;
  }

  void serve(HttpRequest& req, HttpResponse& res) override {
    const Route route = route_of(req);
    auto body = read_json_body(req);
    if (!body) return write_error(res, body.error(), route.name, "nodes");
    if (auto settled =
            settle_reported_address(*body, route.name, req.remote_addr, trust_node_addresses_);
        !settled)
      return write_error(res, settled.error(), route.name, "nodes");
    auto answer = handler_(route.name, *body, req.received);
    if (!answer) return write_error(res, answer.error(), route.name, "nodes");
    res.status = 200;
    res.set_content(std::move(*answer), kJsonContentType);
  }

  HttpResponse error(int status, const std::string& message) override {
    return status_response(status, message);
  }

  void finished(const HttpRequest& req, int status, double seconds) override {
    const std::string verb = verb_label(route_of(req), req.method);
    metrics_.requests.with({verb, kResourceLabel, std::to_string(status)}).inc();
    metrics_.request_latency.with({verb, kResourceLabel}).observe(seconds);
  }

  void refused(CoreRefusal reason) override {
    metrics_.refused.with({kListener, refusal_label(reason)}).inc();
  }

  void connections(int delta) override {
    metrics_.open_connections.with({kListener}).inc(delta);
  }

 private:
  const Authenticator& auth_;
  const HeartbeatHandler& handler_;
  ServerMetrics& metrics_;
  const bool trust_node_addresses_;
};

}  // namespace

struct HeartbeatListener::Impl {
  Impl(const Authenticator& a, const HeartbeatHandler& h, ServerMetrics& m,
       HeartbeatListenerOptions o)
      : options(std::move(o)), handler(a, h, m, o.trust_node_addresses), core(handler, core_options(options)) {}

  static HttpCoreOptions core_options(const HeartbeatListenerOptions& o) {
    HttpCoreOptions c;
    c.host = o.host;
    c.port = o.port;
    c.listen_name = o.listen_name;
    c.tls_cert_file = o.tls_cert_file;
    c.tls_key_file = o.tls_key_file;
    c.worker_threads = o.worker_threads;
    c.max_body_bytes = o.max_body_bytes;
    c.keep_alive_timeout = o.idle_timeout;
    c.request_head_timeout = o.request_head_timeout;
    c.max_connections = o.max_connections;
    c.max_connections_per_address = o.max_connections_per_address;
    // An agent keeps its connection for as long as it runs.
    c.keep_alive_max_requests = static_cast<size_t>(-1);
    return c;
  }

  const HeartbeatListenerOptions options;
  HeartbeatHttpHandler handler;
  HttpCore core;
};

HeartbeatListener::HeartbeatListener(const Authenticator& auth, const HeartbeatHandler& handler,
                                     ServerMetrics& metrics, HeartbeatListenerOptions options)
    : impl_(std::make_unique<Impl>(auth, handler, metrics, std::move(options))) {}

HeartbeatListener::~HeartbeatListener() { stop(); }

Result<int> HeartbeatListener::start() {
  auto port = impl_->core.start();
  if (port) {
    logger("api")->info("serving heartbeats on http://{}:{} (event-driven, keep-alive)",
                        impl_->options.host, *port);
  }
  return port;
}

void HeartbeatListener::stop() { impl_->core.stop(); }

int HeartbeatListener::port() const { return impl_->core.port(); }

}  // namespace corral::server
