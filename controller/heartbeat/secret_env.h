// SecretEnv: resolves env[].valueFrom.secretKeyRef for the one reader that
// may see the values — the agent of the node a VM is bound to — at the moment
// its heartbeat answer is built (as the kubelet resolves a Pod's secretKeyRef
// when it starts the container). Resolved values live only in that answer and
// in this object's memory: never in the VM, which viewers read.
//
// A VM whose Secret or key is missing is left out of the answer, so it is not
// started, and is reported once per cause — a Warning Event VMConfigError and
// VM.status (message, condition ConfigReady=False, reason
// CreateVMConfigError), as Kubernetes' CreateContainerConfigError — until the
// Secret appears; the agent's next report of the VM then replaces that status.
// A copy that already runs keeps the values it was last sent for the same
// spec (generation) on the same node: deleting a Secret does not stop the VMs
// that took values from it, as deleting a Pod's Secret does not stop the Pod.
// That memory is this process's: after a controller restart, a running copy
// whose Secret is gone is left out of the answer (stopped) and waits for it.
// The VM and Secret feeds are separate threads, so a VM created right after
// its Secret can be judged before the Secret is seen: a transient report that
// the next beat's answer corrects.
//
// Thread-safe: the feed writes the Secret snapshot; API threads resolve.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "api/json.h"
#include "base/clock.h"
#include "controller/events/event_recorder.h"
#include "controller/heartbeat/vm_index.h"
#include "controller/heartbeat/watch_feed.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

// Secret name → key → decoded value.
using SecretValues = std::map<std::string, std::string>;
using SecretSnapshot = std::unordered_map<std::string, std::shared_ptr<const SecretValues>>;

// Every Secret, decoded, fed by a WatchFeed on Secrets. Readers get an
// immutable snapshot.
class SecretCache final : public FeedSink {
 public:
  SecretCache();
  void reset(const std::vector<store::RecordPtr>& records) override;
  void apply(const store::WatchEvent& event) override;
  std::shared_ptr<const SecretSnapshot> snapshot() const;

 private:
  static std::shared_ptr<const SecretValues> decode(const store::Record& record);
  mutable std::mutex mu_;
  std::shared_ptr<const SecretSnapshot> snapshot_;  // guarded by mu_
};

// The BoundVm `bound` (encoded, api/heartbeat.h) with every secretKeyRef of
// runtime.env replaced by its value. Errors: NotFound, with the message
// `secret "db" not found` or `secret "db" has no key "password"` (the first
// missing reference).
Result<Json> resolve_secret_env(const Json& bound, const SecretSnapshot& secrets);

class SecretEnv {
 public:
  // The references must outlive this object.
  SecretEnv(store::Store& store, const Clock& clock, events::EventRecorder& events);

  FeedSink& sink() { return cache_; }

  // What to send `node` for `entry` (one of its VMs whose env takes values
  // from Secrets): the binding with the values resolved, or nullopt when it
  // must not be started for want of a Secret (reported, see above).
  std::optional<Json> bound_for(const std::string& node, const BoundEntry& entry) const;

  // The most resolved answers remembered (one per VM that takes values from
  // Secrets); past it the memory is cleared, and running VMs whose Secret is
  // gone then wait for it like new ones.
  static constexpr size_t kMaxRemembered = 100'000;

 private:
  struct Resolved {
    std::string node;
    int64_t generation = 0;
    Json bound;
  };
  void report(const std::string& node, const BoundEntry& entry, const std::string& why) const;

  store::Store& store_;
  const Clock& clock_;
  events::EventRecorder& events_;
  SecretCache cache_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, Resolved> resolved_;        // guarded by mu_
  mutable std::unordered_map<std::string, std::string> reported_;     // guarded by mu_: VM → cause
};

}  // namespace corral::heartbeat
