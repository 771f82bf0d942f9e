// AgentSigner: signs the controller's calls to agents' local endpoints
// (/v1/sync nudges, /v1/probe requests, /v1/logs reads) with the called
// node's key, derived from the controller's master key (client/agent_auth.h).
// An agent started with a node token takes nothing unsigned.
//
// Replays: an agent takes a signature once (agent/endpoint_guard.h), and a
// signature covers the method, path and query, node, body and time in whole
// seconds, so two like calls within a second (two nudges, the same probe
// asked twice, a log read again) would sign alike and the second be refused.
// Each signed call therefore gets a `nonce=` query parameter of its own,
// which the agent's routes ignore; sign() returns the target to send.
//
// Thread-safe: sign() may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "base/clock.h"

namespace corral::loops {

struct SignedCall {
  std::string target;                // the path and query to send (with its nonce)
  std::vector<std::string> headers;  // for ClientConfig::headers
};

class AgentSigner {
 public:
  // `master_hex`: the master key (64 hex digits); empty: sign nothing.
  AgentSigner(std::string master_hex, const Clock& clock);
  // `path` (and query) as the caller would send it unsigned. Without a
  // master key: `path` as given and no headers.
  SignedCall sign(const std::string& node, const std::string& method, const std::string& path,
                  const std::string& body) const;

 private:
  const std::string master_;
  const Clock& clock_;
  mutable std::atomic<uint64_t> next_nonce_;  // from a random start: unique across restarts too
};

}  // namespace corral::loops
