// The load balancer's data plane against HAProxy 2.6: the same wrk load
// through each, in http and in tcp mode, to the same nginx backends.
//
//   build/bench/lb_bench [--threads 1] [--connections 50] [--duration 10] [--backends 3]
//                        [--mode http|tcp|both] [--only haproxy|corral|both]
//                        [--balancer-bin PATH] [--wrk-threads N] [--warmup 2] [--repeat 3]
//                        [--body-bytes 0] [--no-direct] [--proxy-cpus LIST --load-cpus LIST | --no-pin]
//
// Needs nginx, haproxy and wrk (bench/install-bench-deps.sh installs them);
// without one of them it says what to install and exits 2.
//
// Backends: ONE nginx master with `worker_processes 1` (--nginx-workers)
// listening on --backends loopback ports, each port one endpoint of the
// balancer. One worker process rather than one nginx per backend because on
// a 2-core machine N worker processes would fight the proxy and wrk for the
// cores; one worker bounds the backends' share of the machine, and it is the
// same for both proxies. Each answers `200 "ok\n"` (or a --body-bytes static
// file) with an `X-Backend: bI` header, access_log off, keep-alive on
// (keepalive_requests high, so that the proxies' pooled server connections
// are not closed every 1000 requests). Before measuring, each proxy must have
// reached every backend (requests on fresh connections, by X-Backend).
//
// Proxies: HAProxy with `nbthread` = --threads, balance roundrobin, `mode http`
// + `option http-keep-alive` (or `mode tcp`), health checks as corral-balancer's
// defaults (every 2 s, http in http mode); corral-balancer with --threads from
// a Balancer manifest (--file) whose status.endpoints are the same backends.
// Each proxy gets a short wrk warm-up, then the measured run:
//   wrk -t WRK_THREADS -c CONNECTIONS -d DURATION --latency http://127.0.0.1:PORT/
// With --repeat N the two proxies alternate (ABBA...) and the summary takes
// the median. With --only haproxy the corral half is skipped, so the harness
// runs before corral-balancer exists.
//
// Pinning (taskset): client, proxy and backends share the machine's cores.
// By default, when there are more cores than --threads, the proxy is pinned
// to CPUs 0..threads-1 and wrk and nginx to the others, so that each proxy has
// the same dedicated cores and does not compete with the load generator; with
// too few cores (or --no-pin) nothing is pinned. Printed with the figures.
//
// Targets (issue 6): corral/haproxy req/s >= 1.0, p99 <= 1.1x. Besides req/s
// and p99 it prints each process's CPU share and the proxy's requests per
// CPU-second. On a machine busy with other work single runs swing by +-30%
// (bench/RESULTS.md): it prints the load average and warns; compare medians.
//
// Every child is stopped on exit (SIGTERM, then SIGKILL), also on failure, on
// SIGINT/SIGTERM and when the whole run overruns its time budget (SIGALRM);
// the bench is a child subreaper, so nginx's workers are swept up too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "tests/support/paths.h"
#include "tests/support/cluster.h"
#include "tests/support/process.h"
#include "tests/support/temp_dir.h"

namespace {

using namespace std::chrono_literals;
using corral::bench::SteadyClock;
using corral::testing::Process;
using corral::testing::ProcessOptions;
using corral::testing::TempDir;

// ---- children: a registry the signal handler can read -------------------------

constexpr int kMaxPids = 64;
volatile pid_t g_pids[kMaxPids];  // 0 = free slot
volatile sig_atomic_t g_signal = 0;  // the first SIGINT/SIGTERM/SIGHUP/SIGALRM

void register_pid(pid_t pid) {
  for (int i = 0; i < kMaxPids; ++i)
    if (g_pids[i] == 0) {
      g_pids[i] = pid;
      return;
    }
}
void unregister_pid(pid_t pid) {
  for (int i = 0; i < kMaxPids; ++i)
    if (g_pids[i] == pid) g_pids[i] = 0;
}

// Kills every child (registered or reparented to us) and reaps it.
void sweep_children() {
  for (int i = 0; i < kMaxPids; ++i)
    if (g_pids[i] > 0) ::kill(g_pids[i], SIGKILL);
  const std::string self = std::to_string(::getpid());
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));
    std::string state, ppid;
    rest >> state >> ppid;
    if (ppid == self) ::kill(std::stoi(name), SIGKILL);
  }
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

extern "C" void on_fatal_signal(int sig) {
  // Async-signal-safe only. The first signal TERMs every child: the bench's
  // waits see them gone and it unwinds as on any failure (children reaped,
  // temp dir removed). A second one (or a child ignoring TERM during a
  // start-up wait) kills everything and leaves at once.
  if (g_signal == 0) {
    g_signal = sig;
    for (int i = 0; i < kMaxPids; ++i)
      if (g_pids[i] > 0) ::kill(g_pids[i], SIGTERM);
    ::alarm(15);  // the orderly unwind gets 15 s
    return;
  }
  for (int i = 0; i < kMaxPids; ++i)
    if (g_pids[i] > 0) ::kill(g_pids[i], SIGKILL);
  const char* msg = "lb_bench: stopped hard, children killed\n";
  ssize_t ignored = ::write(2, msg, std::strlen(msg));
  (void)ignored;
  _exit(1);
}

