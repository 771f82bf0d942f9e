// HttpAgentLogReader: the real server::AgentLogReader — how the controller
// answers GET /apis/corral/v1/vms/<name>/log (controller/server/vm_log.h):
// GET http://<node status.address>/v1/logs/<vm>[?tailLines=N] from the VM's
// agent, signed with that node's key (AgentSigner), as the notifier's and the
// prober's calls are.
//
// Every read is bounded, since it runs on one of the API's worker threads:
// 2 s to connect, 10 s in all, and an answer of at most 16 MiB + 64 KiB (the
// agent serves at most 16 MiB of a log: agent/local_endpoint.h
// max_log_bytes); past that the transfer is cut and the read fails.
//
// Two reads of the same log within a second sign differently: AgentSigner
// gives each call a nonce (an agent takes a signature once).
//
// Thread-safe: read_log() is called from many workers at once; each call has
// its own connection (ApiClient is not thread-safe), closed after the answer.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "controller/loops/agent_signer.h"
#include "controller/server/agent_log_reader.h"

namespace corral::loops {

struct AgentLogReaderOptions {
  // An agent that does not accept within this is unreachable (2 s).
  std::chrono::milliseconds connect_timeout{2000};
  // The whole read, connect included (10 s): tailing 16 MiB from a local
  // file takes well under a second.
  std::chrono::milliseconds timeout{10000};
  // The longest answer taken: the agent's 16 MiB of log, plus room.
  size_t max_reply_bytes = (size_t{16} << 20) + (size_t{64} << 10);
};

class HttpAgentLogReader final : public server::AgentLogReader {
 public:
  // `signer` signs each read with the node's key (not owned; null: unsigned,
  // which agents with a node token refuse).
  explicit HttpAgentLogReader(const AgentSigner* signer, AgentLogReaderOptions options = {});

  Result<server::AgentReply> read_log(const std::string& node, const std::string& address,
                                      const std::string& path_and_query) override;

 private:
  const AgentSigner* signer_;
  const AgentLogReaderOptions options_;
};

}  // namespace corral::loops
