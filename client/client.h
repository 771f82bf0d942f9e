// The HTTP client for the Corral API (libcurl), shared by corralctl, the agent
// and the balancer. Non-2xx answers become Errors built from the server's
// Status object (code, reason, message, causes).
// An ApiClient is not thread-safe; make one per thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "api/json_fwd.h"

namespace corral {

struct ClientConfig {
  std::string server = "http://127.0.0.1:7443";  // base URL
  std::string token;                               // bearer token; empty: none
  std::string ca_file;                             // PEM bundle to verify the server; empty: system CAs
  bool insecure_skip_verify = false;
  std::chrono::milliseconds timeout{30'000};       // whole request (not watches)
  std::chrono::milliseconds connect_timeout{5'000};
  // false: every request on a connection of its own, closed after the answer
  // ("Connection: close"). The agent's heartbeats: the controller's HTTP
  // server holds one thread per open connection, so thousands of agents must
  // not each keep one open between beats.
  bool keep_alive = true;
  // Extra header lines ("X-Name: value") sent with every request: the
  // signature of a call to an agent's endpoint (client/agent_auth.h).
  std::vector<std::string> headers;
  // The longest answer body request() takes, in bytes: past it the transfer
  // is cut and request() fails with TooLarge (at once when the answer
  // declares a longer Content-Length, else at the byte that passes it).
  // 0: no bound — the API's own answers (a LIST of 100,000 VMs is 44 MB).
  // Not applied to stream_lines().
  size_t max_response_bytes = 0;
};

// Where corralctl's settings come from, lowest to highest priority:
// ~/.corral/config (YAML: server, token, ca), CORRAL_SERVER / CORRAL_TOKEN /
// CORRAL_CA, then flags (applied by the caller).
// Errors: BadRequest naming the config file and line when it is malformed.
Result<ClientConfig> load_client_config(const std::string& config_path = "");

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
};

class ApiClient {
 public:
  explicit ApiClient(ClientConfig config);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const ClientConfig& config() const { return config_; }

  // Any request; transport failures are Unavailable ("cannot reach http://...: ..."),
  // Timeout when `timeout` passed; an answer over max_response_bytes is TooLarge.
  Result<HttpResponse> request(const std::string& method, const std::string& path,
                               const std::string& body = "");
  // Request + JSON decode; a non-2xx answer becomes an Error from its Status body.
  Result<Json> call(const std::string& method, const std::string& path, const Json* body = nullptr);

  // Streams a watch: calls on_line for every newline-terminated line until it
  // returns false, the server closes, or `timeout` passes.
  Result<void> stream_lines(const std::string& path, const std::function<bool(const std::string&)>& on_line,
                            std::chrono::milliseconds timeout);

  // Paths: /apis/corral/v1/<plural>[/<name>[/<sub>]][?query].
  static std::string resource_path(const std::string& plural, const std::string& name = "",
                                   const std::string& subresource = "");
  static std::string url_encode(const std::string& text);

 private:
  ClientConfig config_;
  void* curl_ = nullptr;  // CURL*, reused so connections are kept alive
};

// Builds an Error from a non-2xx answer (a Status object when it is one).
Error error_from_response(const HttpResponse& response);

}  // namespace corral