// A long-running child: its own log files, stopped gracefully (SIGTERM, then
// SIGKILL) when destroyed. `extra` holds pids it forked (nginx's workers).
class Child {
 public:
  Child(std::string name, std::vector<std::string> argv, const TempDir& dir) : name_(std::move(name)) {
    out_ = dir.file(name_ + ".out");
    err_ = dir.file(name_ + ".err");
    ProcessOptions o;
    o.argv = std::move(argv);
    o.stdout_path = out_;
    o.stderr_path = err_;
    process_ = std::make_unique<Process>(o);
    if (process_->started()) register_pid(process_->pid());
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return process_->started(); }
  std::string error() const { return process_->error(); }
  bool running() { return process_->running(); }
  pid_t pid() const { return process_->pid(); }
  std::string logs() const {
    return corral::testing::read_file(err_) + corral::testing::read_file(out_);
  }

  // The pids it forked (read from /proc): nginx's workers.
  void adopt_children() {
    extra_.clear();
    const std::string parent = std::to_string(pid());
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
      std::string name = entry.path().filename().string();
      if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
      std::ifstream in(entry.path() / "stat");
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto close = text.rfind(')');
      if (close == std::string::npos) continue;
      std::istringstream rest(text.substr(close + 2));
      std::string state, ppid;
      rest >> state >> ppid;
      if (ppid == parent) {
        extra_.push_back(std::stoi(name));
        register_pid(extra_.back());
      }
    }
  }

  // CPU seconds of the process and the ones it forked.
  double cpu_seconds() const {
    double s = corral::bench::cpu_seconds(pid());
    for (pid_t p : extra_) s += corral::bench::cpu_seconds(p);
    return s;
  }

  void stop() {
    if (process_ && process_->started() && process_->running()) {
      process_->kill(SIGTERM);
      if (!process_->wait(5s)) {
        process_->kill(SIGKILL);
        process_->wait(5s);
      }
    }
    for (pid_t p : extra_) {
      ::kill(p, SIGKILL);
      unregister_pid(p);
    }
    extra_.clear();
    if (process_ && process_->started()) unregister_pid(process_->pid());
  }

 private:
  std::string name_, out_, err_;
  std::unique_ptr<Process> process_;
  std::vector<pid_t> extra_;
};

// ---- small helpers ---------------------------------------------------------------

// CPU seconds of each thread of `pid`, by thread id (/proc/PID/task/TID/stat:
// utime and stime, the 14th and 15th fields).
std::map<int, double> thread_cpu_seconds(pid_t pid) {
  std::map<int, double> out;
  static const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(entry.path() / "stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = text.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(text.substr(close + 2));  // from field 3 (state) on
    std::string field;
    double utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::atof(field.c_str());
      if (i == 15) stime = std::atof(field.c_str());
    }
    out[std::atoi(entry.path().filename().c_str())] = (utime + stime) / ticks;
  }
  return out;
}

// How evenly the proxy's `loops` busiest threads shared the work between two
// thread_cpu_seconds readings: "2.41 / 2.37 cpu-s (min/max 0.98)".
std::string loop_spread(const std::map<int, double>& before, const std::map<int, double>& after,
                        int loops) {
  std::vector<double> used;
  for (const auto& [tid, s] : after) {
    auto b = before.find(tid);
    used.push_back(s - (b == before.end() ? 0 : b->second));
  }
  std::sort(used.rbegin(), used.rend());
  used.resize(std::min(used.size(), static_cast<size_t>(loops)));
  if (used.empty() || used.front() <= 0) return "no CPU used";
  std::string text;
  char buf[64];
  for (size_t i = 0; i < used.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%s%.2f", i ? " / " : "", used[i]);
    text += buf;
  }
  std::snprintf(buf, sizeof buf, " cpu-s (min/max %.2f)", used.back() / used.front());
  return text + buf;
}

std::string find_program(const std::string& name) {
  std::vector<std::string> dirs;
  if (const char* path = std::getenv("PATH")) {
    std::stringstream ss(path);
    for (std::string d; std::getline(ss, d, ':');)
      if (!d.empty()) dirs.push_back(d);
  }
  // Debian installs nginx and haproxy in sbin, which a user's PATH may lack.
  for (const char* d : {"/usr/local/sbin", "/usr/sbin", "/sbin"}) dirs.push_back(d);
  for (const auto& d : dirs) {
    std::string p = d + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

// Free loopback ports: bound to port 0 together (so they differ), then released.
std::vector<int> free_ports(int count) {
  std::vector<int> fds, ports;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      if (fd >= 0) ::close(fd);
      continue;
    }
    fds.push_back(fd);
    ports.push_back(ntohs(a.sin_port));
  }
  for (int fd : fds) ::close(fd);
  return ports;
}

// One HTTP/1.1 request on a fresh connection; the status code, or 0, and
// the X-Backend header the nginx backends add (which one answered).
int http_status(int port, std::string* backend = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  timeval tv{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  int status = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const std::string req = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      std::string head;
      char buf[1024];
      ssize_t n;
      while (head.find("\r\n\r\n") == std::string::npos && (n = ::recv(fd, buf, sizeof buf, 0)) > 0)
        head.append(buf, static_cast<size_t>(n));
      if (head.size() > 12 && head.compare(0, 7, "HTTP/1.") == 0) status = std::atoi(head.c_str() + 9);
      std::string lower = head;  // header names are case-insensitive
      std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
      auto h = lower.find("\r\nx-backend:");
      if (backend && h != std::string::npos) {
        h += 12;
        while (h < head.size() && head[h] == ' ') ++h;
        *backend = head.substr(h, head.find("\r\n", h) - h);
      }
    }
  }
  ::close(fd);
  return status;
}

