// Authentication of calls to an agent's local endpoint (/v1/sync, /v1/probe,
// /v1/logs, /metrics): an HMAC-SHA256 signature over the request, with a key
// that only the controller and that one agent hold.
//
// Keys: the controller keeps one random master key in its data directory
// (agent-endpoint.key, mode 600) and derives each node's key from it:
//   key(node) = HMAC-SHA256(master, "corral agent endpoint v1\0" + node)
// It hands an agent its node's key in the answer to its heartbeat (which the
// node's token authenticated), and signs its own calls to that agent with it.
// So a node learns no other node's key: it cannot call another agent's
// endpoint, read its logs or ask it to probe anything (ARCHITECTURE.md, "The
// agent's endpoint", argues this over agents checking bearer tokens).
//
// A signed request carries four header fields:
//   X-Corral-Node            the node the request is for (its key signs it)
//   X-Corral-Time            Unix seconds when it was signed
//   X-Corral-Content-Sha256  hex SHA-256 of the body ("" hashed when none)
//   X-Corral-Signature       hex HMAC(key(node), "CORRAL-AGENT-V1\n" METHOD
//                            "\n" PATH?QUERY "\n" NODE "\n" TIME "\n" SHA256)
// The body is covered through its hash, so a probe's target address cannot be
// changed; the time bounds a replay to the verifier's window, and the agent
// also refuses a signature it has already seen (agent/endpoint_guard.h).
//
// Thread-safe: pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"

namespace corral {

inline constexpr const char* kAgentNodeHeader = "X-Corral-Node";
inline constexpr const char* kAgentTimeHeader = "X-Corral-Time";
inline constexpr const char* kAgentContentHeader = "X-Corral-Content-Sha256";
inline constexpr const char* kAgentSignatureHeader = "X-Corral-Signature";
// On an agent's GET /v1/logs answer: the log's byte offsets the text runs
// from and to. A follow asks for ?sinceBytes=<end> next; a start other than
// the sinceBytes asked for means the log was truncated or replaced.
inline constexpr const char* kAgentLogStartHeader = "X-Corral-Log-Start";
inline constexpr const char* kAgentLogEndHeader = "X-Corral-Log-End";

// 32 random bytes from the system's CSPRNG, as 64 hex digits.
Result<std::string> random_key_hex();
// The node's key (64 hex digits) from the master key (hex). Empty master:
// empty key.
std::string derive_agent_key(const std::string& master_hex, const std::string& node);

std::string sha256_hex(const std::string& data);

// The four header lines ("Name: value") of a signed request, for
// ClientConfig::headers. `key_hex` is the node's key.
std::vector<std::string> sign_agent_request(const std::string& key_hex, const std::string& node,
                                            const std::string& method, const std::string& path,
                                            const std::string& body, int64_t unix_seconds);

struct AgentRequestProof {
  std::string node, time, content_sha256, signature;  // the header values as received
};

// Checks a request's proof with the node's key. Errors (Unauthorized) say
// which part failed: a field missing, another node named, a time outside
// ±`window` of `unix_now`, a signature that does not match. The content hash
// is only signed here; the caller compares it with the body it read.
Result<void> verify_agent_request(const std::string& key_hex, const std::string& node,
                                  const std::string& method, const std::string& path,
                                  const AgentRequestProof& proof, int64_t unix_now,
                                  std::chrono::seconds window);

// The controller's master key: read from `path` (64 hex digits, the file
// private to its owner), or created there (mode 600) when missing. Errors:
// BadRequest for a file others may read or that holds something else,
// Unavailable when it cannot be read or written.
Result<std::string> load_or_create_master_key(const std::string& path);

}  // namespace corral
