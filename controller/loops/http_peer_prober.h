// HttpPeerProber: the real PeerProber. For each request, asks the listed peers
// in order — POST http://<peer>/v1/probe with ProbeRequest{address, timeoutMs}
// (api/heartbeat.h) — on a small pool of background threads, and answers
// reachable as soon as one peer reached the suspect, not reachable when all
// failed. A peer that cannot be asked counts as having failed.
//
// Thread safety: request() is thread-safe; the destructor waits for the
// probes in flight (each bounded by its deadline) and answers queued ones as
// not reachable.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "controller/loops/agent_signer.h"
#include "controller/loops/peer_prober.h"

namespace corral::loops {

class HttpPeerProber final : public PeerProber {
 public:
  // Probes run on `threads` threads: suspects are rare, and a probe is bounded
  // by its deadline, so 4 keep a rack failure's probes parallel.
  // `signer` signs each request with the asked peer's key (not owned; null:
  // unsigned, which agents with a node token refuse).
  explicit HttpPeerProber(size_t threads = 4, const AgentSigner* signer = nullptr);
  ~HttpPeerProber() override;

  void request(const PeerProbeRequest& request, ProbeDone done) override;

 private:
  void worker_loop();
  bool probe(const PeerProbeRequest& request) const;

  const AgentSigner* signer_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<PeerProbeRequest, ProbeDone>> queue_;  // guarded by mu_
  bool stopping_ = false;                                     // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace corral::loops