// Waits until `port` answers 200 (the child still running), or `timeout`.
bool wait_http_ok(Child& child, int port, std::chrono::milliseconds timeout, std::string* error) {
  auto deadline = SteadyClock::now() + timeout;
  int last = 0;
  while (SteadyClock::now() < deadline && g_signal == 0) {
    if (!child.running()) {
      *error = "exited before it answered on port " + std::to_string(port) + ":\n" + child.logs();
      return false;
    }
    if ((last = http_status(port)) == 200) return true;
    std::this_thread::sleep_for(20ms);
  }
  *error = "no 200 on port " + std::to_string(port) + " within " + std::to_string(timeout.count()) +
           " ms (last status " + std::to_string(last) + "):\n" + child.logs();
  return false;
}

// Requests on fresh connections until every backend has answered through
// `port` (round robin reaches all of them once their health checks pass).
bool wait_all_backends(Child& child, int port, int backends, std::chrono::milliseconds timeout,
                       std::string* error) {
  auto deadline = SteadyClock::now() + timeout;
  std::set<std::string> seen;
  while (SteadyClock::now() < deadline && g_signal == 0 && static_cast<int>(seen.size()) < backends) {
    if (!child.running()) {
      *error = "exited while being probed:\n" + child.logs();
      return false;
    }
    std::string b;
    if (http_status(port, &b) == 200 && !b.empty()) seen.insert(b);
    else std::this_thread::sleep_for(20ms);
  }
  if (static_cast<int>(seen.size()) == backends) return true;
  std::string names;
  for (const auto& b : seen) names += " " + b;
  *error = "only" + names + " of " + std::to_string(backends) + " backends answered through port " +
           std::to_string(port) + " within " + std::to_string(timeout.count()) + " ms";
  return false;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// "123.45us" / "1.20ms" / "2.00s" / "1.00m" -> milliseconds.
double wrk_time_ms(const std::string& value, const std::string& unit) {
  double v = std::stod(value);
  if (unit == "us") return v / 1000;
  if (unit == "ms") return v;
  if (unit == "s") return v * 1000;
  if (unit == "m") return v * 60'000;
  if (unit == "h") return v * 3'600'000;
  return v;
}

struct WrkResult {
  bool ok = false;
  std::string error;
  double rps = 0;
  double p50_ms = 0, p99_ms = 0;
  long long requests = 0;
  long long non2xx = 0;                          // "Non-2xx or 3xx responses"
  long long connect_err = 0, read_err = 0, write_err = 0, timeout_err = 0;
  long long socket_errors() const { return connect_err + read_err + write_err + timeout_err; }
  double proxy_cpu = 0, backend_cpu = 0, wrk_cpu = 0;  // % of one core over the run
  // Requests per CPU-second of the proxy: its cost per request, less
  // sensitive than req/s to what else runs on the machine.
  double per_cpu_second() const { return proxy_cpu > 0 ? rps / (proxy_cpu / 100) : 0; }
};

WrkResult parse_wrk(const std::string& out) {
  WrkResult r;
  std::smatch m;
  static const std::regex rps(R"(Requests/sec:\s*([0-9.]+))");
  static const std::regex p50(R"(\n\s*50%\s+([0-9.]+)(us|ms|s|m|h)\b)");
  static const std::regex p99(R"(\n\s*99%\s+([0-9.]+)(us|ms|s|m|h)\b)");
  static const std::regex reqs(R"((\d+) requests in )");
  static const std::regex non2xx(R"(Non-2xx or 3xx responses:\s*(\d+))");
  static const std::regex sock(R"(Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+))");
  if (!std::regex_search(out, m, rps)) {
    r.error = "no Requests/sec in wrk's output:\n" + out;
    return r;
  }
  r.rps = std::stod(m[1]);
  if (!std::regex_search(out, m, p99)) {
    r.error = "no 99% latency in wrk's output (--latency?):\n" + out;
    return r;
  }
  r.p99_ms = wrk_time_ms(m[1], m[2]);
  if (std::regex_search(out, m, p50)) r.p50_ms = wrk_time_ms(m[1], m[2]);
  if (std::regex_search(out, m, reqs)) r.requests = std::stoll(m[1]);
  if (std::regex_search(out, m, non2xx)) r.non2xx = std::stoll(m[1]);
  if (std::regex_search(out, m, sock)) {
    r.connect_err = std::stoll(m[1]);
    r.read_err = std::stoll(m[2]);
    r.write_err = std::stoll(m[3]);
    r.timeout_err = std::stoll(m[4]);
  }
  r.ok = true;
  return r;
}

double children_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_CHILDREN, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// ---- options ---------------------------------------------------------------------

struct Options {
  int threads = 1;        // proxy threads: HAProxy nbthread, corral-balancer --threads
  int wrk_threads = 1;    // wrk -t
  int connections = 50;   // wrk -c
  int duration = 10;      // wrk -d, seconds
  int warmup = 2;         // seconds of wrk before each measured run
  int repeat = 3;
  int backends = 3;
  int nginx_workers = 1;
  int body_bytes = 0;     // 0: return 200 "ok\n"
  std::string mode = "both";  // http | tcp | both
  std::string only = "both";  // haproxy | corral | both
  bool direct = true;         // also wrk straight to one nginx port (the ceiling)
  bool pin = true;
  std::string proxy_cpus, load_cpus;  // taskset lists; empty: chosen below
  std::string balancer_bin = corral::testing::balancer_binary();
};

void usage() {
  std::fprintf(stderr,
               "usage: lb_bench [--threads N] [--connections N] [--duration S] [--backends N]\n"
               "                [--mode http|tcp|both] [--only haproxy|corral|both] [--balancer-bin PATH]\n"
               "                [--wrk-threads N] [--warmup S] [--repeat N] [--body-bytes N]\n"
               "                [--nginx-workers N] [--no-direct] [--no-pin]\n"
               "                [--proxy-cpus LIST] [--load-cpus LIST]\n");
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  auto need = [&](int& i) -> std::optional<std::string> {
    if (i + 1 >= argc) return std::nullopt;
    return std::string(argv[++i]);
  };
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::optional<std::string> v;
    auto num = [&](int& field, int min) {
      v = need(i);
      if (!v) return false;
      char* end = nullptr;
      long n = std::strtol(v->c_str(), &end, 10);
      if (*end != 0 || n < min) return false;
      field = static_cast<int>(n);
      return true;
    };
    bool ok = true;
    if (a == "--threads") ok = num(o.threads, 1);
    else if (a == "--wrk-threads") ok = num(o.wrk_threads, 1);
    else if (a == "--connections") ok = num(o.connections, 1);
    else if (a == "--duration") ok = num(o.duration, 1);
    else if (a == "--warmup") ok = num(o.warmup, 0);
    else if (a == "--repeat") ok = num(o.repeat, 1);
    else if (a == "--backends") ok = num(o.backends, 1);
    else if (a == "--nginx-workers") ok = num(o.nginx_workers, 1);
    else if (a == "--body-bytes") ok = num(o.body_bytes, 0);
    else if (a == "--mode") ok = (v = need(i)) && (*v == "http" || *v == "tcp" || *v == "both") && (o.mode = *v, true);
    else if (a == "--only") ok = (v = need(i)) && (*v == "haproxy" || *v == "corral" || *v == "both") && (o.only = *v, true);
    else if (a == "--balancer-bin") ok = (v = need(i)) && (o.balancer_bin = *v, true);
    else if (a == "--proxy-cpus") ok = (v = need(i)) && (o.proxy_cpus = *v, true);
    else if (a == "--load-cpus") ok = (v = need(i)) && (o.load_cpus = *v, true);
    else if (a == "--no-direct") o.direct = false;
    else if (a == "--no-pin") o.pin = false;
    else if (a == "--help" || a == "-h") return std::nullopt;
    else {
      std::fprintf(stderr, "lb_bench: unknown flag %s\n", a.c_str());
      return std::nullopt;
    }
    if (!ok) {
      std::fprintf(stderr, "lb_bench: bad value for %s\n", a.c_str());
      return std::nullopt;
    }
  }
  if (o.wrk_threads > o.connections) o.wrk_threads = o.connections;  // wrk requires c >= t
  return o;
}

