// corral-balancer's memory under slow request bodies (issue 15 §6): many
// clients each declare a large body (Content-Length) and send it slowly,
// through a real corral-balancer to a backend that reads and checksums bodies
// without keeping them (tests/support/sink_backend.h). Prints the proxy's
// VmRSS (/proc/PID/status) before, at its peak while every body is in flight,
// and after, and fails (exit 1) when the peak passes --bound-mib.
//
//   build/bench/lb_slow_body_bench [--clients 1000] [--body-mib 30] [--rate-kib 64]
//                                  [--seconds 30] [--threads 1] [--bound-mib 256]
//                                  [--balancer-bin PATH]
//
// Each client sends --rate-kib KiB per second of its body (in ten steps a
// second) for --seconds, then closes: the bodies are in flight together, none
// finishes (1,000 × 30 MiB would be 30 GB through loopback). Buffered whole,
// each connection would hold what it received so far; streamed, at most the
// resend prefix (64 KiB) and a read. The Balancer has no per-client cap
// (every client comes from 127.0.0.1) and room for every connection.
// Bounded: the run ends after --seconds, whatever happens; every child is
// stopped on exit.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "tests/support/balancer_process.h"
#include "tests/support/http_backend.h"
#include "tests/support/paths.h"
#include "tests/support/sink_backend.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using corral::bench::rss_kib;

struct Options {
  int clients = 1000;
  int body_mib = 30;
  int rate_kib = 64;
  int seconds = 30;
  int threads = 1;
  int bound_mib = 256;
  std::string balancer_bin;
};

struct Client {
  int fd = -1;
  uint64_t sent = 0;  // body bytes
};

