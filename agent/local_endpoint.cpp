#include "agent/local_endpoint.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <thread>

#include "agent/log_tail.h"
#include "api/heartbeat.h"
#include "client/agent_auth.h"
#include "api/json.h"
#include "api/kinds.h"
#include "base/listen_socket.h"
#include "base/log.h"
#include "api/validate.h"

namespace corral::agent {

namespace {

constexpr const char* kText = "text/plain; charset=utf-8";
constexpr const char* kJson = "application/json";

void reply_text(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, kText);
}

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection:
      return "cannot connect (refused or unreachable)";
    case httplib::Error::ConnectionTimeout:
      return "connect timed out";
    case httplib::Error::Read:
      return "no answer in time (read failed or timed out)";
    case httplib::Error::Write:
      return "write failed";
    default:
      return "request failed (" + httplib::to_string(error) + ")";
  }
}

// GET http://<address>/healthz with a deadline; reachable only on 200.
ProbeResponse probe(const ProbeRequest& request, std::chrono::milliseconds max_timeout) {
  ProbeResponse out;
  const std::string url = "http://" + request.address + "/healthz";
  const size_t colon = request.address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == request.address.size() ||
      request.address.find_first_not_of("0123456789", colon + 1) != std::string::npos ||
      request.address.find_first_of("/?#@ ") != std::string::npos) {
    out.message = "address must be HOST:PORT, not \"" + request.address + "\"";
    return out;
  }
  auto timeout = std::clamp(std::chrono::milliseconds(request.timeoutMs),
                            std::chrono::milliseconds(1), max_timeout);
  httplib::Client client("http://" + request.address);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  client.set_tcp_nodelay(true);
  auto res = client.Get("/healthz");
  if (!res) {
    out.message = "GET " + url + ": " + describe(res.error());
  } else if (res->status != 200) {
    out.message = "GET " + url + ": HTTP " + std::to_string(res->status) +
                  (res->body.empty() ? "" : " (" + res->body.substr(0, 200) + ")");
  } else if (!request.node.empty() && res->get_header_value(kAgentNodeHeader) != request.node) {
    // Another server (or another node's agent) at that address is not the
    // suspect: it must not keep the suspect's VMs where they are.
    out.message = "GET " + url + ": answered by \"" + res->get_header_value(kAgentNodeHeader) +
                  "\", not node " + request.node;
  } else {
    out.reachable = true;
  }
  return out;
}

// A refusal judged from the head: the body, if any, is not read, so the
// connection must not carry another request (its unread bytes would be read
// as one). httplib 0.11 keeps a connection open whatever the answer's
// Connection field says, and closes it only when writing the answer fails:
// so the text goes out through a content provider that writes all of it and
// then reports a failure.
void refuse(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_header("Connection", "close");
  auto body = std::make_shared<std::string>(text);
  res.set_content_provider(body->size(), kText,
                           [body](size_t offset, size_t length, httplib::DataSink& sink) {
                             sink.write(body->data() + offset, length);
                             return false;  // closes the connection
                           });
}

}  // namespace

LocalEndpoint::LocalEndpoint(LocalEndpointOptions options, metrics::Registry& registry)
    : options_(std::move(options)), registry_(registry), server_(std::make_unique<httplib::Server>()) {}

LocalEndpoint::~LocalEndpoint() { stop(); }

bool LocalEndpoint::take_sync_slot() {
  const auto now = (options_.clock ? *options_.clock : RealClock::instance()).steady_now();
  std::lock_guard lock(sync_mu_);
  if (last_sync_ && now - *last_sync_ < options_.min_sync_interval) return false;
  last_sync_ = now;
  return true;
}