// ---- the programs' configurations ------------------------------------------------

std::string nginx_config(const Options& o, const TempDir& dir, const std::vector<int>& ports) {
  std::ostringstream c;
  const std::string d = dir.path().string();
  c << "# lb_bench backends: one nginx, one listen port per backend.\n"
    << "daemon off;\nmaster_process on;\nworker_processes " << o.nginx_workers << ";\n"
    << "pid " << d << "/nginx.pid;\nerror_log " << d << "/nginx-error.log warn;\n"
    << "worker_rlimit_nofile 65536;\n"
    << "events { worker_connections 16384; multi_accept on; }\n"
    << "http {\n  access_log off;\n  keepalive_timeout 65s;\n  keepalive_requests 10000000;\n"
    << "  sendfile on;\n  tcp_nopush on;\n  tcp_nodelay on;\n"
    << "  client_body_temp_path " << d << "/tmp/body;\n  proxy_temp_path " << d << "/tmp/proxy;\n"
    << "  fastcgi_temp_path " << d << "/tmp/fastcgi;\n  uwsgi_temp_path " << d << "/tmp/uwsgi;\n"
    << "  scgi_temp_path " << d << "/tmp/scgi;\n  default_type text/plain;\n";
  for (size_t i = 0; i < ports.size(); ++i) {
    c << "  server {\n    listen 127.0.0.1:" << ports[i] << " reuseport backlog=4096;\n"
      << "    add_header X-Backend b" << i << ";\n";
    if (o.body_bytes > 0)
      c << "    root " << d << "/www;\n    location / { try_files /body =404; }\n";
    else
      c << "    location / { return 200 \"ok\\n\"; }\n";
    c << "  }\n";
  }
  c << "}\n";
  return c.str();
}

