#include "balancer/proxy/proxy.h"

#include <boost/asio.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "base/listen_socket.h"
#include "base/log.h"
#include "balancer/proxy/admin_server.h"
#include "balancer/proxy/health_checker.h"
#include "balancer/proxy/http_session.h"
#include "balancer/proxy/loop_balancer.h"
#include "balancer/proxy/tcp_session.h"

namespace corral::balancer {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

struct EventLoop {
  net::io_context io{1};
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};
  std::thread thread;
};

// One Balancer's loops as its acceptors see them: whichever loop accepts a
// connection hands it to the loop whose turn it is. Immutable but for `turn`.
struct AcceptGroup {
  tcp protocol = tcp::v4();
  std::vector<net::io_context*> loops;
  std::vector<std::shared_ptr<LoopBalancer>> balancers;  // by loop
  std::vector<metrics::Counter*> accepted;               // by loop: connections it served
  std::atomic<uint64_t> turn{0};
};

void start_session(tcp::socket socket, const std::shared_ptr<LoopBalancer>& lb) {
  if (lb->current()->set->spec.mode == "tcp") start_tcp_session(std::move(socket), lb);
  else start_http_session(std::move(socket), lb);
}

// Accepts on loop `loop` until the acceptor closes. Out of file descriptors,
// it pauses 50 ms instead of spinning (the connections already open go on).
// Every loop accepts from the same listening socket, and the kernel wakes
// them all: the first to call accept() gets the connection, which spreads
// connections unevenly (measured: one loop did up to twice the other's work
// under wrk). So connections are dealt to the loops in turn, whoever accepted
// them: a connection for another loop moves there (its descriptor is
// re-registered with that loop's reactor), then lives on it lock-free.
void accept_on(std::shared_ptr<tcp::acceptor> acceptor, std::shared_ptr<AcceptGroup> group,
               size_t loop) {
  acceptor->async_accept([acceptor, group, loop](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      auto timer = std::make_shared<net::steady_timer>(acceptor->get_executor(), std::chrono::milliseconds(50));
      timer->async_wait([acceptor, group, loop, timer](error_code) { accept_on(acceptor, group, loop); });
      return;
    }
    size_t to = group->turn.fetch_add(1, std::memory_order_relaxed) % group->loops.size();
    if (to != loop) {
      error_code moved;
      tcp::socket there(*group->loops[to]);
      auto fd = socket.release(moved);
      if (!moved) there.assign(group->protocol, fd, moved);
      if (moved) {
        logger("balancer")->warn("cannot hand a connection to loop {}: {}", to, moved.message());
        if (fd >= 0 && !there.is_open()) ::close(fd);
        accept_on(acceptor, group, loop);
        return;
      }
      group->accepted[to]->inc();
      net::post(*group->loops[to], [s = std::move(there), lb = group->balancers[to]]() mutable {
        start_session(std::move(s), lb);
      });
    } else {
      group->accepted[to]->inc();
      start_session(std::move(socket), group->balancers[to]);
    }
    accept_on(acceptor, group, loop);
  });
}

std::string bind_why(const error_code& ec) {
  return ec.category() == boost::system::system_category() ? bind_error_text(ec.value())
                                                           : ec.message();
}

tcp::endpoint resolve(const std::string& host, const std::string& port) {
  error_code ec;
  auto ip = net::ip::make_address(host, ec);
  unsigned short p = static_cast<unsigned short>(std::stoi(port));
  if (!ec) return {ip, p};
  net::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, ec);
  if (ec || results.empty()) {
    logger("balancer")->warn("cannot resolve endpoint host {}: {}", host, ec.message());
    return {};  // port 0: connecting fails, the backend is ejected
  }
  return *results.begin();
}

}  // namespace

struct Proxy::Impl {
  struct Entry {
    std::shared_ptr<SharedBalancer> shared;
    std::shared_ptr<const InstalledSet> installed;
    std::vector<std::shared_ptr<LoopBalancer>> per_loop;
    // One per loop, all on the same listening socket (dups); empty: not listening.
    std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
    std::vector<metrics::Counter*> accepted;  // per loop: corral_balancer_accepted_total
    ListenAddress bound;
    std::string listen_error;
    uint64_t version = 0;
  };

