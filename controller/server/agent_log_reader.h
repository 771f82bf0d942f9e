// The seam between the API's log route (vm_log.h) and the agents' local
// endpoints: GET /apis/corral/v1/vms/<name>/log is answered by calling the
// agent of the VM's node, as the Kubernetes apiserver answers pods/<name>/log
// by calling the kubelet with its own credentials. The server knows nothing
// of HTTP clients or signatures; corral-controller installs the real reader
// (controller/loops/agent_log_reader.h: signed with the node's key), tests a
// fake (tests/unit/fake_agent_log_reader.h).
#pragma once

#include <cstdint>
#include <string>

#include "base/error.h"

namespace corral::server {

// An agent's answer, whatever its status: the route judges it.
struct AgentReply {
  int status = 0;
  std::string body;  // the log (2xx), or the agent's plain-text reason
  // The log's byte offsets the body runs from and to (X-Corral-Log-Start,
  // X-Corral-Log-End); -1 when the agent did not say (an agent older than
  // follow, or an error answer).
  int64_t start = -1;
  int64_t end = -1;
};

class AgentLogReader {
 public:
  virtual ~AgentLogReader() = default;
  // GET http://<address><path_and_query> from the agent of `node` (the node
  // whose key signs it). `path_and_query`: "/v1/logs/<vm>[?tailLines=N]", or
  // "/v1/logs/<vm>?sinceBytes=N&limitBytes=M" (a follow's poll).
  // Any HTTP answer is a reply; errors are the transport's only — Unavailable
  // or Timeout with the transport's detail alone ("Connection refused"), so
  // that the caller can say which node's agent it could not reach, and
  // TooLarge for an answer longer than the reader takes.
  // Thread-safe: called from the API's worker threads at once.
  virtual Result<AgentReply> read_log(const std::string& node, const std::string& address,
                                      const std::string& path_and_query) = 0;
};

}  // namespace corral::server