std::string haproxy_config(const Options& o, const std::string& mode, int listen_port,
                           const std::vector<int>& backends) {
  // corral-balancer's default maxConnections (10000), within what the
  // descriptor limit allows HAProxy (two descriptors per proxied connection).
  long maxconn = 10000;
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    maxconn = std::min<long>(maxconn, (static_cast<long>(nofile.rlim_cur) - 200) / 2);
  std::ostringstream c;
  c << "# lb_bench: HAProxy in " << mode << " mode, the same backends as corral-balancer.\n"
    << "global\n  nbthread " << o.threads << "\n  maxconn " << maxconn << "\n\n"
    << "defaults\n  mode " << mode << "\n";
  if (mode == "http") c << "  option http-keep-alive\n";
  // corral-balancer's defaults: connect 5 s, client and server 60 s.
  c << "  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  maxconn " << maxconn << "\n\n"
    << "frontend fe\n  bind 127.0.0.1:" << listen_port << "\n  default_backend be\n\n"
    << "backend be\n  balance roundrobin\n";
  // Health checks like corral-balancer's defaults: every 2 s, rise 2, fall 2;
  // http GET / in http mode, a connect in tcp mode.
  if (mode == "http") c << "  option httpchk GET /\n";
  for (size_t i = 0; i < backends.size(); ++i)
    c << "  server b" << i << " 127.0.0.1:" << backends[i] << " check inter 2s rise 2 fall 2\n";
  return c.str();
}

std::string balancer_manifest(const std::string& name, const std::string& mode,
                              const std::vector<int>& backends) {
  std::ostringstream c;
  c << "apiVersion: corral/v1\nkind: Balancer\nmetadata: {name: " << name << "}\n"
    << "spec:\n  vmSet: " << name << "\n  listen: 127.0.0.1:0\n  mode: " << mode
    << "\n  algorithm: roundRobin\nstatus:\n  endpoints:\n";
  for (size_t i = 0; i < backends.size(); ++i)
    c << "    - {vm: b" << i << ", node: n" << i << ", address: \"127.0.0.1:" << backends[i]
      << "\", epoch: 1, weight: 1}\n";
  return c.str();
}

// ---- the bench -------------------------------------------------------------------

struct Tools {
  std::string nginx, haproxy, wrk, taskset;
};

class Bench {
 public:
  Bench(Options o, Tools t) : o_(std::move(o)), t_(std::move(t)) {}

  int run();

 private:
  std::vector<std::string> pinned(const std::string& cpus, std::vector<std::string> argv) const {
    if (cpus.empty()) return argv;
    std::vector<std::string> out = {t_.taskset, "-c", cpus};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }
  bool start_backends(std::string* error);
  std::unique_ptr<Child> start_haproxy(const std::string& mode, int* port, std::string* error);
  std::unique_ptr<Child> start_balancer(const std::string& mode, int* port, std::string* error);
  WrkResult wrk(int port, int seconds, Child* proxy);
  void print_result(const std::string& label, const WrkResult& r) const;
  bool run_mode(const std::string& mode);

  Options o_;
  Tools t_;
  TempDir dir_;
  std::unique_ptr<Child> nginx_;
  std::vector<int> backend_ports_;
  int started_ = 0;  // children started, for unique log names
};

bool Bench::start_backends(std::string* error) {
  std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));  // nginx workers may run as nobody
  std::filesystem::create_directories(dir_.path() / "tmp");
  if (o_.body_bytes > 0) {
    std::filesystem::create_directories(dir_.path() / "www");
    write_file(dir_.file("www/body"), std::string(static_cast<size_t>(o_.body_bytes - 1), 'x') + "\n");
  }
  for (int attempt = 0; attempt < 3; ++attempt) {  // a port taken between free_ports and bind: retry
    backend_ports_ = free_ports(o_.backends);
    if (static_cast<int>(backend_ports_.size()) != o_.backends) {
      *error = "cannot find free loopback ports";
      return false;
    }
    const std::string conf = dir_.file("nginx.conf");
    write_file(conf, nginx_config(o_, dir_, backend_ports_));
    nginx_ = std::make_unique<Child>(
        "nginx-" + std::to_string(started_++),
        pinned(o_.load_cpus, {t_.nginx, "-p", dir_.path().string(), "-c", conf, "-e", dir_.file("nginx-error.log")}),
        dir_);
    if (!nginx_->started()) {
      *error = "nginx: " + nginx_->error();
      return false;
    }
    bool all = true;
    for (int p : backend_ports_)
      if (!wait_http_ok(*nginx_, p, 10s, error)) {
        all = false;
        break;
      }
    if (all) {
      nginx_->adopt_children();
      return true;
    }
    *error = "nginx: " + *error + corral::testing::read_file(dir_.file("nginx-error.log"));
    nginx_.reset();
  }
  return false;
}

std::unique_ptr<Child> Bench::start_haproxy(const std::string& mode, int* port, std::string* error) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ports = free_ports(1);
    if (ports.empty()) {
      *error = "cannot find a free loopback port";
      return nullptr;
    }
    const std::string conf = dir_.file("haproxy-" + mode + ".cfg");
    write_file(conf, haproxy_config(o_, mode, ports[0], backend_ports_));
    auto child = std::make_unique<Child>("haproxy-" + std::to_string(started_++),
                                         pinned(o_.proxy_cpus, {t_.haproxy, "-db", "-f", conf}), dir_);
    if (!child->started()) {
      *error = "haproxy: " + child->error();
      return nullptr;
    }
    if (wait_http_ok(*child, ports[0], 10s, error)) {
      *port = ports[0];
      if (!wait_all_backends(*child, *port, o_.backends, 15s, error)) {
        *error = "haproxy: " + *error;
        return nullptr;
      }
      return child;
    }
    *error = "haproxy: " + *error;
  }
  return nullptr;
}

