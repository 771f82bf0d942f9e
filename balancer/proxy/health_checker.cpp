#include "balancer/proxy/health_checker.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <unordered_set>

namespace corral::balancer {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {
constexpr std::chrono::milliseconds kTick{200};
}

HealthChecker::HealthChecker(net::io_context& io, SetsFn sets)
    : io_(io), sets_(std::move(sets)), timer_(io) {}

void HealthChecker::start() {
  net::post(io_, [self = shared_from_this()] { self->tick(); });
}

void HealthChecker::stop() {
  net::post(io_, [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void HealthChecker::tick() {
  if (stopped_) return;
  auto now = std::chrono::steady_clock::now();
  std::unordered_set<const BackendState*> seen;
  for (const auto& set : sets_()) {
    for (const Backend* b : set->set->backends) {
      seen.insert(b->state.get());
      auto [it, inserted] = tracks_.try_emplace(b->state.get());
      Track& t = it->second;
      if (inserted) {
        t.state = b->state;
        t.next_due = now;
      }
      if (t.in_flight || now < t.next_due) continue;
      t.next_due = now + std::chrono::seconds(set->set->spec.healthCheck.intervalSeconds);
      check(set, b, t);
    }
  }
  // Forget backends no set holds any more (and whose check is not running).
  for (auto it = tracks_.begin(); it != tracks_.end();) {
    if (!seen.count(it->first) && !it->second.in_flight) it = tracks_.erase(it);
    else ++it;
  }
  timer_.expires_after(kTick);
  timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->tick();
  });
}

void HealthChecker::verdict(Track& t, const HealthCheck& spec, bool ok) {
  t.in_flight = false;
  auto state = t.state.lock();
  if (!state) return;
  if (ok) {
    t.failures = 0;
    ++t.successes;
    // Unhealthy needs `rise` successes back; a backend that starts healthy is
    // confirmed by its first.
    if (!state->healthy.load() && t.successes >= spec.rise) state->healthy.store(true);
    if (state->healthy.load()) state->health_known.store(true);
  } else {
    t.successes = 0;
    if (++t.failures >= spec.fall) {
      state->healthy.store(false);
      state->health_known.store(true);
    }
  }
}

void HealthChecker::check(std::shared_ptr<const InstalledSet> set, const Backend* backend, Track& track) {
  track.in_flight = true;
  const BalancerSpec& spec = set->set->spec;
  struct Probe {
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::empty_body> req;
    http::response<http::string_body> res;
    explicit Probe(net::io_context& io) : stream(io) {}
  };
  auto probe = std::make_shared<Probe>(io_);
  const BackendState* key = backend->state.get();
  auto done = [self = shared_from_this(), set, key, probe](bool ok) {
    auto it = self->tracks_.find(key);
    if (it != self->tracks_.end()) self->verdict(it->second, set->set->spec.healthCheck, ok);
    beast::error_code ignored;
    probe->stream.socket().close(ignored);
  };
  probe->stream.expires_after(std::chrono::seconds(spec.healthCheck.timeoutSeconds));
  bool http_check = spec.healthCheck.type == "http";
  probe->stream.async_connect(
      set->addresses[backend->index],
      [probe, done, http_check, path = spec.healthCheck.path, host = backend->endpoint.address](error_code ec) {
        if (ec || !http_check) return done(!ec);
        probe->req = {http::verb::get, path, 11};
        probe->req.set(http::field::host, host);
        probe->req.set(http::field::user_agent, "corral-balancer/health");
        probe->req.keep_alive(false);
        http::async_write(probe->stream, probe->req, [probe, done](error_code wec, size_t) {
          if (wec) return done(false);
          http::async_read(probe->stream, probe->buffer, probe->res, [probe, done](error_code rec, size_t) {
            int code = probe->res.result_int();
            done(!rec && code >= 200 && code < 400);
          });
        });
      });
}

}  // namespace corral::balancer