  ProxyOptions options;
  ProxyMetrics* metrics = nullptr;
  std::vector<std::unique_ptr<EventLoop>> loops;
  std::shared_ptr<HealthChecker> checker;
  std::shared_ptr<AdminServer> admin;
  mutable std::mutex mu;
  std::map<std::string, Entry> entries;  // guarded by mu
  std::vector<std::string> expected;     // guarded by mu
  bool started = false;

  Result<void> bind(Entry& e, const EndpointSet& set);
  void close_acceptors(Entry& e);
  std::vector<std::shared_ptr<const InstalledSet>> installed_sets() const;
};

void Proxy::Impl::close_acceptors(Entry& e) {
  for (size_t i = 0; i < e.acceptors.size(); ++i) {
    net::post(loops[i]->io, [a = e.acceptors[i]] {
      error_code ignored;
      a->close(ignored);
    });
  }
  e.acceptors.clear();
}

// One listening socket per Balancer, bound exclusively (SO_REUSEADDR, no
// SO_REUSEPORT): no other process, and no other Balancer of this one, can bind
// the port (issue 14). Every loop accepts from that one socket through its own
// descriptor (a dup, registered with its own epoll), and accepted connections
// are dealt to the loops in turn (accept_on). Per-loop SO_REUSEPORT sockets
// spread by a hash of the client's address and port instead, but let any
// process of the same user join the port and take connections.
Result<void> Proxy::Impl::bind(Entry& e, const EndpointSet& set) {
  error_code ec;
  auto ip = net::ip::make_address(set.listen.host, ec);
  if (ec) {
    e.listen_error = "spec.listen " + set.listen.to_string() + ": not an IP address";
    return make_error(ErrorCode::kInvalid, "balancer " + set.name + ": " + e.listen_error);
  }
  auto fail = [&](const std::string& why) {
    e.listen_error = listen_error("spec.listen", set.listen.host, set.listen.port, why);
    return make_error(ErrorCode::kUnavailable, "balancer " + set.name + ": " + e.listen_error);
  };
  std::vector<std::shared_ptr<tcp::acceptor>> made;
  auto close_made = [&] {
    error_code ignored;
    for (auto& m : made) m->close(ignored);
  };
  tcp::endpoint ep(ip, set.listen.port);
  auto first = std::make_shared<tcp::acceptor>(loops[0]->io);
  first->open(ep.protocol(), ec);
  if (!ec) first->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) first->bind(ep, ec);
  if (!ec) first->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string why = bind_why(ec);
    error_code ignored;
    first->close(ignored);
    // Taken by this Balancer's own listener (its host changed, its port did
    // not): that one must go before the new one can bind. Closed now (on the
    // loops); retry_listeners binds the new address (every 5 s from the API).
    if (ec == net::error::address_in_use && !e.acceptors.empty() && e.bound.port == set.listen.port) {
      close_acceptors(e);
      why += " (by this Balancer's previous listener, now closed: retried)";
    }
    return fail(why);
  }
  const uint16_t port = first->local_endpoint().port();  // port 0: what the kernel chose
  made.push_back(std::move(first));
  for (size_t i = 1; i < loops.size(); ++i) {
    int fd = ::fcntl(made[0]->native_handle(), F_DUPFD_CLOEXEC, 0);
    if (fd < 0) {
      std::string why = bind_error_text(errno);
      close_made();
      return fail(why);
    }
    auto a = std::make_shared<tcp::acceptor>(loops[i]->io);
    a->assign(ep.protocol(), fd, ec);
    if (ec) {
      ::close(fd);
      close_made();
      return fail(bind_why(ec));
    }
    made.push_back(std::move(a));
  }
  close_acceptors(e);
  e.acceptors = std::move(made);
  e.bound = ListenAddress{set.listen.host, port};
  e.listen_error.clear();
  auto group = std::make_shared<AcceptGroup>();
  group->protocol = ep.protocol();
  for (size_t i = 0; i < loops.size(); ++i) group->loops.push_back(&loops[i]->io);
  group->balancers = e.per_loop;
  group->accepted = e.accepted;
  for (size_t i = 0; i < loops.size(); ++i)
    net::post(loops[i]->io, [a = e.acceptors[i], group, i] { accept_on(a, group, i); });
  return Ok{};
}

