// Slow and idle clients against the API (issue 15.1): does an admin keep
// being served, and do heartbeats keep flowing, while one address holds a
// thousand slow or idle sockets open?
//
//   build/bench/slow_clients_bench [--agents 100] [--seconds 20] [--attack 1000]
//                                  [--trickle-ms 2000]
//
// A real corral-controller (SQLite, defaults: 10 s head deadline, 256
// connections per address) on 127.0.0.1. Each phase runs --seconds:
//   agents   --agents simulated agents from 127.0.0.1 heartbeat at 1 Hz, as real
//            agents do (first beat on the API port, then one kept connection to
//            the heartbeat listener)
//   admin    one kept connection from 127.0.0.1 GETs a Node every 20 ms
//   attack   (phase B only) --attack sockets from 127.0.0.2 to the API port: half
//            send one header byte every --trickle-ms (slowloris), half connect
//            and send nothing; a socket the server closes is opened again.
// Prints, per phase, the admin's GET p50/p99 and errors, the heartbeats'
// successes, errors and p99, and for the attack how many of its sockets the
// server held (sampled from corral_api_open_connections) and refused.
// Target: admin GET p99 <= 50 ms and heartbeats flowing under the attack.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "bench/bench_util.h"
#include "tests/support/cluster.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using corral::bench::ms_since;
using corral::bench::percentile;
using corral::bench::SteadyClock;

sockaddr_in address_of(const std::string& host, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  return a;
}

// "http://127.0.0.1:PORT" → its socket address.
bool parse_url(const std::string& url, sockaddr_in* out) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string hostport = url.substr(scheme + 3);
  const size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  *out = address_of(hostport.substr(0, colon), std::stoi(hostport.substr(colon + 1)));
  return true;
}

// One HTTP/1.1 connection over a raw socket (small client CPU: the client
// shares the cores with the controller). Reconnects when the server closed it.
class Conn {
 public:
  ~Conn() { close(); }
  // Returns the status, or -1; `body` gets the answer's body.
  int request(const sockaddr_in& to, const std::string& method, const std::string& path,
              const std::string& payload, bool keep, std::string* body) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool fresh = fd_ < 0;
      if (fd_ < 0 && !connect_to(to)) return -1;
      std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        (keep ? "" : "Connection: close\r\n");
      if (!payload.empty())
        req += "Content-Type: application/json\r\nContent-Length: " +
               std::to_string(payload.size()) + "\r\n";
      req += "\r\n" + payload;
      const int status = exchange(req, body);
      if (status > 0) {
        if (!keep) close();
        return status;
      }
      close();
      if (fresh) return -1;  // a kept connection the server closed: once more
    }
    return -1;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool connect_to(const sockaddr_in& to) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      close();
      return false;
    }
    return true;
  }
  int exchange(const std::string& req, std::string* body) {
    for (size_t sent = 0; sent < req.size();) {
      const ssize_t n = ::send(fd_, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return -1;
      sent += static_cast<size_t>(n);
    }
    std::string in;
    char buf[8192];
    for (;;) {
      const size_t end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        const size_t at = in.find("Content-Length: ");
        const size_t length = at == std::string::npos || at > end
                                  ? 0
                                  : std::strtoul(in.c_str() + at + 16, nullptr, 10);
        if (in.size() >= end + 4 + length) {
          int status = -1;
          if (std::sscanf(in.c_str(), "HTTP/1.1 %d", &status) != 1) return -1;
          *body = in.substr(end + 4, length);
          if (in.find("Connection: close") < end) close();
          return status;
        }
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return -1;
      in.append(buf, static_cast<size_t>(n));
    }
  }
  int fd_ = -1;
};

std::string beat(int agent, bool first) {
  const std::string time = corral::format_time(std::chrono::system_clock::now());
  char buf[640];
  std::snprintf(buf, sizeof buf,
                "{\"holderIdentity\":\"slow-node-%d/1-bench\",\"time\":\"%s\","
                "\"capacity\":{\"cpu\":\"16\",\"memory\":\"64Gi\"},"
                "\"allocatable\":{\"cpu\":\"16\",\"memory\":\"64Gi\"},"
                "\"usage\":{\"cpu\":\"4\",\"memory\":\"20Gi\"},"
                "\"address\":\"127.0.0.1:1\",\"driver\":\"sim\",\"agentVersion\":\"bench\","
                "\"fullReport\":%s}",
                agent, time.c_str(), first ? "true" : "false");
  return buf;
}

struct PhaseResult {
  std::vector<double> admin_ms;
  long admin_errors = 0;
  std::vector<double> beat_ms;
  long beats_ok = 0;
  long beat_errors = 0;
};