void LocalEndpoint::install_routes() {
  auto& s = *server_;
  // The head is judged before the body is read (httplib calls this first).
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    using Handled = httplib::Server::HandlerResponse;
    if (req.has_header("Transfer-Encoding")) {
      refuse(res, 411, "chunked bodies are not taken here: send Content-Length (at most " +
                           std::to_string(options_.max_body_bytes) + " bytes)\n");
      return Handled::Handled;
    }
    if (req.has_header("Content-Length")) {
      const std::string text = req.get_header_value("Content-Length");
      if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos ||
          std::stoull(text) > options_.max_body_bytes) {
        refuse(res, 413, "request body of " + text + " bytes refused: at most " +
                             std::to_string(options_.max_body_bytes) + " bytes\n");
        return Handled::Handled;
      }
    }
    // Open to all: /healthz (peers' probes, liveness checks) and /metrics
    // (counters and gauges only, no names: a Prometheus scrape cannot sign).
    // Their bodies, if any, are capped above like every other.
    if (req.path == "/healthz" || req.path == "/metrics" || !options_.guard)
      return Handled::Unhandled;
    AgentRequestProof proof{req.get_header_value(kAgentNodeHeader),
                            req.get_header_value(kAgentTimeHeader),
                            req.get_header_value(kAgentContentHeader),
                            req.get_header_value(kAgentSignatureHeader)};
    auto ok = options_.guard->check(req.method, req.target, proof, req.has_header("Origin"));
    if (!ok) {
      logger("agent")->info("local endpoint: {} {} from {} refused: {}", req.method, req.path,
                            req.remote_addr, ok.error().message);
      refuse(res, http_status(ok.error().code), ok.error().message + "\n");
      return Handled::Handled;
    }
    return Handled::Unhandled;
  });
  // The body the signature covers (through its hash) is the one read: in
  // signed mode a POST's body must match X-Corral-Content-Sha256.
  auto body_matches = [this](const httplib::Request& req, httplib::Response& res) {
    if (!options_.guard || options_.guard->open()) return true;
    if (sha256_hex(req.body) == req.get_header_value(kAgentContentHeader)) return true;
    reply_text(res, 401, "the body does not match the signed X-Corral-Content-Sha256\n");
    return false;
  };
  s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) {
    if (options_.guard) res.set_header(kAgentNodeHeader, options_.guard->node());
    if (options_.health) {
      if (auto why = options_.health->wedged()) {
        reply_text(res, 503, *why + "\n");
        return;
      }
    }
    reply_text(res, 200, "ok");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.render(), "text/plain; version=0.0.4");
  });
  s.Get(R"(/v1/logs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string vm = req.matches[1];
    // The name becomes a file name: only VM names, never a path.
    if (auto bad = check_dns1123_subdomain(vm)) {
      reply_text(res, 400, "invalid VM name \"" + vm + "\": " + *bad + "\n");
      return;
    }
    // tailLines of at most 9 digits, the byte offsets sinceBytes and
    // limitBytes of at most 15, so that no number overflows; absent: nullopt.
    std::optional<int64_t> numbers[3];
    const char* names[3] = {"tailLines", "sinceBytes", "limitBytes"};
    for (int i = 0; i < 3; ++i) {
      if (!req.has_param(names[i])) continue;
      const std::string text = req.get_param_value(names[i]);
      const size_t digits = i == 0 ? 9 : 15;
      if (text.empty() || text.size() > digits || text.find_first_not_of("0123456789") != std::string::npos) {
        reply_text(res, 400, std::string(names[i]) + " must be a non-negative integer, not \"" + text + "\"\n");
        return;
      }
      numbers[i] = std::stoll(text);
    }
    const auto file = options_.log_dir / (vm + ".log");
    int64_t start = 0;
    int64_t end = 0;
    Result<std::string> log = std::string();
    if (numbers[1]) {
      // A follow's next part: from sinceBytes on, at most limitBytes of it.
      const int64_t limit = std::min(numbers[2].value_or(options_.max_log_bytes), options_.max_log_bytes);
      auto range = read_since(file, *numbers[1], limit);
      if (range) {
        start = range->start;
        end = range->end();
        log = std::move(range->text);
      } else {
        log = range.take_error();
      }
    } else {
      log = tail_file(file, numbers[0], options_.max_log_bytes, &end);
      if (log) start = end - static_cast<int64_t>(log->size());
    }
    if (!log) {
      if (log.error().code == ErrorCode::kNotFound) {
        reply_text(res, 404, "no log for vm/" + vm + " on this node (" + log.error().message + ")\n");
      } else {
        reply_text(res, 500, log.error().message + "\n");
      }
      return;
    }
    res.set_header(kAgentLogStartHeader, std::to_string(start));
    res.set_header(kAgentLogEndHeader, std::to_string(end));
    reply_text(res, 200, *log);
  });
  s.Post("/v1/sync", [this, body_matches](const httplib::Request& req, httplib::Response& res) {
    if (!body_matches(req, res)) return;
    if (!options_.on_sync) {
      reply_text(res, 404, "this agent takes no sync requests\n");
      return;
    }
    if (!take_sync_slot()) {
      res.set_header("Retry-After", "1");
      reply_text(res, 429, "a round was forced less than " +
                               std::to_string(options_.min_sync_interval.count()) +
                               " ms ago; the next heartbeat comes anyway\n");
      return;
    }
    options_.on_sync();
    res.status = 202;
  });
  s.Post("/v1/probe", [this, body_matches](const httplib::Request& req, httplib::Response& res) {
    if (!body_matches(req, res)) return;
    auto body = parse_json(req.body, "ProbeRequest");
    Result<ProbeRequest> request = body ? from_json<ProbeRequest>(*body) : Result<ProbeRequest>(body.take_error());
    if (!request) {
      reply_text(res, 400, request.error().to_string() + "\n");
      return;
    }
    res.set_content(to_json(probe(*request, options_.max_probe_timeout)).dump(), kJson);
  });
}

Result<void> LocalEndpoint::start() {
  auto& s = *server_;
  int threads = std::max(1, options_.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // httplib writes headers and body separately; without TCP_NODELAY Nagle's
  // algorithm delays every answer by the client's delayed ACK (~40 ms).
  s.set_tcp_nodelay(true);
  s.set_payload_max_length(options_.max_body_bytes);
  s.set_read_timeout(options_.read_timeout);
  s.set_write_timeout(options_.read_timeout);
  s.set_keep_alive_timeout(std::max<time_t>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.read_timeout).count()));
  install_routes();
  // httplib's default options set SO_REUSEPORT, with which a second agent
  // could bind this port and answer the controller's probes and nudges for
  // the first (issue 14): SO_REUSEADDR alone.
  s.set_socket_options(exclusive_socket_options);
  port_ = options_.port == 0 ? s.bind_to_any_port(options_.host)
                             : (s.bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ <= 0) {
    // httplib does not say why; a probe bind of the same address does.
    std::string why = probe_listen_error(options_.host, options_.port);
    if (why.empty()) why = "cannot listen (not an address of this host?)";
    return make_error(ErrorCode::kUnavailable,
                      listen_error(options_.listen_name, options_.host, options_.port, why));
  }
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // httplib's stop() does nothing until its accept loop runs (it checks
  // is_running()), so a stop() that came first would leave that loop blocked
  // in accept() for ever and stop()'s join with it: wait for the loop.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->is_running() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  logger("agent")->info("local endpoint on {}", base_url());
  return Ok{};
}

void LocalEndpoint::stop() {
  if (!thread_.joinable()) return;
  server_->stop();
  thread_.join();
}

std::string LocalEndpoint::address() const {
  const bool v6 = options_.host.find(':') != std::string::npos;
  return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(port_);
}

}  // namespace corral::agent
