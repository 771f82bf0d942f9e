#include "controller/loops/http_peer_prober.h"

#include <algorithm>
#include <utility>

#include "api/json.h"
#include "client/client.h"
#include "api/heartbeat.h"
#include "api/kinds.h"
#include "base/log.h"

namespace corral::loops {

using std::chrono::milliseconds;

HttpPeerProber::HttpPeerProber(size_t threads, const AgentSigner* signer) : signer_(signer) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    workers_.emplace_back([this] { worker_loop(); });
}

HttpPeerProber::~HttpPeerProber() {
  std::deque<std::pair<PeerProbeRequest, ProbeDone>> left;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    left.swap(queue_);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  for (auto& [req, done] : left) done(req.node, false);
}

void HttpPeerProber::request(const PeerProbeRequest& request, ProbeDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.emplace_back(request, std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(request.node, false);
}

void HttpPeerProber::worker_loop() {
  for (;;) {
    std::pair<PeerProbeRequest, ProbeDone> job;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    bool reachable = probe(job.first);
    job.second(job.first.node, reachable);
  }
}

bool HttpPeerProber::probe(const PeerProbeRequest& request) const {
  auto log = logger("loops");
  if (request.peers.empty()) return false;
  // The peers are asked one after the other within the deadline, each given
  // its share: a dead first peer must not use up the time of the second.
  const milliseconds share =
      std::max(milliseconds(50), request.deadline / static_cast<int64_t>(request.peers.size()));
  ProbeRequest body;
  body.address = request.address;
  body.node = request.node;  // the suspect's /healthz must name it
  body.timeoutMs =
      static_cast<int32_t>(std::min(request.peer_timeout, share - milliseconds(20)).count());
  if (body.timeoutMs < 10) body.timeoutMs = 10;
  const std::string text = to_json(body).dump();
  for (const ProbePeer& peer : request.peers) {
    ClientConfig config;
    config.server = "http://" + peer.address;
    config.timeout = share;
    config.connect_timeout = share;
    std::string target = "/v1/probe";
    if (signer_) {
      SignedCall call = signer_->sign(peer.name, "POST", target, text);
      target = std::move(call.target);
      config.headers = std::move(call.headers);
    }
    ApiClient client(config);
    auto answer = client.request("POST", target, text);
    if (!answer) {
      log->info("probe of node/{} via node/{}: {}", request.node, peer.name,
                answer.error().message);
      continue;
    }
    if (answer->status / 100 != 2) {
      log->info("probe of node/{} via node/{}: HTTP {}", request.node, peer.name, answer->status);
      continue;
    }
    auto parsed = parse_json(answer->body);
    if (!parsed) continue;
    auto resp = from_json<ProbeResponse>(*parsed);
    if (!resp) continue;
    log->info("probe of node/{} via node/{}: {}{}", request.node, peer.name,
              resp->reachable ? "reachable" : "unreachable",
              resp->message.empty() ? "" : " (" + resp->message + ")");
    if (resp->reachable) return true;
  }
  return false;
}

}  // namespace corral::loops
