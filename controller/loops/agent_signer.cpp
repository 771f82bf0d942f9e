#include "controller/loops/agent_signer.h"

#include <chrono>
#include <utility>

#include "client/agent_auth.h"

namespace corral::loops {

AgentSigner::AgentSigner(std::string master_hex, const Clock& clock)
    : master_(std::move(master_hex)), clock_(clock) {}

std::vector<std::string> AgentSigner::headers(const std::string& node, const std::string& method,
                                              const std::string& path,
                                              const std::string& body) const {
  if (master_.empty()) return {};
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  return sign_agent_request(derive_agent_key(master_, node), node, method, path, body, now);
}

}  // namespace corral::loops
