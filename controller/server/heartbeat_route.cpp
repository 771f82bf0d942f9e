#include "controller/server/heartbeat_route.h"

#include "api/json.h"
#include "controller/server/node_address.h"
#include "controller/server/request.h"
#include "controller/server/status.h"

namespace corral::server {

namespace {

// Where agents should send their next beats: the listener's own host when it
// listens on one address, else the host the agent reached the API at.
std::string heartbeat_endpoint(const Context& ctx, const HttpRequest& req, int port) {
  std::string host = ctx.options.heartbeat_host.empty() ? ctx.options.host
                                                         : ctx.options.heartbeat_host;
  if (host == "0.0.0.0" || host == "::" || host.empty()) {
    host = req.get_header_value("Host");
    if (auto bracket = host.rfind(']'); bracket != std::string::npos) {
      host.resize(bracket + 1);  // [v6]:port
    } else if (auto colon = host.rfind(':'); colon != std::string::npos) {
      host.resize(colon);
    }
  } else if (host.find(':') != std::string::npos) {
    host = "[" + host + "]";
  }
  // The listener serves TLS exactly when the API does (one certificate).
  const char* scheme = ctx.options.tls_cert_file.empty() ? "http://" : "https://";
  return scheme + host + ":" + std::to_string(port);
}

}  // namespace

void handle_heartbeat(Context& ctx, const Route& route, const HttpRequest& req,
                      HttpResponse& res) {
  if (!ctx.heartbeat)
    return write_error(res,
                       make_error(ErrorCode::kNotFound, "heartbeats are not served by this server"),
                       route.name, "nodes");
  auto body = read_json_body(req);
  if (!body) return write_error(res, body.error(), route.name, "nodes");
  if (auto settled = settle_reported_address(*body, route.name, req.remote_addr,
                                             ctx.options.trust_node_addresses);
      !settled)
    return write_error(res, settled.error(), route.name, "nodes");
  auto answer = ctx.heartbeat(route.name, *body, req.received);
  if (!answer) return write_error(res, answer.error(), route.name, "nodes");
  if (const int port = ctx.heartbeat_port.load(); port > 0) {
    // A beat on the API port (a registration, or an agent without the
    // listener) learns where to send the next ones. Rare: parsed to add it.
    auto with_endpoint = parse_json(*answer, "the heartbeat answer");
    if (!with_endpoint) return write_error(res, with_endpoint.error(), route.name, "nodes");
    (*with_endpoint)["heartbeatEndpoint"] = heartbeat_endpoint(ctx, req, port);
    *answer = dump_json(*with_endpoint);
  }
  // This beat's connection is not kept: see ClientConfig::keep_alive.
  res.set_header("Connection", "close");
  res.status = 200;
  res.set_content(std::move(*answer), kJsonContentType);
}

}  // namespace corral::server
