// AgentSigner: signs the controller's calls to agents' local endpoints
// (/v1/sync nudges, /v1/probe requests, /v1/logs reads for the API's
// vms/<name>/log) with the called node's key, derived
// from the controller's master key (client/agent_auth.h). An agent started
// with a node token takes nothing unsigned.
//
// Thread-safe: immutable after construction.
#pragma once

#include <string>
#include <vector>

#include "base/clock.h"

namespace corral::loops {

class AgentSigner {
 public:
  // `master_hex`: the master key (64 hex digits); empty: sign nothing.
  AgentSigner(std::string master_hex, const Clock& clock);
  // Header lines for ClientConfig::headers; empty without a master key.
  std::vector<std::string> headers(const std::string& node, const std::string& method,
                                   const std::string& path, const std::string& body) const;

 private:
  const std::string master_;
  const Clock& clock_;
};

}  // namespace corral::loops
