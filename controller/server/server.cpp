#include "controller/server/server.h"

#include <arpa/inet.h>
#include <httplib.h>

#include <csignal>
#include <fstream>
#include <mutex>
#include <thread>

#include "api/json.h"
#include "base/listen_socket.h"
#include "base/log.h"
#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/heartbeat_listener.h"
#include "controller/server/pipeline.h"
#include "controller/server/server_metrics.h"

namespace corral::server {

struct Server::Impl {
  Impl(store::Store& raw, const Clock& c, ServerOptions o)
      : clock(c),
        options(std::move(o)),
        metrics(registry),
        store(raw, metrics),
        watches(options.max_watches_per_identity),
        event_rate(c, options.event_limits),
        ctx{store,     clock,     options,        auth,            metrics,
            registry,  stopping,  heartbeat,      admission,       heartbeat_port,
            balancer_writes, watches, event_rate} {}

  const Clock& clock;
  const ServerOptions options;
  metrics::Registry registry;
  ServerMetrics metrics;
  InstrumentedStore store;
  Authenticator auth;
  std::atomic<bool> stopping{false};
  HeartbeatHandler heartbeat;  // set before start(); read-only while serving
  AdmissionHook admission;     // set before start(); read-only while serving
  std::mutex balancer_writes;  // a Balancer's listen check and write (balancer_listen.h)
  WatchLimiter watches;
  EventRateLimiter event_rate;  // thread-safe
  Context ctx;

  std::mutex mu;                          // serialises start() and stop()
  std::unique_ptr<httplib::Server> http;  // guarded by mu
  std::thread thread;                     // guarded by mu: runs listen_after_bind
  std::atomic<int> port{0};
  std::atomic<int> heartbeat_port{0};
  std::unique_ptr<HeartbeatListener> heartbeats;  // guarded by mu
  std::atomic<bool> listen_returned{false};
  bool tls = false;  // guarded by mu

  Result<void> load_security();
  void install_handlers();
  Result<void> start_heartbeat_listener();
};

namespace {

bool readable(const std::string& path) {
  std::ifstream in(path);
  return static_cast<bool>(in);
}

std::string host_for_url(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[') return "[" + host + "]";
  return host;
}

}  // namespace

bool is_loopback_host(const std::string& raw) {
  std::string host = raw;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

Result<void> Server::Impl::load_security() {
  if (options.tokens_file.empty()) {
    if (!is_loopback_host(options.host))
      return make_error(ErrorCode::kBadRequest,
                        "refusing to listen on " + options.host +
                            " without authentication: give a tokens file (--tokens), or "
                            "listen on a loopback address (127.0.0.1, ::1)");
    logger("api")->warn(
        "!!! AUTHENTICATION IS OFF: no tokens file; every request on {} is admin. This is "
        "only allowed on loopback, for a local quick-start. !!!",
        options.host);
  } else {
    auto loaded = Authenticator::from_file(options.tokens_file);
    if (!loaded) return loaded.take_error();
    auth = std::move(*loaded);
    logger("api")->info("{} token(s) loaded from {}", auth.size(), options.tokens_file);
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty())
    return make_error(ErrorCode::kBadRequest,
                      "TLS needs both a certificate and a key (--tls-cert and --tls-key)");
  tls = !options.tls_cert_file.empty();
  if (tls) {
    for (const auto& f : {options.tls_cert_file, options.tls_key_file})
      if (!readable(f)) return make_error(ErrorCode::kUnavailable, "cannot read TLS file " + f);
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                    options.tls_key_file.c_str());
    if (!ssl->is_valid())
      return make_error(ErrorCode::kUnavailable,
                        "cannot load the TLS certificate " + options.tls_cert_file + " with key " +
                            options.tls_key_file + " (not PEM, or they do not match)");
    http = std::move(ssl);
  } else {
    http = std::make_unique<httplib::Server>();
  }
  return Ok{};
}

Result<void> Server::Impl::start_heartbeat_listener() {
  if (options.heartbeat_port < 0 || !heartbeat) return Ok{};
  if (tls) {
    logger("api")->warn(
        "the heartbeat listener serves plain HTTP only; with TLS, agents beat on the API port "
        "(one connection per beat)");
    return Ok{};
  }
  HeartbeatListenerOptions o;
  o.host = options.heartbeat_host.empty() ? options.host : options.heartbeat_host;
  o.port = options.heartbeat_port;
  o.max_body_bytes = options.max_body_bytes;
  o.listen_name = options.heartbeat_listen_name;
  if (!auth.enabled() && !is_loopback_host(o.host))
    return make_error(ErrorCode::kBadRequest,
                      "refusing to serve heartbeats on " + o.host +
                          " without authentication: give a tokens file (--tokens), or listen "
                          "on a loopback address");
  heartbeats = std::make_unique<HeartbeatListener>(auth, heartbeat, metrics, o);
  auto port = heartbeats->start();
  if (!port) {
    heartbeats.reset();
    return port.take_error();
  }
  heartbeat_port = *port;
  return Ok{};
}

void Server::Impl::install_handlers() {
  auto& s = *http;
  size_t threads = options.threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_read_timeout(options.read_timeout);
  s.set_write_timeout(options.write_timeout);
  s.set_keep_alive_timeout(options.keep_alive_timeout.count());
  s.set_keep_alive_max_count(options.keep_alive_max_requests);
  s.set_payload_max_length(options.max_body_bytes);
  // httplib writes headers and body separately; without TCP_NODELAY Nagle's
  // algorithm holds the body until the client's delayed ACK (~40 ms on Linux),
  // which capped a keep-alive client at ~25 requests/s (measured: GET p50 44 ms).
  s.set_tcp_nodelay(true);

  // One handler for every method and path: routing is ours (routes.cpp), so
  // that unknown paths and verbs answer with a Status, after authentication.
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    serve(ctx, req, res);
  };
  // Bodies are read by us, through httplib's content reader, so that the
  // cap holds for chunked bodies too (serve_with_body).
  auto body_handler = [this](const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& read) {
    serve_with_body(ctx, req, res, read);
  };
  const std::string any = "(.*)";
  s.Get(any, handler);
  s.Post(any, body_handler);
  s.Put(any, body_handler);
  s.Patch(any, body_handler);
  s.Delete(any, body_handler);
  s.Delete(any, handler);
  s.Options(any, handler);
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    begin_request(req);
    return gate_request_head(ctx, req, res) ? httplib::Server::HandlerResponse::Handled
                                            : httplib::Server::HandlerResponse::Unhandled;
  });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    end_request(ctx, req, res);
  });
  s.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        return on_error(ctx, req, res);
      }));
  s.set_exception_handler(on_exception);

  registry.on_collect([this] {
    metrics.store_revision.with({}).set(static_cast<double>(store.revision()));
    metrics.store_watches.with({}).set(static_cast<double>(store.open_watches()));
  });
}

