#include "controller/loops/agent_log_reader.h"

#include <cstdint>
#include <string>
#include <utility>

#include "client/agent_auth.h"
#include "client/client.h"

namespace corral::loops {

namespace {

// A byte offset the agent sent in header `name`; -1 when absent or not a
// number of at most 15 digits (a hostile agent's text goes no further).
int64_t offset_header(const HttpResponse& answer, const char* name) {
  const std::string text = answer.header(name);
  if (text.empty() || text.size() > 15 || text.find_first_not_of("0123456789") != std::string::npos)
    return -1;
  return std::stoll(text);
}

}  // namespace

HttpAgentLogReader::HttpAgentLogReader(const AgentSigner* signer, AgentLogReaderOptions options)
    : signer_(signer), options_(options) {}

Result<server::AgentReply> HttpAgentLogReader::read_log(const std::string& node,
                                                        const std::string& address,
                                                        const std::string& path_and_query) {
  std::string path = path_and_query;
  ClientConfig config;
  config.server = "http://" + address;
  config.timeout = options_.timeout;
  config.connect_timeout = options_.connect_timeout;
  config.max_response_bytes = options_.max_reply_bytes;
  config.keep_alive = false;  // one read per connection: nothing to keep it open for
  if (signer_) {
    SignedCall call = signer_->sign(node, "GET", path, "");
    path = std::move(call.target);
    config.headers = std::move(call.headers);
  }
  ApiClient client(config);
  auto answer = client.request("GET", path);
  if (!answer) {
    Error e = answer.take_error();
    if (e.code == ErrorCode::kTooLarge) {
      e.message =
          "its answer is longer than " + std::to_string(options_.max_reply_bytes) +
          " bytes, the most the controller relays (an agent serves at most 16 MiB of a log)";
      return e;
    }
    // ApiClient says "cannot reach <server>: <detail>"; the caller names the
    // node and its address itself.
    const std::string prefix = "cannot reach " + config.server + ": ";
    if (e.message.rfind(prefix, 0) == 0) e.message.erase(0, prefix.size());
    return e;
  }
  server::AgentReply reply{answer->status, std::move(answer->body)};
  reply.start = offset_header(*answer, kAgentLogStartHeader);
  reply.end = offset_header(*answer, kAgentLogEndHeader);
  return reply;
}

}  // namespace corral::loops
