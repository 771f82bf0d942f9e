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
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "api/json_fwd.h"

namespace corral {

struct ClientConfig {
  // Base URL, or several separated by commas: the controllers of one cluster
  // ("https://c1:7443,https://c2:7443"). A request that cannot reach one
  // moves to the next (see ApiClient); the one that answered is tried first
  // from then on.
  std::string server = "http://127.0.0.1:7443";
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
// ~/.corral/config (YAML: server — a URL, a comma-separated list or a YAML
// list of URLs — token, ca), CORRAL_SERVER / CORRAL_TOKEN /
// CORRAL_CA, then flags (applied by the caller).
// Errors: BadRequest naming the config file and line when it is malformed.
Result<ClientConfig> load_client_config(const std::string& config_path = "");

struct HttpResponse {
  int status = 0;
  std::string body;
  std::string content_type;
  // The answer's header fields as sent (request() only; at most 100).
  std::vector<std::pair<std::string, std::string>> headers;
  // The first value of header `name` (any case); "" when absent.
  std::string header(std::string_view name) const;
};

// The Content-Type of a request body unless told otherwise.
inline constexpr const char* kJsonBody = "application/json";

class ApiClient {
 public:
  explicit ApiClient(ClientConfig config);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  const ClientConfig& config() const { return config_; }
  // The server the next request goes to first: the one that last answered.
  const std::string& server() const { return servers_[current_]; }
  // Makes `server` (one of config().server's, compared without a trailing
  // slash) the one tried first; false when it is not in the list.
  bool prefer(const std::string& server);
  // Moves on to the next server of the list: the current one answered, but
  // not usefully (a controller that does not lead, for a heartbeat).
  void skip() { current_ = (current_ + 1) % servers_.size(); }

  // Any request; transport failures are Unavailable ("cannot reach http://...: ..."),
  // Timeout when `timeout` passed; an answer over max_response_bytes is TooLarge.
  // With several servers, a request moves to the next one when it could not
  // reach the current one — a GET whatever the transport failure, any other
  // method only when not one byte of it was sent (a write that may have
  // arrived is never sent twice: its failure goes back to the caller, who
  // reads before trying again). An HTTP answer, whatever its status, is the
  // answer.
  // `content_type` names the body's type (a PATCH's patch type, api/patch.h).
  Result<HttpResponse> request(const std::string& method, const std::string& path,
                               const std::string& body = "",
                               const std::string& content_type = kJsonBody);
  // Request + JSON decode; a non-2xx answer becomes an Error from its Status body.
  Result<Json> call(const std::string& method, const std::string& path, const Json* body = nullptr,
                    const std::string& content_type = kJsonBody);

  // Streams a watch: calls on_line for every newline-terminated line until it
  // returns false, the server closes, or `timeout` passes. With several
  // servers, one that cannot be reached before the first line moves the
  // stream to the next.
  Result<void> stream_lines(const std::string& path, const std::function<bool(const std::string&)>& on_line,
                            std::chrono::milliseconds timeout);

  // Paths: /apis/corral/v1/<plural>[/<name>[/<sub>]][?query].
  static std::string resource_path(const std::string& plural, const std::string& name = "",
                                   const std::string& subresource = "");
  static std::string url_encode(const std::string& text);

 private:
  // Runs attempt(server, &may_retry) from the current server on, moving to
  // the next while it fails with may_retry; the one that answered becomes
  // the current one.
  template <class T, class Attempt>
  Result<T> first_that_answers(Attempt attempt);
  // One attempt against `server`. *may_retry: it failed in a way after which
  // the next server may be tried (see request()).
  Result<HttpResponse> request_to(const std::string& server, const std::string& method,
                                  const std::string& path, const std::string& body,
                                  const std::string& content_type, bool* may_retry);
  Result<void> stream_from(const std::string& server, const std::string& path,
                           const std::function<bool(const std::string&)>& on_line,
                           std::chrono::milliseconds timeout, bool* may_retry);

  ClientConfig config_;
  std::vector<std::string> servers_;  // config_.server split; never empty
  size_t current_ = 0;                // index into servers_
  void* curl_ = nullptr;  // CURL*, reused so connections are kept alive
};

// "a, b/,c" → {"a", "b", "c"}: a server list as flags and config files give
// it (spaces and trailing slashes dropped, empty entries skipped).
std::vector<std::string> split_servers(const std::string& servers);
// The same list as one normalised string: "a/, b" → "a,b" ("" stays "").
std::string join_servers(const std::string& servers);

// Builds an Error from a non-2xx answer (a Status object when it is one).
Error error_from_response(const HttpResponse& response);

}  // namespace corral
