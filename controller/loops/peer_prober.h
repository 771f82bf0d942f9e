// PeerProber: the seam through which the node lifecycle loop asks other agents
// whether they can still reach a node whose lease expired — the second path
// that tells a dead host (NotReady: fail its VMs over) from a controller-side
// partition (Unreachable: leave them).
//
// The real one (http_peer_prober.h) POSTs each peer's /v1/probe; tests use a
// fake that records requests and answers when told.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace corral::loops {

struct ProbePeer {
  std::string name;
  std::string address;  // host:port of the peer agent's local endpoint
};

struct PeerProbeRequest {
  std::string node;              // the suspect
  std::string address;           // the suspect agent's endpoint (its status.address)
  std::vector<ProbePeer> peers;  // asked in this order
  // How long each peer may try to reach the suspect (ProbeRequest.timeoutMs).
  std::chrono::milliseconds peer_timeout{300};
  // The whole request's deadline: an answer later than this is useless to
  // the lifecycle loop (NodeLifecycleOptions::probe_timeout).
  std::chrono::milliseconds deadline{500};
};

// `reachable`: some peer reached the suspect; false when every peer asked
// failed to (or could not be asked).
using ProbeDone = std::function<void(const std::string& node, bool reachable)>;

class PeerProber {
 public:
  virtual ~PeerProber() = default;
  // Starts probing; calls `done` exactly once, from any thread, possibly
  // before returning. Must not block the caller for the probe's duration.
  virtual void request(const PeerProbeRequest& request, ProbeDone done) = 0;
};

}  // namespace corral::loops
