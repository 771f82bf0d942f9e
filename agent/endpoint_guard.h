// EndpointGuard: who may call the agent's local endpoint (agent/local_endpoint.h).
//
// Two modes, chosen at start:
//  - kSigned (the agent has a node token): every route but /healthz takes
//    only requests signed with this node's endpoint key (client/agent_auth.h),
//    which the controller hands over in its heartbeat answers. Until the first
//    answer brings the key, those routes answer 503. A signature is taken once:
//    an exact replay within the time window is refused.
//  - kOpen (no token: the loopback quick start, as the controller without
//    --tokens): anyone who can connect may call, so main() allows it only on
//    a loopback --listen; a request from a web page (Origin) is still refused.
//
// Thread-safe: check() runs on the endpoint's threads, set_key() on the sync
// loop's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "base/error.h"
#include "client/agent_auth.h"

namespace corral::agent {

struct EndpointGuardOptions {
  enum class Mode { kOpen, kSigned };
  Mode mode = Mode::kSigned;
  std::string node;  // this node: the name requests must be signed for
  // A signature's time may differ from this agent's wall clock by this much
  // (30 s): the controller flags skew above 5 s (ClockSkew), and a signed
  // request is sent at once, so this bounds a replay without refusing a
  // slightly skewed clock.
  std::chrono::seconds window{30};
  // Signatures remembered to refuse replays within the window: at most this
  // many (4,096: the controller's calls to one agent are a few per second);
  // past it the oldest are dropped first.
  size_t max_remembered = 4096;
};

class EndpointGuard {
 public:
  EndpointGuard(EndpointGuardOptions options, const Clock& clock);

  bool open() const { return options_.mode == EndpointGuardOptions::Mode::kOpen; }
  const std::string& node() const { return options_.node; }
  // The key from the latest heartbeat answer (64 hex digits); an empty one is
  // ignored (an answer from a controller that signs nothing keeps the old key).
  void set_key(const std::string& key_hex);
  bool has_key() const;

  // Ok when the request may proceed. Errors: Unauthorized (missing, bad,
  // stale or replayed signature), Unavailable (no key yet), Forbidden (open
  // mode, a web page's request). Only the head is judged; the caller
  // compares proof.content_sha256 with the body it read.
  Result<void> check(const std::string& method, const std::string& path,
                     const AgentRequestProof& proof, bool has_origin);

 private:
  const EndpointGuardOptions options_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::string key_;                                   // guarded by mu_
  std::map<std::string, int64_t> seen_;               // signature → time signed; guarded by mu_
  std::multimap<int64_t, std::string> seen_by_time_;  // guarded by mu_
};

}  // namespace corral::agent
