// LocalEndpoint: the agent's own small HTTP server (api/heartbeat.h lists the
// routes). Its host:port is the node's address in every heartbeat.
//
//   GET  /healthz                   "ok"
//   GET  /metrics                   Prometheus text of the agent's Registry
//   GET  /v1/logs/<vm>?tailLines=N  text/plain from <log_dir>/<vm>.log; 404 when none
//   POST /v1/probe                  ProbeRequest → ProbeResponse: GET http://<address>/healthz
//
// Binds loopback by default: the routes are unauthenticated, so exposing them
// beyond the host (--listen 0.0.0.0:PORT) is the operator's explicit choice.
// Thread-safe: handlers run on httplib's pool and share only the Registry.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>

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
  int threads = 4;                 // few callers: the controller, corralctl, peers
  // A probe's timeoutMs is clamped to this (10 s), so that a caller cannot
  // hold a handler thread for long.
  std::chrono::milliseconds max_probe_timeout{10000};
  // At most this much of a log is served (16 MiB from its end).
  int64_t max_log_bytes = 16 << 20;
  // POST /v1/sync (the controller's "your bindings changed" nudge) calls this;
  // unset: the route answers 404.
  std::function<void()> on_sync;
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

  LocalEndpointOptions options_;
  metrics::Registry& registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace corral::agent
