#include "agent/control_plane.h"

#include "api/json.h"
#include "api/kinds.h"

namespace corral::agent {

namespace {

ClientConfig client_config(const ControlPlaneOptions& options, const std::string& server,
                           bool keep_alive) {
  ClientConfig config;
  config.server = server;
  config.token = options.token;
  config.ca_file = options.ca_file;
  config.connect_timeout = options.connect_timeout;
  config.timeout = options.timeout;
  config.keep_alive = keep_alive;
  return config;
}

bool transport_error(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout;
}

}  // namespace

// To the API server, a connection per beat (see ClientConfig::keep_alive): a
// beat a second over a kept connection would pin a controller thread per agent.
HttpControlPlane::HttpControlPlane(const ControlPlaneOptions& options)
    : options_(options), api_(client_config(options, options.server, false)) {}

std::string HttpControlPlane::heartbeat_endpoint() const {
  return listener_ ? listener_->config().server : "";
}

Result<HeartbeatResponse> HttpControlPlane::heartbeat(const std::string& node,
                                                      const HeartbeatRequest& request) {
  const Json body = to_json(request);
  Result<HeartbeatResponse> answer = make_error(ErrorCode::kUnavailable, "not sent");
  if (listener_) {
    answer = send(*listener_, node, body);
    if (!answer && transport_error(answer.error())) {
      listener_.reset();  // back to the API server, for this beat too
    } else {
      return answer;
    }
  }
  answer = send(api_, node, body);
  if (!answer && answer.error().code == ErrorCode::kUnavailable) {
    // A controller that does not lead names the one that does: this beat goes
    // there at once. One that cannot say (an election is under way) or
    // cannot be reached: the next beat tries the next controller of the list.
    if (api_.prefer(leader_url_of(answer.error()))) {
      answer = send(api_, node, body);
    } else {
      api_.skip();
    }
  } else if (!answer && answer.error().code == ErrorCode::kTimeout) {
    api_.skip();  // a frozen controller: it answers nothing, not even "not the leader"
  }
  if (answer && !answer->heartbeatEndpoint.empty() &&
      answer->heartbeatEndpoint != heartbeat_endpoint()) {
    listener_ = std::make_unique<ApiClient>(
        client_config(options_, answer->heartbeatEndpoint, /*keep_alive=*/true));
  }
  return answer;
}

Result<HeartbeatResponse> HttpControlPlane::send(ApiClient& client, const std::string& node,
                                                 const Json& body) {
  auto answer = client.call("POST", heartbeat_path(ApiClient::url_encode(node)), &body);
  if (!answer) return answer.take_error();
  auto response = from_json<HeartbeatResponse>(*answer);
  if (!response) {
    Error e = response.take_error();
    e.code = ErrorCode::kInternal;  // a controller we do not understand: not our input's fault
    e.message = "malformed heartbeat answer from " + client.server() + ": " + e.message;
    return e;
  }
  return response;
}

}  // namespace corral::agent
