// ControlPlane: the agent's one call to the controller — a heartbeat that
// renews the node's lease, reports the host and its VMs, and answers with the
// VMs bound to the node (api/heartbeat.h). A seam: HttpControlPlane talks to
// the real controller, tests use FakeControlPlane (tests/unit/).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "client/client.h"
#include "base/error.h"
#include "api/heartbeat.h"

namespace corral::agent {

class ControlPlane {
 public:
  virtual ~ControlPlane() = default;
  // Errors: Conflict (409: another live agent holds the node), Invalid (422:
  // impossible values, our bug), Unavailable / Timeout (unreachable), and any
  // other API error the controller answers with.
  virtual Result<HeartbeatResponse> heartbeat(const std::string& node,
                                              const HeartbeatRequest& request) = 0;
};

struct ControlPlaneOptions {
  std::string server;   // base URL, e.g. https://corral:7443
  std::string token;    // bearer token (role node:<name>); empty: none
  std::string ca_file;  // PEM bundle that verifies the server; empty: system CAs
  // Short, because the heartbeat is small and the loop must go on converging:
  // a controller that does not answer within 2 s counts as unreachable for this
  // round (the node grace is a few seconds, so a longer wait would not help).
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds timeout{2000};
};

// Over client/client.h's ApiClient (libcurl). Beats go to the API server on a
// connection each, until an answer names the controller's heartbeat listener
// (HeartbeatResponse::heartbeatEndpoint); then to that listener over one kept
// connection. A beat the listener does not take (unreachable, timed out) is
// sent again to the API server at once, and the listener is tried again only
// when an answer names it again.
// Not thread-safe, like ApiClient: one per sync loop.
class HttpControlPlane final : public ControlPlane {
 public:
  explicit HttpControlPlane(const ControlPlaneOptions& options);
  Result<HeartbeatResponse> heartbeat(const std::string& node,
                                      const HeartbeatRequest& request) override;
  // The listener beats go to; "" while they go to the API server.
  std::string heartbeat_endpoint() const;

 private:
  Result<HeartbeatResponse> send(ApiClient& client, const std::string& node, const Json& body);

  ControlPlaneOptions options_;
  ApiClient api_;
  std::unique_ptr<ApiClient> listener_;  // null: beats go to api_
};

}  // namespace corral::agent
