// HeartbeatListener: an event-driven HTTP/1.1 server (Boost.Beast) for one
// path only, POST /apis/corral/v1/nodes/<node>/heartbeat, so that thousands
// of agents can each keep one connection open without a thread per agent.
//
// Why a second server: the API server (cpp-httplib 0.11) holds one pool
// thread per open connection and polls it every 10 ms while it idles, so
// 5,000 agents beating every second over kept connections would need 5,000
// threads; over fresh connections each beat pays accept + handshake + a
// thread hand-off. Here one I/O thread multiplexes every connection and a
// small worker pool runs HeartbeatService::handle (which may wait for a
// durable store write).
//
//   accept ─► session: async_read request (header ≤ 16 KiB, body ≤ max_body)
//          ─► worker: route, authenticate + authorize (node:<name> may beat
//             only for <name>), parse JSON, handler ─► async_write answer
//          ─► next request on the same connection (idle_timeout closes it)
//
// The same Status errors as the API server; requests are counted in the API
// server's metrics under resource "nodes/heartbeat". Plain HTTP only: a
// controller serving TLS does not start it (agents then beat on the API port).
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
