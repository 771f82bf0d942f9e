// The seam between corralctl and an agent's local endpoint (api/heartbeat.h:
// GET /v1/logs/{vm}), so that `corralctl logs` is unit-testable against a fake.
// HttpAgentClient is the real one, over client/client.h (libcurl).
#pragma once

#include <string>

#include "client/client.h"
#include "base/error.h"

namespace corral::cli {

class AgentClient {
 public:
  virtual ~AgentClient() = default;
  // GET http://<address><path>. Any HTTP answer is returned as it is, 2xx or
  // not. A transport failure is Unavailable (Timeout when it timed out) whose
  // message is only the transport's detail ("Connection refused"), so that the
  // caller can say which node's agent it could not reach.
  virtual Result<HttpResponse> get(const std::string& address, const std::string& path) = 0;
};

class HttpAgentClient final : public AgentClient {
 public:
  // `base` supplies the timeouts; its server and token are not used (the
  // agent endpoint is plain HTTP and does not take the API's token).
  explicit HttpAgentClient(ClientConfig base = {}) : base_(std::move(base)) {}
  Result<HttpResponse> get(const std::string& address, const std::string& path) override;

 private:
  ClientConfig base_;
};

}  // namespace corral::cli
