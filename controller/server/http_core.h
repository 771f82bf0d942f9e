// HttpCore: the one event-driven HTTP/1.1 server under both of the
// controller's listeners (the API and the heartbeat listener). A few I/O
// threads (Boost.Asio/Beast; io_threads, one per core up to 4) multiplex the
// connections: each connection is served by one of them from accept to close
// (round robin), so its handlers never run at once and need no lock, while
// the threads run side by side. A bounded worker pool runs the handlers,
// which may wait for a durable store write without holding up I/O; a
// long-lived body of events (a watch, HttpResponse::events) is written by its
// connection's I/O thread as its events come. An open or idle connection, and
// an open watch, hold no thread.
//
//   accept ─► caps: per address, total (closed at once, counted)
//          ─► [TLS handshake] ─► head: ≤ max_header_bytes, whole within
//             request_head_timeout of the connection's start or of its first
//             byte after a keep-alive idle (408, 431, 400: then closed)
//          ─► handler.gate(head) on the I/O thread: an answer here means the
//             body is never read (the connection closes if one was coming)
//          ─► body ≤ max_body_bytes whatever the framing: a Content-Length
//             over it and a chunked body at it are 413, then closed
//          ─► worker: handler.serve() ─► answer written (write_timeout)
//          ─► next request (keep_alive_timeout idle, keep_alive_max_requests)
//
// A connection that must close after its answer is shut down for sending and
// drained for up to a second (lingering close, as nginx does), so that a
// client still sending its unread body sees the answer, not a reset.
//
// Thread safety: start() and stop() from one thread; the handler is called
// from the I/O threads (gate, refused, finished, connections) and the
// workers, concurrently: it must be thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include "base/error.h"
#include "controller/server/http_message.h"

namespace corral::server {

struct HttpCoreOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port
  // How start()'s errors name the address (the binary's flag).
  std::string listen_name = "--listen";
  std::string tls_cert_file;  // PEM; with tls_key_file: HTTPS
  std::string tls_key_file;
  // Threads running handlers. Handlers that wait for a durable write (group
  // commit merges concurrent ones) need enough of them to keep the writes
  // concurrent: api_bench drives 32 creating clients.
  size_t worker_threads = 64;
  // I/O threads; 0: one per core, at most 4 (a watch event's fan-out to a
  // thousand watches, and ten thousand heartbeats' heads, spread over them).
  size_t io_threads = 0;
  size_t max_header_bytes = 16 * 1024;      // the request line and fields: 431 past it
  size_t max_body_bytes = 3 * 1024 * 1024;  // 413 past it
  // The whole head must arrive within this (slowloris): 408 and closed.
  std::chrono::milliseconds request_head_timeout{10000};
  // A kept-alive connection with no new request for this long is closed.
  std::chrono::milliseconds keep_alive_timeout{5000};
  // A body that sends nothing for this long: 408 and closed.
  std::chrono::milliseconds read_timeout{10000};
  // One write (an answer, a chunk of a stream) must complete within this.
  std::chrono::milliseconds write_timeout{10000};
  size_t keep_alive_max_requests = 1000;  // then Connection: close
  size_t max_connections = 10000;         // 0: no cap
  size_t max_connections_per_address = 256;
};

// Why the core refused a connection or a request head on its own; a fixed
// set, so that metrics labels stay bounded.
enum class CoreRefusal {
  kMaxConnections,            // "max_connections"
  kMaxConnectionsPerAddress,  // "max_connections_per_address"
  kHeadTimeout,               // "request_head_timeout" (408)
  kHeaderTooLarge,            // "header_too_large" (431)
  kMalformed,                 // "malformed" (400)
  kBodyTimeout,               // "body_timeout" (408)
};
const char* refusal_label(CoreRefusal reason);

// What the core calls; the API server's pipeline and the heartbeat listener
// are the two implementations (fakes in tests).
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  // On the I/O thread, with the head alone (body empty): an answer refuses
  // the request before any body byte is read. Must not block.
  virtual std::optional<HttpResponse> gate(const HttpRequest& head) = 0;
  // On a worker thread, with the body read whole.
  virtual void serve(HttpRequest& request, HttpResponse& response) = 0;
  // An answer of the core's own (408, 413, 431, 400, 503) in the handler's
  // error shape.
  virtual HttpResponse error(int status, const std::string& message) = 0;
  // Once an answer was written or failed: `seconds` from the end of the head
  // to the end of the answer.
  virtual void finished(const HttpRequest& request, int status, double seconds) = 0;
  // A connection or head the core refused (counted in metrics).
  virtual void refused(CoreRefusal reason) = 0;
  // Connections open now changed by `delta` (a gauge).
  virtual void connections(int delta) = 0;
};

class HttpCore {
 public:
  // `handler` must outlive the core.
  HttpCore(HttpHandler& handler, HttpCoreOptions options);
  ~HttpCore();  // stops
  HttpCore(const HttpCore&) = delete;
  HttpCore& operator=(const HttpCore&) = delete;

  // Loads TLS material, binds exclusively (base/listen_socket.h) and serves
  // on background threads; returns the port. Errors: Unavailable when the
  // address cannot be bound or a TLS file cannot be loaded (naming it).
  Result<int> start();
  // Stops accepting, closes every connection (ending every event body),
  // waits for handlers to end (a streaming one sees BodySink::client_gone()).
  // Idempotent.
  void stop();
  int port() const;
  bool tls() const;
  // Connections held now (for tests and benchmarks).
  size_t open_connections() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace corral::server
