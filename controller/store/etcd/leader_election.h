// LeaderElector: one leader among several controllers (issue 16), through one
// etcd key: etcd's clientv3/concurrency Election, simplified to a single key.
//
//   campaign   lease (granted, or the one already held if it still lives), then
//              txn{ create_revision(key) == 0 ? put key=value with the lease : range key }
//              won: leading, fence_revision = the txn's revision (= the key's create_revision)
//   leading    every renew_interval: lease_keepalive, then range key (still ours?)
//   following  every poll_interval: range key; absent → campaign at once
//
// Fencing. Leadership through a lease is a belief with an expiry date, not a
// fact: a leader paused (GC, SIGSTOP, a slow disk, a lost network) wakes up
// still believing it leads while its lease has expired and another leads. No
// timing makes that impossible. What makes it harmless is the fence: every
// write a leader makes carries fence() in its txn's compare,
// create_revision(key) == fence_revision, and etcd refuses it once the key
// was deleted or re-created by someone else. The elector only narrows the
// window: it stops believing (current().leading false, on_change) once
// lease_ttl - renew_interval has passed since the SEND time of its last
// successful keepalive. etcd received that keepalive after we sent it and
// expires the lease TTL after receiving it, so the local step-down comes at
// least renew_interval before anyone else can win (clocks running at the
// same rate assumed; etcd's own clock, not a fake one, runs the lease, so the
// elector reads std::chrono::steady_clock rather than a corral::Clock).
//
// Timings with the defaults (TTL 2 s, renew 500 ms, poll 100 ms), as seen on
// etcd 3.4.23: a graceful stop() hands over within about one poll_interval;
// a leader that dies or is cut off is replaced TTL + at most ~0.6 s after its
// last keepalive (etcd's lessor looks for expired leases every 500 ms, then
// a follower's next poll); it steps down locally 1.5 s after its last
// successful keepalive's send.
//
// Blocking. Each etcd call blocks for up to the client's request_timeout
// (times the number of endpoints). current() and fence() honour the
// step-down deadline even while the elector's thread is blocked in a call;
// on_change and stop() wait for that call to end. Keep request_timeout well
// under lease_ttl - renew_interval (start() warns otherwise).
//
// Thread-safety: current() and fence() may be called from any thread. start()
// and stop() from the owner's thread, start() once. on_change runs on the
// elector's thread, one call at a time, never after stop() returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"

namespace corral::etcd {

class EtcdClient;

struct ElectionOptions {
  // The leader key; every candidate of one election uses the same.
  std::string key = "/corral/leader";
  // What this candidate writes at the key while it leads (the controller's
  // identity JSON: name, API URL, heartbeat URL). Opaque to the elector.
  std::string value;
  // The lease's TTL in seconds. etcd grants at least about 2 s with its
  // default election ticks (1.5 s rounded up); a larger grant is used as granted.
  int64_t lease_ttl_seconds = 2;
  // Keepalive period while leading. REQUIRES: well under lease_ttl_seconds / 2,
  // so that a keepalive or two may fail before the local step-down.
  std::chrono::milliseconds renew_interval{500};
  // How often a follower reads the key (learns the leader, campaigns when it
  // is gone), and the retry period after any etcd error.
  std::chrono::milliseconds poll_interval{100};
};

struct Leadership {
  bool leading = false;
  // When leading: the create_revision of the leader key we created (the
  // fencing token); else 0.
  int64_t fence_revision = 0;
  // The current leader's value; "" when nobody leads or it is unknown.
  std::string leader_value;
  // The create_revision of the current leader key, whoever holds it; 0: none or unknown.
  int64_t term = 0;
  bool operator==(const Leadership&) const = default;
};

class LeaderElector {
 public:
  // on_change is called on the elector's thread whenever Leadership changes
  // (leading gained or lost, a different leader seen); it must not call stop().
  // `client` must outlive the elector.
  LeaderElector(EtcdClient& client, ElectionOptions options,
                std::function<void(const Leadership&)> on_change);
  ~LeaderElector();  // stop()
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // Starts the elector's thread. Once.
  void start();
  // Wakes and joins the thread. If leading, resigns on the way out: deletes
  // the key only if it is still ours (txn: create_revision == fence) and
  // revokes the lease, so that a follower takes over at its next poll instead
  // of after the TTL; on_change then reports leading = false. Idempotent.
  void stop();

  // A snapshot: leading only while the step-down deadline has not passed,
  // whatever the thread is doing.
  Leadership current() const;
  // The compare that fences a write to "only while I lead":
  // create_revision(key) == fence_revision. nullopt when not leading.
  std::optional<Compare> fence() const;

 private:
  using Clock = std::chrono::steady_clock;

  void run();
  // Sleeps until `when` or stop(); false when stopping.
  bool wait_until(Clock::time_point when);
  // One step each; the time of the next step.
  Clock::time_point follow_once();
  Clock::time_point lead_once();
  Clock::time_point next_step() const;   // after a step that succeeded
  Clock::time_point retry_step() const;  // after an etcd failure: poll_interval
  // When a leader stops believing it leads: lease_ttl - renew_interval after
  // the send time of the last grant or keepalive that succeeded.
  Clock::time_point lead_deadline() const;
  void campaign();
  // A follower's view of the key as a range or a failed campaign txn saw it
  // (nullopt: absent); adopts it when it is under our lease.
  void follow_key(const std::optional<KeyValue>& kv);
  // Confirms with a keepalive that our lease lives, then leads under the key
  // it holds (a campaign txn that timed out but was applied, or a lease that
  // outlived an outage).
  void adopt(const KeyValue& kv);
  // The lease lives: TTL > 0 from a keepalive or grant sent at `sent`.
  void lease_refreshed(Clock::time_point sent, int64_t ttl);
  void become_leader(int64_t fence);
  void step_down(const char* why, Leadership next);
  void resign();
  // Revokes lease_id_ (best effort) and forgets it.
  void drop_lease();
  // Stores `next` for current() and tells on_change when it differs.
  void publish(Leadership next);
  // Logs an etcd failure once per distinct message, not once per retry.
  void failed(const char* what, const Error& error);
  void answered();

  EtcdClient& client_;
  const ElectionOptions options_;
  const std::function<void(const Leadership&)> on_change_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;            // guarded by mu_
  Leadership published_;             // guarded by mu_
  Clock::time_point lead_deadline_;  // guarded by mu_: current() leads only before it

  // Owned by the elector's thread (and by stop() after the join).
  Leadership state_;
  int64_t lease_id_ = 0;               // 0: none held
  int64_t lease_ttl_ = 0;              // seconds, as etcd last said
  Clock::time_point lease_refreshed_;  // send time of the last grant/keepalive that succeeded
  std::string last_error_;             // the last failure logged; "" after an answer
  int failures_ = 0;                   // in a row

  std::thread thread_;
};

}  // namespace corral::etcd
