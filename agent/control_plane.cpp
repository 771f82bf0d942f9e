#include "agent/control_plane.h"

#include "api/kinds.h"

namespace corral::agent {

namespace {

ClientConfig client_config(const ControlPlaneOptions& options) {
  ClientConfig config;
  config.server = options.server;
  config.token = options.token;
  config.ca_file = options.ca_file;
  config.connect_timeout = options.connect_timeout;
  config.timeout = options.timeout;
  // One connection per heartbeat (see ClientConfig::keep_alive): a beat a
  // second over a kept connection would pin a controller thread per agent.
  config.keep_alive = false;
  return config;
}

}  // namespace

HttpControlPlane::HttpControlPlane(const ControlPlaneOptions& options)
    : client_(client_config(options)) {}

Result<HeartbeatResponse> HttpControlPlane::heartbeat(const std::string& node,
                                                      const HeartbeatRequest& request) {
  Json body = to_json(request);
  auto answer = client_.call("POST", heartbeat_path(ApiClient::url_encode(node)), &body);
  if (!answer) return answer.take_error();
  auto response = from_json<HeartbeatResponse>(*answer);
  if (!response) {
    Error e = response.take_error();
    e.code = ErrorCode::kInternal;  // a controller we do not understand: not our input's fault
    e.message = "malformed heartbeat answer from " + client_.config().server + ": " + e.message;
    return e;
  }
  return response;
}

}  // namespace corral::agent
