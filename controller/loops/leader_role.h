// LeaderRole: this controller's part among several on one etcd store
// (issue 16; ARCHITECTURE.md "etcd and several controllers").
//
//   LeaderElector (its own etcd client, 400 ms calls) ──► Leadership
//     fence_source()   the compare every loop and heartbeat write carries
//                      (EtcdStore::fenced): a deposed leader writes nothing
//     gate_heartbeat() Ok while leading; else 503 naming the leader, which
//                      the agent follows (api/heartbeat.h)
//     info()           who leads, for /version and /readyz
//     on each change   LeaderLoops::set_leading, the leadership metrics, a log line
//   EtcdMaintenance    compaction and the orphan sweep, while leading
//
// A controller that runs no loops (--no-loops) does not campaign: if it led,
// the cluster would have no loops. It answers heartbeats "not the leader".
//
// Thread-safe after start(); start() and stop() from the owner's thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "api/json.h"
#include "base/error.h"
#include "base/metrics.h"
#include "controller/loops/leader_loops.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/leader_election.h"
#include "controller/store/etcd_maintenance.h"
#include "controller/store/etcd_store.h"

namespace corral::loops {

struct LeaderRoleOptions {
  std::string key = "/corral/leader";  // the leader key: <prefix>/leader
  bool campaign = true;                // false: never lead (--no-loops)
  store::EtcdMaintenanceOptions maintenance;
  // The election client's calls must end well inside the lease's renew
  // window (leader_election.h); the store's may take seconds.
  std::chrono::milliseconds connect_timeout{250};
  std::chrono::milliseconds request_timeout{400};
  // Every election call, for the etcd metrics (EtcdOptions::observer).
  std::function<void(const char*, std::chrono::nanoseconds, const Error*)> observer;
};

class LeaderRole {
 public:
  // `store` must outlive the role.
  LeaderRole(store::EtcdStore& store, LeaderRoleOptions options);
  ~LeaderRole();  // stop()
  LeaderRole(const LeaderRole&) = delete;
  LeaderRole& operator=(const LeaderRole&) = delete;

  // For EtcdStore::fenced(): the compare while leading, nullopt otherwise.
  // Usable before start() (nothing leads yet).
  store::FenceSource fence_source() const;
  bool leading() const;
  // Ok while leading; else Unavailable "not the leader", naming the leader
  // (api/heartbeat.h's not_the_leader).
  Result<void> gate_heartbeat() const;
  // {"self", "leading", "leader", "leaderURL", "term"} (server.h's ControlPlaneInfo).
  Json info() const;

  // Campaigns as `name` serving at `api_url` (unless options.campaign is
  // false), with `loops` (may be null) following leadership and the
  // leadership gauges in `registry`; starts the maintenance.
  void start(const std::string& name, const std::string& api_url, LeaderLoops* loops,
             metrics::Registry& registry);
  // Resigns (a follower leads at its next poll instead of after the TTL) and
  // stops the maintenance. Idempotent.
  void stop();

 private:
  store::EtcdStore& store_;
  const LeaderRoleOptions options_;
  etcd::EtcdClient client_;
  std::unique_ptr<etcd::LeaderElector> elector_;
  std::atomic<etcd::LeaderElector*> running_{nullptr};  // elector_ once started, for readers
  std::unique_ptr<store::EtcdMaintenance> maintenance_;
  mutable std::mutex mu_;
  std::string name_;  // guarded by mu_
};

}  // namespace corral::loops
