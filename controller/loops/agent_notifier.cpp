#include "controller/loops/agent_notifier.h"

#include <utility>

#include "client/client.h"
#include "base/log.h"

namespace corral::loops {

HttpAgentNotifier::HttpAgentNotifier(const AgentSigner* signer)
    : signer_(signer), worker_([this] { worker_loop(); }) {}

HttpAgentNotifier::~HttpAgentNotifier() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    queued_.clear();
  }
  cv_.notify_all();
  worker_.join();
}

void HttpAgentNotifier::notify(const std::string& node, const std::string& address) {
  if (address.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queued_[node] = address;
  }
  cv_.notify_one();
}

void HttpAgentNotifier::worker_loop() {
  for (;;) {
    std::string node, address;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
      if (stopping_) return;
      auto first = queued_.begin();
      node = first->first;
      address = first->second;
      queued_.erase(first);
    }
    ClientConfig config;
    config.server = "http://" + address;
    // Short: a nudge that cannot be delivered at once is worth nothing more
    // than the regular heartbeat, and must not delay the nudges behind it.
    config.timeout = std::chrono::milliseconds(200);
    config.connect_timeout = std::chrono::milliseconds(200);
    std::string target = "/v1/sync";
    if (signer_) {
      SignedCall call = signer_->sign(node, "POST", target, "{}");
      target = std::move(call.target);
      config.headers = std::move(call.headers);
    }
    ApiClient client(config);
    auto answer = client.request("POST", target, "{}");
    if (!answer) logger("loops")->debug("nudge of node/{} at {}: {}", node, address, answer.error().message);
  }
}

}  // namespace corral::loops
