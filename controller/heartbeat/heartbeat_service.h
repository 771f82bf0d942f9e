// HeartbeatService: the controller's side of POST /apis/corral/v1/nodes/<n>/heartbeat
// (protocol in api/heartbeat.h; README.md in this folder draws the pipeline).
//
//   decode + validate (422) → lease ownership (409) → register the Node if new
//   → renew the lease in the LeaseTable (memory, steady clock) → persist
//   Node.status only when it matters → VM reports → answer with the VMs bound
//   to the node (from the watch-fed VmIndex)
//
// The steady-state heartbeat (nothing changed, last write younger than
// persist_interval) reads memory only: no store write, no scan.
//
// Thread-safe: handle() is called concurrently from API threads; heartbeats of
// one node are serialised (they come at 1 Hz), different nodes run in parallel.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/clock.h"
#include "base/error.h"
#include "api/heartbeat.h"
#include "api/json_fwd.h"
#include "controller/events/event_recorder.h"
#include "controller/heartbeat/lease_table.h"
#include "controller/heartbeat/node_status.h"
#include "controller/heartbeat/pool_cache.h"
#include "controller/heartbeat/secret_env.h"
#include "controller/heartbeat/usage_history.h"
#include "controller/heartbeat/vm_index.h"
#include "controller/heartbeat/watch_feed.h"
#include "controller/store/store.h"

namespace corral::heartbeat {

struct HeartbeatOptions {
  // Where each beat's measured use is kept for the dashboard (not owned; must
  // outlive the service); null: nowhere.
  UsageHistory* usage_history = nullptr;
  // A Node's status is written at least this often while its agent beats, so
  // status.lease.renewTime and usage are never staler than this in the store.
  // 10 s, as the kubelet's nodeStatusUpdateFrequency: every write fans out to
  // the store, the watch and every loop's cache, and at 5,000 hosts a 5 s
  // interval spent most of the heartbeat CPU on these writes (heartbeat_bench).
  // Leases are judged from memory, never from this copy.
  std::chrono::milliseconds persist_interval{10000};
  // The periodic writes of all nodes together stay under this rate: with more
  // nodes than persist_interval × this, each node's interval stretches
  // (10,000 nodes: 40 s). At 10,000 hosts the 10 s writes alone were ~1,100
  // durable writes/s and the largest share of the controller's CPU
  // (heartbeat_bench); a status that changes (usage past
  // usage_change_fraction, capacity, address, the lease holder) is still
  // written at once. 0: no cap.
  double max_periodic_writes_per_second = 250;
  // Each node's next periodic write comes after a share of persist_interval
  // drawn from [1 − jitter, 1]. Without it the writes stay in lock-step: after
  // a controller restart every node writes at its first beat, then all again
  // 10 s later, a burst of one write per node within one second, every 10 s.
  double persist_jitter = 0.25;
  // Usage is written early when it moved by more than this share of
  // allocatable (Node) or of the requests (VM).
  double usage_change_fraction = 0.05;
  // |agent time − controller time| above this sets the Node's ClockSkew
  // condition. Only reported: leases are judged on the controller's clock.
  std::chrono::milliseconds max_clock_skew{5000};
  // Re-reads after a 409 on a status write before the heartbeat fails.
  int conflict_retries = 5;
  // The node's key for its agent's endpoint (client/agent_auth.h), put in the
  // answer when the heartbeat asks for it (HeartbeatRequest::endpointAuth).
  // The heartbeat is the node's own (its token was checked), so the key goes
  // to that node's agent only. Unset: no key is handed out.
  std::function<std::string(const std::string& node)> endpoint_key;
  // Run the VM and Pool watches on background threads. Off in unit tests,
  // which call sync() instead, so nothing happens behind their back.
  bool watch_in_background = true;
  // How long the watch threads block before checking for stop.
  std::chrono::milliseconds watch_poll{200};
  // A node whose Node object is gone and from which no heartbeat came for
  // this long loses its lease and per-node state here (checked at most once
  // per forget_check by some heartbeat): deleted hosts do not add up.
  std::chrono::milliseconds forget_after{std::chrono::minutes(10)};
  std::chrono::milliseconds forget_check{std::chrono::minutes(1)};
  // The recorder of node transitions (its seed: corral-controller draws one per start).
  events::EventRecorderOptions events;
  // A new agent taking over a node that has selfFence VMs bound waits until
  // the old lease has been expired this long too (not only the grace): the
  // old agent, if alive but cut off, may be stopping them until then, and the
  // answer would let the new one start them beside it. The node lifecycle's
  // fence wait (reconcile::FenceOptions::total(), 12 s by default;
  // corral-controller sets both from --fence-stop-timeout).
  std::chrono::milliseconds fence_wait{12'000};
};

class HeartbeatService {
 public:
  // Lists VMs and Pools at once (so the first answers are complete) and, if
  // configured, starts the watch threads. The references must outlive the
  // service.
  HeartbeatService(store::Store& store, LeaseTable& leases, const Clock& clock,
                   HeartbeatOptions options = {});
  ~HeartbeatService();  // stops the watch threads
  HeartbeatService(const HeartbeatService&) = delete;
  HeartbeatService& operator=(const HeartbeatService&) = delete;

