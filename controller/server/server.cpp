#include "controller/server/server.h"

#include <arpa/inet.h>

#include <csignal>
#include <fstream>
#include <mutex>

#include "api/json.h"
#include "base/listen_socket.h"
#include "base/log.h"
#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/heartbeat_listener.h"
#include "controller/server/http_core.h"
#include "controller/server/pipeline.h"
#include "controller/server/server_metrics.h"

namespace corral::server {

struct Server::Impl {
  Impl(store::Store& raw, const Clock& c, ServerOptions o)
      : clock(c),
        options(std::move(o)),
        metrics(registry),
        store(raw, metrics),
        watches(options.max_watches_per_identity, options.max_watches),
        event_rate(c, options.event_limits),
        log_follows(store, options.log_follow),
        ctx{store,          clock,           options,   auth,       metrics,
            registry,       stopping,        heartbeat, admission,  agent_logs,
            heartbeat_port, balancer_writes, watches,   event_rate, log_reads,
            control_plane,  usage_history,   log_follows},
        handler(ctx) {}

  const Clock& clock;
  const ServerOptions options;
  metrics::Registry registry;
  ServerMetrics metrics;
  InstrumentedStore store;
  Authenticator auth;
  std::atomic<bool> stopping{false};
  HeartbeatHandler heartbeat;  // set before start(); read-only while serving
  AdmissionHook admission;     // set before start(); read-only while serving
  ControlPlaneInfo control_plane;  // set before start(); read-only while serving
  UsageHistorySource usage_history;  // set before start(); read-only while serving
  AgentLogReader* agent_logs = nullptr;  // set before start(); not owned
  std::mutex balancer_writes;  // a Balancer's listen check and write (balancer_listen.h)
  WatchLimiter watches;
  EventRateLimiter event_rate;  // thread-safe
  std::atomic<size_t> log_reads{0};  // VM log reads in flight (vm_log.h)
  LogFollower log_follows;           // polls open follows (log_follow.h)
  Context ctx;
  ApiHandler handler;  // outlives the core below

  std::mutex mu;                   // serialises start() and stop()
  std::unique_ptr<HttpCore> http;  // guarded by mu
  std::atomic<int> port{0};
  std::atomic<int> heartbeat_port{0};
  std::unique_ptr<HeartbeatListener> heartbeats;  // guarded by mu
  bool tls = false;                               // guarded by mu

  Result<void> load_security();
  HttpCoreOptions core_options() const;
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
  }
  return Ok{};
}

Result<void> Server::Impl::start_heartbeat_listener() {
  if (options.heartbeat_port < 0 || !heartbeat) return Ok{};
  HeartbeatListenerOptions o;
  o.tls_cert_file = options.tls_cert_file;
  o.tls_key_file = options.tls_key_file;
  o.host = options.heartbeat_host.empty() ? options.host : options.heartbeat_host;
  o.port = options.heartbeat_port;
  o.max_body_bytes = options.max_body_bytes;
  o.listen_name = options.heartbeat_listen_name;
  o.request_head_timeout = options.request_head_timeout;
  o.max_connections = options.max_heartbeat_connections;
  o.max_connections_per_address = options.max_connections_per_address;
  o.trust_node_addresses = options.trust_node_addresses;
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

HttpCoreOptions Server::Impl::core_options() const {
  HttpCoreOptions o;
  o.host = options.host;
  o.port = options.port;
  o.listen_name = options.listen_name;
  o.tls_cert_file = options.tls_cert_file;
  o.tls_key_file = options.tls_key_file;
  o.worker_threads = options.worker_threads;
  o.max_body_bytes = options.max_body_bytes;
  o.request_head_timeout = options.request_head_timeout;
  o.keep_alive_timeout = options.keep_alive_timeout;
  o.read_timeout = options.read_timeout;
  o.write_timeout = options.write_timeout;
  o.keep_alive_max_requests = options.keep_alive_max_requests;
  o.max_connections = options.max_connections;
  o.max_connections_per_address = options.max_connections_per_address;
  return o;
}

Server::Server(store::Store& store, const Clock& clock, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, clock, std::move(options))) {
  Impl& m = *impl_;
  m.registry.on_collect([&m] {
    m.metrics.store_revision.with({}).set(static_cast<double>(m.store.revision()));
    m.metrics.store_watches.with({}).set(static_cast<double>(m.store.open_watches()));
  });
}

Server::~Server() { stop(); }

Result<int> Server::start() {
  Impl& m = *impl_;
  std::lock_guard lock(m.mu);
  if (m.http) return make_error(ErrorCode::kBadRequest, "the server was already started");
  m.stopping = false;
  // A TLS peer that hangs up must not kill the process: SSL_write raises
  // SIGPIPE where plain sockets use MSG_NOSIGNAL.
  std::signal(SIGPIPE, SIG_IGN);
  if (auto sec = m.load_security(); !sec) return sec.take_error();
  m.log_follows.start();
  m.http = std::make_unique<HttpCore>(m.handler, m.core_options());
  auto port = m.http->start();
  if (!port) {
    m.http.reset();
    return port.take_error();
  }
  m.port = *port;
  if (auto hb = m.start_heartbeat_listener(); !hb) {
    m.http->stop();
    m.http.reset();
    return hb.take_error();
  }
  logger("api")->info("serving the API on {} (event-driven: {} workers, head deadline {} ms, "
                      "{} connections per address)",
                      base_url(), m.options.worker_threads, m.options.request_head_timeout.count(),
                      m.options.max_connections_per_address);
  return *port;
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
  m.stopping = true;  // readyz fails; the core's stop below ends open watches
  // Polls end before the core: no poll wakes a stream the core has dropped.
  m.log_follows.stop();
  if (m.heartbeats) {
    m.heartbeats->stop();
    m.heartbeats.reset();
    m.heartbeat_port = 0;
  }
  m.http->stop();
  m.http.reset();
  logger("api")->info("API server stopped");
}

int Server::port() const { return impl_->port; }

int Server::heartbeat_port() const { return impl_->heartbeat_port; }

size_t Server::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->http ? impl_->http->open_connections() : 0;
}

std::string Server::base_url() const {
  return std::string(impl_->tls ? "https" : "http") + "://" + host_for_url(impl_->options.host) +
         ":" + std::to_string(impl_->port);
}

void Server::set_heartbeat_handler(HeartbeatHandler handler) {
  impl_->heartbeat = std::move(handler);
}

void Server::set_admission(AdmissionHook hook) { impl_->admission = std::move(hook); }
void Server::set_control_plane_info(ControlPlaneInfo info) {
  impl_->control_plane = std::move(info);
}

void Server::set_usage_history(UsageHistorySource source) {
  impl_->usage_history = std::move(source);
}

void Server::set_agent_log_reader(AgentLogReader* reader) { impl_->agent_logs = reader; }

metrics::Registry& Server::metrics() { return impl_->registry; }

}  // namespace corral::server