std::vector<std::shared_ptr<const InstalledSet>> Proxy::Impl::installed_sets() const {
  std::lock_guard lock(mu);
  std::vector<std::shared_ptr<const InstalledSet>> out;
  for (const auto& [name, e] : entries)
    if (e.installed) out.push_back(e.installed);
  return out;
}

Proxy::Proxy(ProxyOptions options)
    : metrics_(std::make_unique<ProxyMetrics>()), impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->metrics = metrics_.get();
  size_t n = impl_->options.threads ? impl_->options.threads : std::max(1u, std::thread::hardware_concurrency());
  for (size_t i = 0; i < n; ++i) impl_->loops.push_back(std::make_unique<EventLoop>());
  metrics_->registry().on_collect([this] {
    auto& connections = metrics_->registry().gauge("corral_balancer_client_connections",
                                                   "Open client connections.", {"balancer"});
    auto& active = metrics_->registry().gauge("corral_balancer_endpoint_active",
                                              "Connections (tcp) or requests (http) in flight per endpoint.",
                                              {"balancer", "endpoint"});
    auto& healthy = metrics_->registry().gauge("corral_balancer_endpoint_healthy",
                                               "1 when the endpoint may receive traffic (health checks "
                                               "pass, not ejected, not draining).",
                                               {"balancer", "endpoint"});
    // Set afresh at every scrape: a Balancer or endpoint gone since the last
    // one stops showing; so do the counters of endpoints no set holds.
    connections.clear();
    active.clear();
    healthy.clear();
    metrics_->prune();
    SteadyNanos now = steady_now();
    std::lock_guard lock(impl_->mu);
    for (const auto& [name, e] : impl_->entries) {
      connections.with({name}).set(static_cast<double>(e.shared->connections.load()));
      if (!e.installed) continue;
      for (const Backend* b : e.installed->set->backends) {
        active.with({name, b->endpoint.vm}).set(static_cast<double>(b->active()));
        healthy.with({name, b->endpoint.vm}).set(b->usable(now) ? 1 : 0);
      }
    }
  });
}

Proxy::~Proxy() { stop(); }

Result<void> Proxy::start() {
  Impl& d = *impl_;
  d.admin = std::make_shared<AdminServer>(
      d.loops[0]->io, AdminHandlers{[this](std::string* why) { return healthy(why); },
                                    [this] { return metrics_->registry().render(); }});
  if (auto r = d.admin->listen(d.options.admin); !r) return r;
  d.checker = std::make_shared<HealthChecker>(d.loops[0]->io, [&d] { return d.installed_sets(); });
  d.checker->start();
  for (auto& loop : d.loops) loop->thread = std::thread([l = loop.get()] { l->io.run(); });
  d.started = true;
  return Ok{};
}

void Proxy::stop() {
  Impl& d = *impl_;
  if (!d.started) return;
  d.started = false;
  {
    std::lock_guard lock(d.mu);
    for (auto& [name, e] : d.entries) d.close_acceptors(e);
  }
  if (d.checker) d.checker->stop();
  if (d.admin) d.admin->stop();
  for (auto& loop : d.loops) loop->io.stop();
  for (auto& loop : d.loops)
    if (loop->thread.joinable()) loop->thread.join();
}