  // One heartbeat of `node`, `body` a HeartbeatRequest. Returns the
  // HeartbeatResponse. Errors: Invalid (422, with field paths), Conflict (409,
  // another live agent holds the lease), Unavailable (503, the store),
  // whatever the store answers on a write. `received`: when the listener read
  // the beat (steady clock); the lease is renewed as of then, not as of when
  // a worker got to it — an overloaded controller must not let leases run out
  // for beats that arrived on time (a feedback: expiries write NotReady and
  // Events, which make the next beats later still). Unset: now.
  Result<Json> handle(const std::string& node, const Json& body,
                      std::optional<SteadyTime> received = std::nullopt);
  // The same answer as JSON text, what the listeners send: the bound VMs'
  // text is made once per VM change (BoundEntry::bound_text) and spliced in,
  // not copied and serialized at every beat — 10,000 agents with 30 VMs each
  // are 300,000 VM entries a second.
  Result<std::string> handle_text(const std::string& node, const Json& body,
                                  std::optional<SteadyTime> received = std::nullopt);

  // Applies every VM and Pool change the store published before the call to
  // the index and the pool cache. Tests call it; see WatchFeed::sync.
  Result<void> sync();

  const LeaseTable& leases() const { return leases_; }

 private:
  // What this controller last persisted for a node, and when (steady time).
  struct NodeState {
    std::mutex mu;                 // serialises this node's heartbeats
    bool persisted = false;        // guarded by mu: anything written since start
    NodeReport last;               // guarded by mu
    SteadyTime persist_due{};      // guarded by mu: the next periodic write
    uint64_t writes = 0;           // guarded by mu: seeds the jitter
  };
  std::shared_ptr<NodeState> state_for(const std::string& node);
  // Every forget_check: drops the lease and state of nodes idle past
  // forget_after whose Node object no longer exists.
  void forget_deleted_nodes(SteadyTime now);
  // When the write after one at `now` is due: persist_interval shortened by a
  // jitter drawn from the node's name and write count (deterministic, spread).
  SteadyTime next_persist(const std::string& node, uint64_t writes, SteadyTime now) const;
  Result<store::RecordPtr> register_node(const std::string& node, const HeartbeatRequest& req);
  Result<void> report_vms(const std::string& node, const HeartbeatRequest& req);
  // The bound VMs an answer lists, in name order: not Lost (its node was
  // declared dead: the copy here must stop); one taking values from Secrets
  // resolved for this node, or left out until they resolve.
  void each_answered(const std::string& node, const std::function<void(const BoundEntry&)>& plain,
                     const std::function<void(Json)>& resolved) const;
  Json answer(const std::string& node, std::chrono::milliseconds grace) const;
  std::string answer_text(const std::string& node, std::chrono::milliseconds grace,
                          bool endpoint_key) const;
  // A beat accepted (lease, node status, VM reports): what its answer needs.
  struct Accepted {
    std::chrono::milliseconds grace;
    bool endpoint_key = false;  // the agent asked for its endpoint key
  };
  Result<Accepted> accept(const std::string& node, const Json& body,
                          std::optional<SteadyTime> received);
  // Whether a VM bound to `node` and not Lost has fencing: selfFence.
  bool self_fence_bound(const std::string& node) const;

  store::Store& store_;
  LeaseTable& leases_;
  const Clock& clock_;
  const HeartbeatOptions options_;
  events::EventRecorder events_;
  VmIndex vms_;
  PoolCache pools_;
  SecretEnv secret_env_;  // resolves secretKeyRef for answers (secret_env.h)
  WatchFeed vm_feed_;
  WatchFeed pool_feed_;
  WatchFeed secret_feed_;

  std::mutex states_mu_;
  std::unordered_map<std::string, std::shared_ptr<NodeState>> states_;  // guarded by states_mu_
  std::atomic<size_t> known_nodes_{0};  // states_.size(), read without the lock
  std::mutex forget_mu_;                 // one sweep at a time; a beat never waits for it
  SteadyTime next_forget_check_{};       // guarded by forget_mu_
};

}  // namespace corral::heartbeat