// The attack: sockets from 127.0.0.2, half trickling a head, half idle; a
// socket the server closed is opened again at its next turn.
class Attack {
 public:
  Attack(sockaddr_in api, int sockets, std::chrono::milliseconds trickle)
      : api_(api), trickle_(trickle), fds_(static_cast<size_t>(sockets), -1),
        sent_(static_cast<size_t>(sockets), 0) {}
  ~Attack() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    running_ = false;
    if (thread_.joinable()) thread_.join();
    for (int& fd : fds_)
      if (fd >= 0) ::close(fd), fd = -1;
  }
  long opened() const { return opened_; }
  long closed_by_server() const { return closed_by_server_; }

 private:
  bool open(size_t i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return false;
    sockaddr_in from = address_of("127.0.0.2", 0);
    ::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&api_), sizeof api_) != 0 &&
        errno != EINPROGRESS) {
      ::close(fd);
      return false;
    }
    fds_[i] = fd;
    sent_[i] = 0;
    ++opened_;
    return true;
  }
  // Closed (or answered: a 408 is followed by the close) by the server?
  bool ended(int fd) {
    char c[512];
    const ssize_t n = ::recv(fd, c, sizeof c, MSG_DONTWAIT);
    return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
  }
  void run() {
    static const std::string head =
        "GET /apis/corral/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    for (size_t i = 0; i < fds_.size(); ++i) open(i);
    // One pass over the sockets per 100 ms; each slow one sends a byte once
    // per trickle period, at its own phase.
    const auto began = SteadyClock::now();
    long tick = 0;
    const long ticks_per_trickle = std::max<long>(1, trickle_.count() / 100);
    while (running_) {
      for (size_t i = 0; i < fds_.size() && running_; ++i) {
        if (fds_[i] >= 0 && ended(fds_[i])) {
          ::close(fds_[i]);
          fds_[i] = -1;
          ++closed_by_server_;
        }
        // Each socket acts once per trickle period, at its own phase: a slow
        // one sends a byte, a closed one is opened again (a flood of
        // reconnects would measure the machine's CPU, not the server).
        const bool turn = (tick + static_cast<long>(i)) % ticks_per_trickle == 0;
        if (fds_[i] < 0) {
          if (turn) open(i);
          continue;
        }
        const bool slow = i % 2 == 0;
        if (slow && turn) {
          const char byte = head[sent_[i] % head.size()];
          if (::send(fds_[i], &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT) == 1) ++sent_[i];
        }
      }
      ++tick;
      std::this_thread::sleep_until(began + tick * 100ms);
    }
  }

  sockaddr_in api_;
  std::chrono::milliseconds trickle_;
  std::vector<int> fds_;
  std::vector<size_t> sent_;
  std::thread thread_;
  std::atomic<bool> running_{true};
  std::atomic<long> opened_{0};
  std::atomic<long> closed_by_server_{0};
};

// corral_api_open_connections{listener="api"} and the refusals, from /metrics.
struct ServerView {
  double api_connections = -1;
  double refused_per_address = 0;
  double refused_head_timeout = 0;
};

double metric(const std::string& text, const std::string& series) {
  const size_t at = text.find(series + " ");
  return at == std::string::npos ? 0 : std::atof(text.c_str() + at + series.size() + 1);
}