std::unique_ptr<Child> Bench::start_balancer(const std::string& mode, int* port, std::string* error) {
  const std::string name = "bench";
  const std::string file = dir_.file("balancer-" + mode + ".yaml");
  const std::string ready = dir_.file("balancer-" + mode + ".ready");
  write_file(file, balancer_manifest(name, mode, backend_ports_));
  std::filesystem::remove(ready);
  auto child = std::make_unique<Child>(
      "corral-balancer-" + std::to_string(started_++),
      pinned(o_.proxy_cpus, {o_.balancer_bin, "--file", file, "--threads", std::to_string(o_.threads),
                             "--admin", "127.0.0.1:0", "--ready-file", ready, "--instance", "lb-bench"}),
      dir_);
  if (!child->started()) {
    *error = "corral-balancer: " + child->error();
    return nullptr;
  }
  // The ready file: {"admin": "127.0.0.1:P", "listeners": {"bench": "127.0.0.1:P"}}.
  auto deadline = SteadyClock::now() + 15s;
  *port = 0;
  while (SteadyClock::now() < deadline && *port == 0 && g_signal == 0) {
    if (!child->running()) {
      *error = "corral-balancer exited before it was ready:\n" + child->logs();
      return nullptr;
    }
    auto j = nlohmann::json::parse(corral::testing::read_file(ready), nullptr, false);
    if (!j.is_discarded() && j.is_object() && j.contains("listeners") && j["listeners"].contains(name)) {
      std::string addr = j["listeners"][name].get<std::string>();
      *port = std::atoi(addr.substr(addr.rfind(':') + 1).c_str());
    } else {
      std::this_thread::sleep_for(20ms);
    }
  }
  if (*port == 0) {
    *error = "corral-balancer wrote no listener for " + name + " in " + ready + " within 15 s:\n" + child->logs();
    return nullptr;
  }
  // Endpoints may start Unknown until health checks pass: wait for a 200.
  if (!wait_http_ok(*child, *port, 15s, error) || !wait_all_backends(*child, *port, o_.backends, 15s, error)) {
    *error = "corral-balancer: " + *error;
    return nullptr;
  }
  return child;
}

WrkResult Bench::wrk(int port, int seconds, Child* proxy) {
  static int runs = 0;
  const std::string out = dir_.file("wrk-" + std::to_string(runs) + ".out");
  const std::string err = dir_.file("wrk-" + std::to_string(runs++) + ".err");
  ProcessOptions po;
  po.argv = pinned(o_.load_cpus, {t_.wrk, "-t", std::to_string(o_.wrk_threads), "-c", std::to_string(o_.connections),
                                  "-d", std::to_string(seconds) + "s", "--latency",
                                  "http://127.0.0.1:" + std::to_string(port) + "/"});
  po.stdout_path = out;
  po.stderr_path = err;
  double proxy0 = proxy ? proxy->cpu_seconds() : 0, nginx0 = nginx_->cpu_seconds();
  double children0 = children_cpu_seconds();
  auto t0 = SteadyClock::now();
  WrkResult r;
  if (g_signal != 0) {
    r.error = "interrupted";
    return r;
  }
  {
    Process p(po);
    if (!p.started()) {
      r.error = "wrk: " + p.error();
      return r;
    }
    register_pid(p.pid());
    auto code = p.wait(std::chrono::seconds(seconds + 30));
    unregister_pid(p.pid());
    if (!code) {
      p.kill(SIGKILL);
      p.wait(5s);
      r.error = "wrk did not finish within " + std::to_string(seconds + 30) + " s";
      return r;
    }
    if (*code != 0) {
      r.error = "wrk exited " + std::to_string(*code) + ": " + corral::testing::read_file(err) +
                corral::testing::read_file(out);
      return r;
    }
  }
  double wall = corral::bench::ms_since(t0) / 1000;
  r = parse_wrk(corral::testing::read_file(out));
  r.proxy_cpu = proxy ? 100 * (proxy->cpu_seconds() - proxy0) / wall : 0;
  r.backend_cpu = 100 * (nginx_->cpu_seconds() - nginx0) / wall;
  r.wrk_cpu = 100 * (children_cpu_seconds() - children0) / wall;
  return r;
}

