// LocalEndpoint: the agent's own small HTTP server (api/heartbeat.h lists the
// routes). Its host:port is the node's address in every heartbeat.
//
//   GET  /healthz                   "ok" with X-Corral-Node: <node>; 503 naming
//                                   why when the sync loop is wedged (LoopHealth)
//   GET  /metrics                   Prometheus text of the agent's Registry
//   GET  /v1/logs/<vm>?tailLines=N  text/plain from <log_dir>/<vm>.log; 404 when none.
//        /v1/logs/<vm>?sinceBytes=N[&limitBytes=M]  the bytes from offset N on
//                                   (from 0 when the file is now shorter: it
//                                   was replaced), at most M (and max_log_bytes);
//                                   both forms answer X-Corral-Log-Start/-End,
//                                   the offsets of the text (client/agent_auth.h).
//                                   Called by the controller for the API's
//                                   vms/<vm>/log, ?follow=true polling with
//                                   sinceBytes; other parameters (its nonce=,
//                                   controller/loops/agent_log_reader.h) are ignored
//   POST /v1/probe                  ProbeRequest → ProbeResponse: GET http://<address>/healthz
//   POST /v1/sync                   a round now; 429 more often than min_sync_interval
//
// Every route but /healthz and /metrics passes the EndpointGuard first (signed by the
// controller with this node's key, or open on loopback without a token):
// 401/403/503 are answered from the request head, before any body byte is
// read, and close the connection. Bodies: at most max_body_bytes with a
// Content-Length (413 above it); chunked bodies are refused (411): httplib
// 0.11 caps only Content-Length. A client that stalls is cut after
// read_timeout.
// Thread-safe: handlers run on httplib's pool and share the Registry, the
// guard, the loop health and the sync limiter (guarded by sync_mu_).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/endpoint_guard.h"
#include "agent/loop_health.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/metrics.h"

namespace httplib {
class Server;
}

namespace corral::agent {

struct LocalEndpointOptions {
  std::string host = "127.0.0.1";  // loopback by default
  int port = 0;                    // 0: a free port, see address()
  // How start()'s errors name the address (the agent's flag). The bind is
  // exclusive (base/listen_socket.h): a port another process listens on is
  // "--listen 127.0.0.1:PORT: address already in use".
  std::string listen_name = "--listen";
  std::filesystem::path log_dir;   // <data_dir>/logs, where drivers write <vm>.log
  int threads = 4;                 // few callers: the controller, peers
  // A probe's timeoutMs is clamped to this (10 s), so that a caller cannot
  // hold a handler thread for long.
  std::chrono::milliseconds max_probe_timeout{10000};
  // At most this much of a log is served (16 MiB from its end).
  int64_t max_log_bytes = 16 << 20;
  // POST /v1/sync (the controller's "your bindings changed" nudge) calls this;
  // unset: the route answers 404.
  std::function<void()> on_sync;
  // Who may call (not owned; must outlive the endpoint). Null: everyone, as
  // EndpointGuardOptions::Mode::kOpen — for tests of the routes themselves.
  EndpointGuard* guard = nullptr;
  // The sync loop's pulse for /healthz (not owned). Null: always "ok".
  const LoopHealth* health = nullptr;
  // Time for the sync limiter. Null: the real clock.
  const Clock* clock = nullptr;
  // The largest body taken (64 KiB: a ProbeRequest is under 200 bytes).
  size_t max_body_bytes = 64 << 10;
  // A client must send its request (and the endpoint its answer) within this
  // (5 s); httplib has no deadline for a whole head, so this is per read.
  std::chrono::milliseconds read_timeout{5000};
  // POST /v1/sync forces a heartbeat round at most this often (250 ms): the
  // controller's nudges are a few per scheduler pass, and a caller must not
  // be able to spin the loop. Faster calls get 429 with Retry-After.
  std::chrono::milliseconds min_sync_interval{250};
};

class LocalEndpoint {
 public:
  LocalEndpoint(LocalEndpointOptions options, metrics::Registry& registry);
  ~LocalEndpoint();  // stop()
  LocalEndpoint(const LocalEndpoint&) = delete;
  LocalEndpoint& operator=(const LocalEndpoint&) = delete;

  // Binds and serves on a background thread. Errors: Unavailable when the
  // address cannot be bound (in use, not local).
  Result<void> start();
  void stop();

  // "127.0.0.1:41234" once started ("[::1]:41234" for IPv6).
  std::string address() const;
  std::string base_url() const { return "http://" + address(); }

 private:
  void install_routes();
  // Whether a forced round may start now; records it when so.
  bool take_sync_slot();

  LocalEndpointOptions options_;
  metrics::Registry& registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex sync_mu_;
  std::optional<std::chrono::steady_clock::time_point> last_sync_;  // guarded by sync_mu_
};

}  // namespace corral::agent
