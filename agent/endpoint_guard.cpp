#include "agent/endpoint_guard.h"

#include <utility>

namespace corral::agent {

EndpointGuard::EndpointGuard(EndpointGuardOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

void EndpointGuard::set_key(const std::string& key_hex) {
  if (key_hex.empty()) return;
  std::lock_guard lock(mu_);
  key_ = key_hex;
}

bool EndpointGuard::has_key() const {
  std::lock_guard lock(mu_);
  return !key_.empty();
}

Result<void> EndpointGuard::check(const std::string& method, const std::string& path,
                                  const AgentRequestProof& proof, bool has_origin) {
  if (open()) {
    // A browser tab may reach a loopback port too; it always sends Origin
    // on a cross-site POST, and a page has no business here.
    if (has_origin)
      return make_error(ErrorCode::kForbidden,
                        "requests from web pages (Origin) are refused by the agent's endpoint");
    return Ok{};
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          clock_.now().time_since_epoch())
                          .count();
  std::lock_guard lock(mu_);
  if (key_.empty())
    return make_error(ErrorCode::kUnavailable,
                      "this agent has no endpoint key yet (the controller sends it in its first "
                      "heartbeat answer); try again shortly");
  if (auto ok = verify_agent_request(key_, options_.node, method, path, proof, now, options_.window); !ok)
    return ok;
  // Forget what is outside the window: a replay of it fails the time check.
  while (!seen_by_time_.empty() && seen_by_time_.begin()->first < now - options_.window.count()) {
    seen_.erase(seen_by_time_.begin()->second);
    seen_by_time_.erase(seen_by_time_.begin());
  }
  const int64_t signed_at = std::stoll(proof.time);
  if (!seen_.emplace(proof.signature, signed_at).second)
    return make_error(ErrorCode::kUnauthorized,
                      "this signed request was already taken once (a replay)");
  seen_by_time_.emplace(signed_at, proof.signature);
  while (seen_.size() > options_.max_remembered) {
    seen_.erase(seen_by_time_.begin()->second);
    seen_by_time_.erase(seen_by_time_.begin());
  }
  return Ok{};
}

}  // namespace corral::agent
