// AgentNotifier: tells an agent "your bindings changed, heartbeat now" —
// POST http://<node status.address>/v1/sync, fire and forget.
//
// Agents learn their bindings from heartbeat answers (api/heartbeat.h), once a
// second. During a fail-over that second is on the clock (kill → replacement
// Running), so when the scheduler binds VMs to a node it nudges that node's
// agent, which heartbeats at once. Losing a nudge costs nothing but the
// second: the next regular heartbeat carries the same answer.
//
// Thread safety: notify() is thread-safe and never blocks on the network.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "controller/loops/agent_signer.h"

namespace corral::loops {

class AgentNotifier {
 public:
  virtual ~AgentNotifier() = default;
  virtual void notify(const std::string& node, const std::string& address) = 0;
};

// The real one: one background thread; nudges for the same node coalesce.
class HttpAgentNotifier final : public AgentNotifier {
 public:
  // `signer`: signs each nudge with the node's key (not owned); null: unsigned.
  explicit HttpAgentNotifier(const AgentSigner* signer = nullptr);
  ~HttpAgentNotifier() override;  // drops what is queued, waits for the one in flight

  void notify(const std::string& node, const std::string& address) override;

 private:
  void worker_loop();

  const AgentSigner* signer_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::string> queued_;  // node → address; guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::thread worker_;
};

}  // namespace corral::loops