Result<void> Proxy::apply(const Balancer& balancer) {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  const std::string& name = balancer.metadata.name;
  auto [it, inserted] = d.entries.try_emplace(name);
  Impl::Entry& e = it->second;
  if (inserted) {
    e.shared = std::make_shared<SharedBalancer>();
    e.shared->name = name;
    e.shared->metrics = d.metrics->for_balancer(name);
    for (size_t i = 0; i < d.loops.size(); ++i) {
      e.per_loop.push_back(std::make_shared<LoopBalancer>(e.shared));
      e.accepted.push_back(d.metrics->accepted(name, i));
    }
  }
  auto set = build_endpoint_set(balancer, e.installed ? e.installed->set.get() : nullptr, ++e.version);
  if (!set) {
    e.listen_error = set.error().message;
    return set.error();
  }
  auto installed = std::make_shared<InstalledSet>();
  installed->set = *set;
  for (const Backend* b : (*set)->backends) installed->addresses.push_back(resolve(b->host, b->port));
  installed->metrics = d.metrics->for_set(**set);
  e.installed = installed;
  for (size_t i = 0; i < d.loops.size(); ++i)
    net::post(d.loops[i]->io, [lb = e.per_loop[i], installed] { lb->install(installed); });
  // A listen address that did not change keeps its acceptors (and the
  // connections in their backlog); port 0 means "any", so it never changes.
  const ListenAddress& want = (*set)->listen;
  bool same = !e.acceptors.empty() && e.bound.host == want.host && (want.port == 0 || want.port == e.bound.port);
  if (same) return Ok{};
  return d.bind(e, **set);
}

void Proxy::remove(const std::string& name) {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  auto it = d.entries.find(name);
  if (it == d.entries.end()) return;
  d.close_acceptors(it->second);
  d.entries.erase(it);
}

std::vector<std::string> Proxy::retry_listeners() {
  Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::vector<std::string> failing;
  for (auto& [name, e] : d.entries) {
    if (!e.acceptors.empty() || !e.installed) continue;
    if (!d.bind(e, *e.installed->set)) failing.push_back(name);
  }
  return failing;
}

std::vector<BalancerReport> Proxy::report() const {
  const Impl& d = *impl_;
  std::lock_guard lock(d.mu);
  std::vector<BalancerReport> out;
  SteadyNanos now = steady_now();
  for (const auto& [name, e] : d.entries) {
    BalancerReport r;
    r.name = name;
    r.serving = !e.acceptors.empty();
    r.listen = r.serving ? e.bound.to_string() : "";
    r.listen_error = e.listen_error;
    if (e.installed) {
      for (const Backend* b : e.installed->set->backends) {
        const BackendState& s = *b->state;
        EndpointReport er;
        er.vm = b->endpoint.vm;
        er.epoch = b->endpoint.epoch;
        bool ejected = s.ejected_until.load() > now;
        if (!s.healthy.load() || ejected) er.health = endpoint_health::kUnhealthy;
        else er.health = s.health_known.load() ? endpoint_health::kHealthy : endpoint_health::kUnknown;
        er.active = s.active.load();
        er.drained = b->endpoint.draining && er.active == 0;
        r.endpoints.push_back(std::move(er));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::string Proxy::admin_address() const { return impl_->admin ? impl_->admin->address() : ""; }

void Proxy::expect(std::vector<std::string> names) {
  std::lock_guard lock(impl_->mu);
  impl_->expected = std::move(names);
}

// Walks the Balancers only, not their endpoints: /healthz is polled often.
bool Proxy::healthy(std::string* why) const {
  const Impl& d = *impl_;
  std::string problems;
  auto add = [&](const std::string& problem) {
    if (!problems.empty()) problems += "; ";
    problems += problem;
  };
  std::lock_guard lock(d.mu);
  for (const std::string& name : d.expected)
    if (!d.entries.count(name))
      add("balancer " + name + " is not configured: not found through the API, or not read yet");
  for (const auto& [name, e] : d.entries)
    if (e.acceptors.empty()) add("balancer " + name + " is not serving: " + e.listen_error);
  if (why) *why = problems;
  return problems.empty();
}

}  // namespace corral::balancer
