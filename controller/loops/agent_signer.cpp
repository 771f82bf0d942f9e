#include "controller/loops/agent_signer.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <utility>

#include "client/agent_auth.h"

namespace corral::loops {

namespace {
uint64_t random_u64() {
  std::random_device device;  // 32 bits a draw
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}
}  // namespace

AgentSigner::AgentSigner(std::string master_hex, const Clock& clock)
    : master_(std::move(master_hex)), clock_(clock), next_nonce_(random_u64()) {}

SignedCall AgentSigner::sign(const std::string& node, const std::string& method,
                             const std::string& path, const std::string& body) const {
  if (master_.empty()) return {path, {}};
  char nonce[17];
  std::snprintf(nonce, sizeof nonce, "%016llx",
                static_cast<unsigned long long>(next_nonce_.fetch_add(1)));
  SignedCall call;
  call.target = path + (path.find('?') == std::string::npos ? "?nonce=" : "&nonce=") + nonce;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  call.headers =
      sign_agent_request(derive_agent_key(master_, node), node, method, call.target, body, now);
  return call;
}

}  // namespace corral::loops