std::string flag(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace corral::testing;
  Options o;
  o.clients = corral::bench::int_flag(argc, argv, "--clients", o.clients);
  o.body_mib = corral::bench::int_flag(argc, argv, "--body-mib", o.body_mib);
  o.rate_kib = corral::bench::int_flag(argc, argv, "--rate-kib", o.rate_kib);
  o.seconds = corral::bench::int_flag(argc, argv, "--seconds", o.seconds);
  o.threads = corral::bench::int_flag(argc, argv, "--threads", o.threads);
  o.bound_mib = corral::bench::int_flag(argc, argv, "--bound-mib", o.bound_mib);
  o.balancer_bin = flag(argc, argv, "--balancer-bin", balancer_binary());
  if (o.clients < 1 || o.body_mib < 1 || o.rate_kib < 1 || o.seconds < 1 || o.threads < 1) {
    std::fprintf(stderr, "--clients, --body-mib, --rate-kib, --seconds and --threads must be at least 1\n");
    return 2;
  }

  // Two descriptors per client in the proxy, one per client and one per
  // backend connection here.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  const rlim_t need = static_cast<rlim_t>(o.clients) * 2 + 200;
  if (lim.rlim_max < need) {
    std::fprintf(stderr, "needs %llu file descriptors, the hard limit is %llu\n",
                 static_cast<unsigned long long>(need), static_cast<unsigned long long>(lim.rlim_max));
    return 2;
  }
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);

  SinkBackend sink;
  std::string error;
  if (!sink.start(&error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  TempDir dir;
  std::ofstream(dir.file("lb.yaml"))
      << "apiVersion: corral/v1\nkind: Balancer\nmetadata: {name: slow}\nspec:\n"
         "  vmSet: slow\n  listen: 127.0.0.1:0\n  mode: http\n"
         "  healthCheck: {type: tcp, intervalSeconds: 3600}\n"
      << "  maxConnections: " << o.clients + 100 << "\n  maxConnectionsPerClient: 0\n"
      << "  timeouts: {requestHeadSeconds: 120, clientSeconds: 120}\n"
      << "status:\n  endpoints:\n    - {vm: s0, node: n0, address: \"" << sink.address() << "\", epoch: 1}\n";
  BalancerProcess lb(o.balancer_bin);
  if (!lb.start({"--file", dir.file("lb.yaml"), "--threads", std::to_string(o.threads)}, &error)) {
    std::fprintf(stderr, "corral-balancer did not start: %s\n", error.c_str());
    return 1;
  }
  const std::string listen = lb.listener("slow");
  const pid_t pid = lb.process()->pid();
  // A warm session first: the baseline is a proxy that has served.
  if (http_get(listen, "/").status != 200) {
    std::fprintf(stderr, "the warm-up request through %s failed\n", listen.c_str());
    return 1;
  }
  const long before = rss_kib(pid);
  const uint64_t body_bytes = static_cast<uint64_t>(o.body_mib) << 20;
  std::printf("lb_slow_body_bench: %d clients, Content-Length %d MiB each, %d KiB/s each for %d s, "
              "corral-balancer --threads %d (pid %d)\n",
              o.clients, o.body_mib, o.rate_kib, o.seconds, o.threads, static_cast<int>(pid));
  std::printf("  VmRSS before: %.1f MiB\n", before / 1024.0);

  std::vector<Client> clients(static_cast<size_t>(o.clients));
  const std::string head = "POST /upload HTTP/1.1\r\nHost: bench\r\nContent-Length: " +
                           std::to_string(body_bytes) + "\r\n\r\n";
  int connected = 0;
  for (auto& c : clients) {
    c.fd = connect_tcp(listen);
    if (c.fd < 0) continue;
    ::send(c.fd, head.data(), head.size(), MSG_NOSIGNAL);
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    ++connected;
  }
  std::printf("  %d of %d clients connected and sent their head\n", connected, o.clients);

  const std::string step(static_cast<size_t>(o.rate_kib) * 1024 / 10, 'b');
  long peak = before;
  uint64_t short_sends = 0;
  const auto t0 = std::chrono::steady_clock::now();
  auto next = t0;
  for (int tick = 0; tick < o.seconds * 10; ++tick) {
    next += 100ms;
    for (auto& c : clients) {
      if (c.fd < 0 || c.sent >= body_bytes) continue;
      const size_t n = static_cast<size_t>(std::min<uint64_t>(step.size(), body_bytes - c.sent));
      const ssize_t w = ::send(c.fd, step.data(), n, MSG_NOSIGNAL);
      if (w > 0) c.sent += static_cast<uint64_t>(w);
      if (w < static_cast<ssize_t>(n)) ++short_sends;
    }
    peak = std::max(peak, rss_kib(pid));
    if ((tick + 1) % 50 == 0) {
      uint64_t sent = 0;
      for (const auto& c : clients) sent += c.sent;
      std::printf("  t=%2ds  VmRSS %.1f MiB  body bytes sent %.0f MiB, at the backend %.0f MiB\n", (tick + 1) / 10,
                  rss_kib(pid) / 1024.0, sent / 1048576.0, sink.body_bytes() / 1048576.0);
      std::fflush(stdout);
    }
    std::this_thread::sleep_until(next);
  }
  uint64_t sent = 0;
  for (const auto& c : clients) sent += c.sent;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (auto& c : clients)
    if (c.fd >= 0) ::close(c.fd);
  // The proxy lets the connections go; what it keeps afterwards is the
  // allocator's cache. (A bench, not a test: a fixed pause is good enough.)
  std::this_thread::sleep_for(2s);
  const long after = rss_kib(pid);
  std::printf("  %.1f s: body bytes sent %.0f MiB (%.0f KiB per client), at the backend %.0f MiB; "
              "%llu sends short (socket full)\n",
              elapsed, sent / 1048576.0, sent / 1024.0 / o.clients, sink.body_bytes() / 1048576.0,
              static_cast<unsigned long long>(short_sends));
  std::printf("  VmRSS peak: %.1f MiB (+%.1f MiB, %.1f KiB per client); after the clients closed: %.1f MiB\n",
              peak / 1024.0, (peak - before) / 1024.0, static_cast<double>(peak - before) / o.clients,
              after / 1024.0);
  const bool ok = peak <= static_cast<long>(o.bound_mib) * 1024;
  std::printf("  bound %d MiB: %s\n", o.bound_mib, ok ? "held" : "EXCEEDED");
  return ok ? 0 : 1;
}