Server::Server(store::Store& store, const Clock& clock, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {}

Server::~Server() { stop(); }

Result<int> Server::start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.http) return make_error(ErrorCode::kBadRequest, "the server was already started");
  m.stopping = false;
  // A TLS peer that hangs up must not kill the process: SSL_write raises
  // SIGPIPE where plain sockets use MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  if (auto sec = m.load_security(); !sec) {
    m.http.reset();
    return sec.take_error();
  }
  m.install_handlers();

  const auto& o = m.options;
  // httplib's default socket options set SO_REUSEPORT, which let a second
  // controller bind this port and answer half the requests from its own
  // store (issue 14): replaced by SO_REUSEADDR alone.
  m.http->set_socket_options(exclusive_socket_options);
  int port = o.port;
  if (port == 0) {
    port = m.http->bind_to_any_port(o.host);
    if (port < 0) port = 0;
  } else if (!m.http->bind_to_port(o.host, port)) {
    port = 0;
  }
  if (port <= 0) {
    m.http.reset();
    // httplib does not say why; a probe bind of the same address does.
    std::string why = probe_listen_error(o.host, o.port);
    if (why.empty()) why = "cannot listen (not an address of this host?)";
    return make_error(ErrorCode::kUnavailable, listen_error(o.listen_name, o.host, o.port, why));
  }
  m.port = port;
  if (auto hb = m.start_heartbeat_listener(); !hb) {
    m.http.reset();
    return hb.take_error();
  }
  httplib::Server* http = m.http.get();
  m.listen_returned = false;
  m.thread = std::thread([http, &m] {
    http->listen_after_bind();
    m.listen_returned = true;
  });
  // stop() is only safe once httplib marked itself running; this takes
  // microseconds (the socket already listens, so no connection is lost).
  while (!http->is_running() && !m.listen_returned) std::this_thread::yield();
  logger("api")->info("serving the API on {}", base_url());
  return port;
}

Result<size_t> Server::reload_tokens() {
  Impl& m = *impl_;
  if (m.options.tokens_file.empty())
    return make_error(ErrorCode::kBadRequest, "authentication is off: there is no tokens file");
  return m.auth.reload(m.options.tokens_file);
}

void Server::stop() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (!m.http) return;
  m.stopping = true;  // watches end at their next poll; readyz fails
  if (m.heartbeats) {
    m.heartbeats->stop();
    m.heartbeats.reset();
    m.heartbeat_port = 0;
  }
  m.http->stop();
  if (m.thread.joinable()) m.thread.join();
  m.http.reset();
  logger("api")->info("API server stopped");
}

int Server::port() const { return impl_->port; }

int Server::heartbeat_port() const { return impl_->heartbeat_port; }

std::string Server::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://" + host_for_url(impl_->options.host) +
         ":" + std::to_string(impl_->port);
}

void Server::set_heartbeat_handler(HeartbeatHandler handler) {
  impl_->heartbeat = std::move(handler);
}

void Server::set_admission(AdmissionHook hook) { impl_->admission = std::move(hook); }

metrics::Registry& Server::metrics() { return impl_->registry; }

}  // namespace corral::server
