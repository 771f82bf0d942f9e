// The HTTP API server: Kubernetes-style REST over the Store.
//
//   /apis/corral/v1/<plural>[/<name>[/status]]   resources (list, watch, CRUD)
//   /apis/corral/v1/vms/<name>/log               a VM's log, from its node's agent
//   /api, /apis, /apis/corral, /apis/corral/v1   discovery
//   /version, /healthz, /readyz, /metrics
//
// Every request passes one pipeline (see README.md): head gate → body →
// authenticate → route → authorise → decode and normalise → store → JSON or
// Status, served by the event-driven core (http_core.h).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "api/json_fwd.h"
#include "api/kinds.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/metrics.h"
#include "controller/server/agent_log_reader.h"
#include "controller/server/event_limits.h"
#include "controller/server/log_follow.h"
#include "controller/store/store.h"

namespace corral::server {

struct ServerOptions {
  // Address to listen on. Without a tokens file only loopback addresses
  // (127.0.0.0/8, ::1, localhost) are allowed.
  std::string host = "127.0.0.1";
  int port = 0;               // 0: pick a free port; start() returns it
  std::string tokens_file;    // `token,user,role` lines; empty: no auth (loopback only)
  std::string tls_cert_file;  // PEM; with tls_key_file: serve HTTPS
  std::string tls_key_file;   // PEM private key
  // The dashboard's files (/ui/): an installed copy of ui/; empty: the copy
  // compiled into the binary.
  std::string ui_dir;
  size_t max_body_bytes = 3 * 1024 * 1024;  // larger bodies: 413
  // The event-driven heartbeat listener (heartbeat_listener.h), started with
  // the server when a heartbeat handler is set and the API is plain HTTP.
  // -1: off (heartbeats only on the API port); 0: any free port.
  int heartbeat_port = -1;
  std::string heartbeat_host;  // empty: `host`; the same loopback rule applies
  // Keep the agent address a heartbeat reports even when its host is not
  // the heartbeat's source address (node_address.h); off: 403.
  bool trust_node_addresses = false;
  // How start()'s errors name the two addresses (the binary's flags): a port
  // taken by another process is "--listen 127.0.0.1:7443: address already in
  // use". Both listeners bind exclusively (base/listen_socket.h).
  std::string listen_name = "--listen";
  std::string heartbeat_listen_name = "--heartbeat-listen";
  // The whole request head must arrive within this of the connection's start
  // (or of its first byte after a keep-alive idle): 408, then closed.
  // Slowloris: a socket trickling a header byte every few seconds is gone
  // after this, whatever it sends.
  std::chrono::milliseconds request_head_timeout{10000};
  // A request body that sends nothing for this long (408), and a write to a
  // client that reads nothing for this long (closed: stuck watch readers).
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::milliseconds keep_alive_timeout{5000};  // idle keep-alive connections are closed after this
  size_t keep_alive_max_requests = 1000;  // requests per connection before it is closed
  // Threads running handlers (http_core.h). Connections do not hold one: an
  // open or idle connection costs a socket and a buffer, no thread.
  size_t worker_threads = 64;
  // Connections held at once, in total and from one client address; over
  // either the connection is closed at once and counted in
  // corral_api_refused_total{reason}. 0: no cap.
  size_t max_connections = 10000;
  size_t max_connections_per_address = 256;
  // The heartbeat listener's own cap: one kept connection per host, with room
  // for agents that reconnect before the old connection is noticed gone — a
  // cap equal to the host count turned a brief stall at 10,000 agents into
  // refused reconnects and a collapse (heartbeat_bench). 0: no cap.
  size_t max_heartbeat_connections = 20000;
  // Open watches one identity (a token's user; "anonymous" without tokens)
  // and everyone together may hold: past either, 429 with Retry-After. A
  // watch holds no thread (the I/O thread writes every watch's events), but
  // each holds a connection, a store watcher and its buffer of events.
  size_t max_watches_per_identity = 128;
  size_t max_watches = 1024;
  std::chrono::seconds default_watch_timeout{300};  // when ?timeoutSeconds= is absent
  std::chrono::seconds max_watch_timeout{3600};     // larger ?timeoutSeconds= are clamped
  // VM log reads (GET vms/<name>/log) in flight at once, across the server:
  // each holds a worker thread for as long as its agent takes (at most the
  // reader's timeout, 10 s), so 16 leave the other 48 of worker_threads to
  // everything else. Past it: 429 with Retry-After: 1.
  size_t max_log_reads = 16;
  // GET vms/<name>/log?follow=true (log_follow.h: 8 per identity, 128 in all,
  // a poll per 500 ms on 4 threads of their own, 1 h at most).
  LogFollowOptions log_follow;
  // Size and rate of the Events nodes and balancers create (defaults in
  // event_limits.h: 1 KiB message, 4 KiB object, 10/s burst 50 per user).
  EventLimits event_limits;
};

// POST /apis/corral/v1/nodes/<node>/heartbeat: `body` is the parsed JSON
// body, `received` when its head was read (HttpRequest::received); the answer
// (a HeartbeatResponse's JSON text, an object) is sent with 200, an Error as
// its Status.
using HeartbeatHandler = std::function<Result<std::string>(
    const std::string& node, const Json& body, std::chrono::steady_clock::time_point received)>;
// Called on create and update (not /status) after normalisation and before
// the store write; `old` is the stored object (null on create). An Error is
// answered as its Status (Invalid: 422) and nothing is written.
using AdmissionHook = std::function<Result<void>(const KindInfo& kind, const Json& normalized,
                                                 const store::RecordPtr& old)>;

// Who leads, when several controllers share an etcd store: /version carries
// it as "controlPlane" ({"self", "leader", "leaderURL", "leading"}) and
// /readyz adds a "leader:" line. Unset: one controller, nothing shown.
using ControlPlaneInfo = std::function<Json()>;

// Each node's CPU and memory over the last minutes, for the dashboard
// (heartbeat/usage_history.h's snapshot). Unset: /usage/nodes answers 503.
using UsageHistorySource = std::function<Json()>;

class Server {
 public:
  // `store` and `clock` must outlive the Server.
  Server(store::Store& store, const Clock& clock, ServerOptions options);
  ~Server();  // stops
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads tokens and TLS material, binds, and serves on a background thread.
  // Returns the port. Errors: BadRequest for bad options (no tokens on a
  // non-loopback address, a malformed tokens file naming file:line),
  // Unavailable when the address cannot be bound or a TLS file is unreadable.
  Result<int> start();
  // Reloads ServerOptions::tokens_file (SIGHUP). Errors: the file's (the old
  // tokens stay in force), or BadRequest when authentication is off.
  Result<size_t> reload_tokens();
  // Stops accepting, ends open watches, waits for the serving thread.
  // Idempotent.
  void stop();

  int port() const;
  // The heartbeat listener's port; 0 when it does not run.
  int heartbeat_port() const;
  // Connections the API port holds now (tests, benchmarks).
  size_t open_connections() const;
  // "http://127.0.0.1:41234" (https when TLS); IPv6 hosts in brackets.
  std::string base_url() const;
  // Hooks into the pipeline. REQUIRES: called before start(). Without a
  // heartbeat handler the heartbeat path answers 404 NotFound; without an
  // agent log reader (not owned; must outlive the server) the log path
  // answers 503 ServiceUnavailable.
  void set_heartbeat_handler(HeartbeatHandler handler);
  void set_admission(AdmissionHook hook);
  void set_control_plane_info(ControlPlaneInfo info);
  void set_usage_history(UsageHistorySource source);
  void set_agent_log_reader(AgentLogReader* reader);

  // The server's metrics; other components may register theirs here too.
  metrics::Registry& metrics();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool is_loopback_host(const std::string& host);

}  // namespace corral::server