void Bench::print_result(const std::string& label, const WrkResult& r) const {
  std::printf("  %-22s %9.0f req/s  p50 %7.3f ms  p99 %7.3f ms  non-2xx %lld  socket errors %lld"
              "  (cpu%%: proxy %.0f, nginx %.0f, wrk %.0f",
              label.c_str(), r.rps, r.p50_ms, r.p99_ms, r.non2xx, r.socket_errors(), r.proxy_cpu,
              r.backend_cpu, r.wrk_cpu);
  if (r.proxy_cpu > 0) std::printf("; %.0f req per proxy cpu-s", r.per_cpu_second());
  std::printf(")\n");
  if (r.socket_errors() > 0)
    std::printf("  %-22s socket errors: connect %lld, read %lld, write %lld, timeout %lld\n", "", r.connect_err,
                r.read_err, r.write_err, r.timeout_err);
  std::fflush(stdout);
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

bool Bench::run_mode(const std::string& mode) {
  std::string error;
  const bool with_haproxy = o_.only != "corral", with_corral = o_.only != "haproxy";
  int hp_port = 0, cb_port = 0;
  std::unique_ptr<Child> haproxy, balancer;
  if (with_haproxy && !(haproxy = start_haproxy(mode, &hp_port, &error))) {
    std::fprintf(stderr, "lb_bench: %s\n", error.c_str());
    return false;
  }
  if (with_corral && !(balancer = start_balancer(mode, &cb_port, &error))) {
    std::fprintf(stderr, "lb_bench: %s\n", error.c_str());
    return false;
  }
  std::printf("\nmode %s:\n", mode.c_str());
  std::vector<WrkResult> hp, cb;
  auto measure = [&](const std::string& label, Child* proxy, int port, std::vector<WrkResult>& into) {
    if (!proxy->running()) {
      std::fprintf(stderr, "lb_bench: %s died:\n%s\n", label.c_str(), proxy->logs().c_str());
      return false;
    }
    if (o_.warmup > 0) wrk(port, o_.warmup, proxy);
    auto threads_before = thread_cpu_seconds(proxy->pid());
    WrkResult r = wrk(port, o_.duration, proxy);
    if (!r.ok) {
      std::fprintf(stderr, "lb_bench: %s: %s\n", label.c_str(), r.error.c_str());
      return false;
    }
    print_result(label, r);
    // With several loops: how evenly they shared the load (the busiest
    // --threads threads of the proxy).
    if (o_.threads > 1)
      std::printf("  %-22s its %d busiest threads: %s\n", "", o_.threads,
                  loop_spread(threads_before, thread_cpu_seconds(proxy->pid()),
                              o_.threads).c_str());
    into.push_back(r);
    return true;
  };
  for (int i = 0; i < o_.repeat; ++i) {
    // Alternate which goes first (ABBA), so that drift in the machine's load
    // does not favour one of them.
    bool haproxy_first = i % 2 == 0;
    for (int k = 0; k < 2; ++k) {
      bool is_haproxy = (k == 0) == haproxy_first;
      if (is_haproxy && haproxy && !measure("haproxy", haproxy.get(), hp_port, hp)) return false;
      if (!is_haproxy && balancer && !measure("corral-balancer", balancer.get(), cb_port, cb)) return false;
    }
  }
  auto med = [](const std::vector<WrkResult>& v, double WrkResult::*f) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(r.*f);
    return median(x);
  };
  auto med_eff = [&](const std::vector<WrkResult>& v) {
    std::vector<double> x;
    for (const auto& r : v) x.push_back(r.per_cpu_second());
    return median(x);
  };
  if (o_.repeat > 1) {
    if (!hp.empty())
      std::printf("  haproxy median:         %9.0f req/s  p99 %7.3f ms  %.0f req per proxy cpu-s, over %d runs\n",
                  med(hp, &WrkResult::rps), med(hp, &WrkResult::p99_ms), med_eff(hp), o_.repeat);
    if (!cb.empty())
      std::printf("  corral-balancer median: %9.0f req/s  p99 %7.3f ms  %.0f req per proxy cpu-s, over %d runs\n",
                  med(cb, &WrkResult::rps), med(cb, &WrkResult::p99_ms), med_eff(cb), o_.repeat);
  }
  if (!hp.empty() && !cb.empty()) {
    double rps_ratio = med(cb, &WrkResult::rps) / std::max(1.0, med(hp, &WrkResult::rps));
    double p99_ratio = med(cb, &WrkResult::p99_ms) / std::max(1e-6, med(hp, &WrkResult::p99_ms));
    double eff_ratio = med_eff(cb) / std::max(1e-6, med_eff(hp));
    std::printf("  corral/haproxy (%s):   req/s %.2fx (target >= 1.0: %s), p99 %.2fx (target <= 1.1: %s); "
                "req per proxy cpu-s %.2fx\n",
                mode.c_str(), rps_ratio, rps_ratio >= 1.0 ? "met" : "NOT met", p99_ratio,
                p99_ratio <= 1.1 ? "met" : "NOT met", eff_ratio);
  }
  std::fflush(stdout);
  return true;
}

