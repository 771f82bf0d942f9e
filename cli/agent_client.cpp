#include "cli/agent_client.h"

namespace corral::cli {

Result<HttpResponse> HttpAgentClient::get(const std::string& address, const std::string& path) {
  ClientConfig config;
  config.server = "http://" + address;
  config.timeout = base_.timeout;
  config.connect_timeout = base_.connect_timeout;
  ApiClient api(config);
  auto response = api.request("GET", path);
  if (response) return response;
  Error e = response.take_error();
  // ApiClient says "cannot reach <server>: <detail>"; keep the detail only.
  std::string prefix = "cannot reach " + config.server + ": ";
  if (e.message.rfind(prefix, 0) == 0) e.message.erase(0, prefix.size());
  return e;
}

}  // namespace corral::cli
