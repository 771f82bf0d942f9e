// What every handler shares: the store (instrumented), options, the
// authenticator and metrics. Owned by Server::Impl; handlers get a reference.
#pragma once

#include <atomic>
#include <mutex>

#include "base/clock.h"
#include "controller/server/auth.h"
#include "controller/server/log_follow.h"
#include "controller/server/server.h"
#include "controller/server/server_metrics.h"
#include "controller/server/watch_limiter.h"
#include "controller/store/store.h"

namespace corral::server {

struct Context {
  store::Store& store;  // the InstrumentedStore over the real one
  const Clock& clock;
  const ServerOptions& options;
  const Authenticator& auth;
  ServerMetrics& metrics;
  metrics::Registry& registry;        // rendered by /metrics
  const std::atomic<bool>& stopping;  // set by Server::stop(): readyz fails
  const HeartbeatHandler& heartbeat;  // empty: heartbeats are not served (set before start)
  const AdmissionHook& admission;     // empty: everything is admitted (set before start)
  // Reads VM logs from agents (vm_log.h); null: none are read (set before start).
  AgentLogReader* const& agent_logs;
  // The heartbeat listener's port, advertised in heartbeat answers; 0: none.
  const std::atomic<int>& heartbeat_port;
  // Held across a Balancer create or update's listen check and its store
  // write, so that two concurrent writes are checked one after the other
  // (balancer_listen.h).
  std::mutex& balancer_writes;
  WatchLimiter& watches;  // open watches per identity (watch_limiter.h)
  // The Event rate limit of nodes and balancers (event_limits.h).
  EventRateLimiter& event_rate;
  // VM log reads in flight, at most options.max_log_reads (vm_log.h).
  std::atomic<size_t>& log_reads;
  // Who leads the control plane (server.h); empty: one controller.
  const ControlPlaneInfo& control_plane;
  // Each node's recent CPU and memory (GET /usage/nodes); empty: none kept.
  const UsageHistorySource& usage_history;
  // Open log follows and their polls (log_follow.h).
  LogFollower& log_follows;
};

}  // namespace corral::server