int Bench::run() {
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (!o_.pin) {
    o_.proxy_cpus.clear();
    o_.load_cpus.clear();
  } else if (o_.proxy_cpus.empty() && o_.load_cpus.empty() && cores > o_.threads) {
    o_.proxy_cpus = o_.threads == 1 ? "0" : "0-" + std::to_string(o_.threads - 1);
    o_.load_cpus = cores - 1 == o_.threads ? std::to_string(o_.threads)
                                           : std::to_string(o_.threads) + "-" + std::to_string(cores - 1);
  }
  if ((!o_.proxy_cpus.empty() || !o_.load_cpus.empty()) && t_.taskset.empty()) {
    std::fprintf(stderr, "lb_bench: taskset not found (apt-get install util-linux); pass --no-pin\n");
    return 2;
  }
  std::string error;
  if (!start_backends(&error)) {
    std::fprintf(stderr, "lb_bench: %s\n", error.c_str());
    return 1;
  }
  auto hv = corral::testing::run_command(t_.haproxy, {"-v"});
  std::string haproxy_version = first_line(hv.out);
  std::string ports;
  for (int p : backend_ports_) ports += (ports.empty() ? "" : ",") + std::to_string(p);
  std::printf("lb_bench: %d backends (one nginx, worker_processes %d, ports %s, body %s), proxy threads %d, "
              "wrk -t%d -c%d -d%ds --latency (warm-up %d s), %d run(s) per proxy and mode\n",
              o_.backends, o_.nginx_workers, ports.c_str(),
              o_.body_bytes > 0 ? (std::to_string(o_.body_bytes) + " B file").c_str() : "\"ok\\n\"", o_.threads,
              o_.wrk_threads, o_.connections, o_.duration, o_.warmup, o_.repeat);
  std::printf("  %s\n", haproxy_version.c_str());
  if (haproxy_version.find("version 2.6") == std::string::npos)
    std::printf("  WARNING: not HAProxy 2.6; the target compares against 2.6\n");
  if (o_.proxy_cpus.empty() && o_.load_cpus.empty())
    std::printf("  pinning: none (%ld cores shared by wrk, the proxy and nginx)\n", cores);
  else
    std::printf("  pinning: proxy on CPU %s, wrk and nginx on CPU %s (taskset), %ld cores\n",
                o_.proxy_cpus.empty() ? "any" : o_.proxy_cpus.c_str(),
                o_.load_cpus.empty() ? "any" : o_.load_cpus.c_str(), cores);
  double load[1] = {0};
  if (::getloadavg(load, 1) == 1) {
    std::printf("  load average before the run: %.2f on %ld cores\n", load[0], cores);
    if (load[0] > 0.5 * static_cast<double>(cores))
      std::printf("  WARNING: the machine is busy: other processes take CPU from wrk, the proxy and nginx, and\n"
                  "  req/s varies by up to +-30%% run to run; compare medians (--repeat) or use a quiet machine\n");
  }
  if (o_.only == "haproxy") std::printf("  corral-balancer: skipped (--only haproxy)\n");
  std::fflush(stdout);

  if (o_.direct) {
    if (o_.warmup > 0) wrk(backend_ports_[0], o_.warmup, nullptr);
    WrkResult r = wrk(backend_ports_[0], o_.duration, nullptr);
    if (!r.ok) {
      std::fprintf(stderr, "lb_bench: direct to nginx: %s\n", r.error.c_str());
      return 1;
    }
    std::printf("\nceiling, wrk straight to one nginx port (no proxy):\n");
    print_result("nginx direct", r);
  }
  std::vector<std::string> modes = o_.mode == "both" ? std::vector<std::string>{"http", "tcp"}
                                                     : std::vector<std::string>{o_.mode};
  for (const auto& mode : modes)
    if (!run_mode(mode)) return 1;
  if (nginx_ && !nginx_->running()) {
    std::fprintf(stderr, "lb_bench: nginx died during the run:\n%s\n", nginx_->logs().c_str());
    return 1;
  }
  if (::getloadavg(load, 1) == 1) std::printf("\nload average after the run: %.2f\n", load[0]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  auto options = parse_options(argc, argv);
  if (!options) {
    usage();
    return 2;
  }
  Tools tools{find_program("nginx"), find_program("haproxy"), find_program("wrk"), find_program("taskset")};
  std::vector<std::string> missing;
  if (tools.nginx.empty()) missing.push_back("nginx");
  if (tools.haproxy.empty()) missing.push_back("haproxy");
  if (tools.wrk.empty()) missing.push_back("wrk");
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += " " + m;
    std::fprintf(stderr,
                 "lb_bench: not found on PATH:%s\n  install: apt-get install nginx haproxy wrk"
                 "  (or: bash bench/install-bench-deps.sh)\n",
                 names.c_str());
    return 2;
  }
  if (options->only != "haproxy" && ::access(options->balancer_bin.c_str(), X_OK) != 0) {
    std::fprintf(stderr,
                 "lb_bench: corral-balancer not found at %s: build it (ninja -C build corral-balancer), "
                 "pass --balancer-bin PATH, or run --only haproxy\n",
                 options->balancer_bin.c_str());
    return 2;
  }

  // Children that outlive their parent (nginx's workers) are reparented to
  // us, so that the final sweep reaps them; signals kill every child.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  struct sigaction sa{};
  sa.sa_handler = on_fatal_signal;
  ::sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGALRM}) ::sigaction(sig, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // The whole run is bounded: each wrk run (warm-up + measured) plus start-up slack.
  const int modes = options->mode == "both" ? 2 : 1;
  const int runs = modes * 2 * options->repeat + 1;
  ::alarm(static_cast<unsigned>(runs * (options->duration + options->warmup + 40) + 60));
  // wrk and the proxies need a descriptor per connection.
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }

  int code;
  {
    Bench bench(*options, tools);
    code = bench.run();
  }  // the children stop here (SIGTERM, then SIGKILL)
  sweep_children();
  if (g_signal == SIGALRM) {
    std::fprintf(stderr, "lb_bench: the run overran its time budget; children stopped\n");
    return 1;
  }
  if (g_signal != 0) {
    std::fprintf(stderr, "lb_bench: interrupted (signal %d); children stopped\n", static_cast<int>(g_signal));
    return 128 + g_signal;
  }
  return code;
}
