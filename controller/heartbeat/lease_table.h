// LeaseTable: the agents' heartbeat leases, kept in the controller's memory.
//
// Heartbeats renew leases here, on the controller's steady clock, and only
// here: writing every renewal to the store would be one durable write per
// agent per second (5,000/s at 5,000 hosts). The heartbeat service persists a
// Node's status in batches; the node lifecycle loop judges leases from this
// table, so a node is judged by when *this controller* last heard from it —
// never by the agent's wall clock.
//
// Shared by the heartbeat service (writer, API threads) and the node
// lifecycle loop (reader). Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace corral::heartbeat {

using SteadyTime = std::chrono::steady_clock::time_point;

struct Lease {
  std::string holder;        // the agent instance holding it (HeartbeatRequest.holderIdentity)
  SteadyTime renewed{};      // controller steady time of the last renewal
  int64_t renewals = 0;      // since this controller started
  // Its holder stopped gracefully (a restart): another agent may take the
  // node at once instead of after the grace. `renewed` is kept: the node is
  // judged from that last beat.
  bool released = false;
};

class LeaseTable {
 public:
  // Renews `node`'s lease for `holder` at `now`. A holder change is accepted
  // here; whether it is allowed (the old lease expired) is the caller's call,
  // made with current() under its own rule.
  void renew(const std::string& node, const std::string& holder, SteadyTime now);
  std::optional<Lease> current(const std::string& node) const;
  // Only when it was last renewed (no copy of the holder): the lifecycle
  // loop asks this for every node four times a second.
  std::optional<SteadyTime> renewed_at(const std::string& node) const;
  // Marks the lease released by its holder (see Lease::released); the next
  // renew() clears it.
  void release(const std::string& node);
  // Drops `node`'s lease if it was last renewed before `renewed_before`
  // (a node deleted for good); a lease renewed since — the node's agent beat
  // again, re-registering it — stays. True when dropped.
  bool forget_if_idle(const std::string& node, SteadyTime renewed_before);
  // Every lease, by node name: the lifecycle loop's input.
  std::map<std::string, Lease> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::unordered_map<std::string, Lease> leases_;  // guarded by mu_
};

}  // namespace corral::heartbeat
