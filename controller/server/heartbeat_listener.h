// HeartbeatListener: a second port on the event-driven core (http_core.h)
// for one path only, POST /apis/corral/v1/nodes/<node>/heartbeat, so that
// thousands of agents can each keep one connection open; an idle one holds
// no thread. Its own port (rather than the API's) keeps the agents' kept
// connections apart from the API's caps and timeouts: an agent beats every
// second on one connection for hours.
//
//   core: head (deadline, 16 KiB) ─► gate: route, authenticate + authorize
//   (node:<name> may beat only for <name>), JSON Content-Type ─► body
//   (≤ max_body) ─► worker: parse JSON, HeartbeatHandler ─► answer
//
// The same Status errors as the API server; requests are counted in the API
// server's metrics under resource "nodes/heartbeat", refusals under
// corral_api_refused_total{listener="heartbeat"}. A controller serving TLS
// serves this port with the same certificate (agents verify it with the same
// CA): a node's token never crosses the network in the clear.
//
// Thread safety: start()/stop() from one thread; serving runs on its own.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "base/error.h"
#include "controller/server/auth.h"
#include "controller/server/server.h"
#include "controller/server/server_metrics.h"

namespace corral::server {

struct HeartbeatListenerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // How start()'s errors name the address (the binary's flag).
  std::string listen_name = "--heartbeat-listen";
  // Threads running the heartbeat handler: a handler that waits for a durable
  // write (a Node status persisted) must not hold up the others.
  size_t worker_threads = 8;
  std::chrono::seconds idle_timeout{30};  // a connection with no request for this long is closed
  size_t max_body_bytes = 1 << 20;
  std::chrono::milliseconds request_head_timeout{10000};  // the whole head (slowloris)
  size_t max_connections = 10000;            // 0: no cap
  size_t max_connections_per_address = 256;  // 0: no cap
  bool trust_node_addresses = false;         // node_address.h
  std::string tls_cert_file;                 // PEM; with tls_key_file: HTTPS
  std::string tls_key_file;
};

class HeartbeatListener {
 public:
  // `auth`, `handler` and `metrics` must outlive the listener.
  HeartbeatListener(const Authenticator& auth, const HeartbeatHandler& handler,
                    ServerMetrics& metrics, HeartbeatListenerOptions options);
  ~HeartbeatListener();  // stops
  HeartbeatListener(const HeartbeatListener&) = delete;
  HeartbeatListener& operator=(const HeartbeatListener&) = delete;

  // Binds and serves on a background thread; returns the port. Errors:
  // Unavailable when the address cannot be bound.
  Result<int> start();
  // Closes the listening socket and every connection, joins the threads.
  void stop();
  int port() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::server