ServerView view(const sockaddr_in& api) {
  Conn c;
  std::string body;
  ServerView v;
  if (c.request(api, "GET", "/metrics", "", false, &body) != 200) return v;
  v.api_connections = metric(body, "corral_api_open_connections{listener=\"api\"}");
  v.refused_per_address = metric(
      body, "corral_api_refused_total{listener=\"api\",reason=\"max_connections_per_address\"}");
  v.refused_head_timeout =
      metric(body, "corral_api_refused_total{listener=\"api\",reason=\"request_head_timeout\"}");
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // a phase's lines as they come
  const int agents = corral::bench::int_flag(argc, argv, "--agents", 100);
  const int seconds = corral::bench::int_flag(argc, argv, "--seconds", 20);
  const int attack_sockets = corral::bench::int_flag(argc, argv, "--attack", 1000);
  const int trickle_ms = corral::bench::int_flag(argc, argv, "--trickle-ms", 2000);
  {  // a descriptor per attack socket
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  corral::testing::TempDir dir;
  corral::testing::ControllerOptions o;
  o.binary = corral::testing::controller_binary();
  o.data_dir = (dir.path() / "controller").string();
  o.extra_args = {"--log-level", "warn"};
  corral::testing::Controller controller(o);
  std::string error;
  if (!controller.start(&error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  sockaddr_in api{};
  if (!parse_url(controller.url(), &api)) return 1;
  std::printf(
      "slow_clients_bench: %d agents at 1 Hz, an admin GET every 20 ms, %d s per phase; "
      "attack: %d sockets from 127.0.0.2 (half a header byte every %d ms, half idle); "
      "controller %s, machine: %u cores\n\n",
      agents, seconds, attack_sockets, trickle_ms, controller.url().c_str(),
      std::thread::hardware_concurrency());

  // Agents register on the API port; their answer names the listener.
  sockaddr_in listener = api;
  bool have_listener = false;
  for (int a = 0; a < agents; ++a) {
    Conn c;
    std::string body;
    const int status = c.request(api, "POST",
                                 "/apis/corral/v1/nodes/slow-node-" + std::to_string(a) +
                                     "/heartbeat",
                                 beat(a, true), false, &body);
    if (status != 200) {
      std::fprintf(stderr, "registration of slow-node-%d: %d %s\n", a, status, body.c_str());
      return 1;
    }
    auto j = corral::Json::parse(body, nullptr, false);
    if (!have_listener && j.is_object() && !j.value("heartbeatEndpoint", "").empty())
      have_listener = parse_url(j["heartbeatEndpoint"], &listener);
  }

  auto run_phase = [&](const char* name, Attack* attack) {
    PhaseResult r;
    std::mutex mu;
    std::atomic<bool> running{true};
    ServerView max_view;
    if (attack) {
      attack->start();
      std::this_thread::sleep_for(3s);  // the sockets are open before measuring
    }
    const auto end = SteadyClock::now() + std::chrono::seconds(seconds);
    std::vector<std::thread> threads;
    constexpr int kAgentThreads = 4;
    for (int t = 0; t < kAgentThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<Conn> conns(static_cast<size_t>(agents));
        std::vector<double> mine;
        long ok = 0, errors = 0;
        const auto begin = SteadyClock::now();
        for (long round = 0; SteadyClock::now() < end; ++round) {
          for (int a = t; a < agents; a += kAgentThreads) {
            // Agent a beats at its own phase within the second.
            const auto when = begin + std::chrono::seconds(round) +
                              std::chrono::milliseconds(1000LL * a / agents);
            // A beat that timed out (5 s) does not stretch the phase.
            if (when >= end || SteadyClock::now() >= end) break;
            std::this_thread::sleep_until(when);
            std::string body;
            const auto s = SteadyClock::now();
            const int status =
                conns[static_cast<size_t>(a)].request(
                    listener, "POST",
                    "/apis/corral/v1/nodes/slow-node-" + std::to_string(a) + "/heartbeat",
                    beat(a, false), have_listener, &body);
            if (status == 200) {
              ++ok;
              mine.push_back(ms_since(s));
            } else {
              ++errors;
            }
          }
        }
        std::lock_guard lock(mu);
        r.beat_ms.insert(r.beat_ms.end(), mine.begin(), mine.end());
        r.beats_ok += ok;
        r.beat_errors += errors;
      });
    }
    threads.emplace_back([&] {  // the admin
      Conn c;
      std::string body;
      std::vector<double> mine;
      long errors = 0;
      const auto begin = SteadyClock::now();
      for (long i = 0;; ++i) {
        const auto when = begin + i * 20ms;
        if (when >= end || SteadyClock::now() >= end) break;
        std::this_thread::sleep_until(when);
        const auto s = SteadyClock::now();
        const int status = c.request(api, "GET", "/apis/corral/v1/nodes/slow-node-0", "", true,
                                     &body);
        if (status == 200) {
          mine.push_back(ms_since(s));
        } else {
          ++errors;
        }
      }
      std::lock_guard lock(mu);
      r.admin_ms = std::move(mine);
      r.admin_errors = errors;
    });
    threads.emplace_back([&] {  // what the server holds, once a second
      while (SteadyClock::now() < end) {
        ServerView v = view(api);
        std::lock_guard lock(mu);
        if (v.api_connections > max_view.api_connections) max_view.api_connections = v.api_connections;
        max_view.refused_per_address = v.refused_per_address;
        max_view.refused_head_timeout = v.refused_head_timeout;
        std::this_thread::sleep_for(1s);
      }
    });
    for (auto& t : threads) t.join();
    running = false;
    std::printf("phase %s\n", name);
    std::printf("  admin GET:  %zu requests, %ld errors, p50 %.2f ms, p99 %.2f ms, max %.2f ms "
                "(target p99 <= 50 ms)\n",
                r.admin_ms.size(), r.admin_errors, percentile(r.admin_ms, 0.5),
                percentile(r.admin_ms, 0.99), percentile(r.admin_ms, 1.0));
    std::printf("  heartbeats: %ld ok, %ld errors (offered %d/s for %d s), p50 %.2f ms, p99 %.2f ms "
                "(%s)\n",
                r.beats_ok, r.beat_errors, agents, seconds, percentile(r.beat_ms, 0.5),
                percentile(r.beat_ms, 0.99),
                have_listener ? "heartbeat listener, kept connections" : "API port");
    std::printf("  server:     at most %.0f connections open on the API port (sampled each second; "
                "admin, agents' and this probe's included)\n",
                max_view.api_connections);
    if (attack) {
      attack->stop();
      std::printf("  attack:     %ld sockets opened from 127.0.0.2 (reopened when closed), %ld closed "
                  "by the server; refused at the per-address cap: %.0f, closed at the head "
                  "deadline: %.0f\n",
                  attack->opened(), attack->closed_by_server(), max_view.refused_per_address,
                  max_view.refused_head_timeout);
    }
    std::printf("\n");
  };

  run_phase("A (no attack)", nullptr);
  Attack attack(api, attack_sockets, std::chrono::milliseconds(trickle_ms));
  run_phase("B (attack)", &attack);
  controller.stop();
  return 0;
}
