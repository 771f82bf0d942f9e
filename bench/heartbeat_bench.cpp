// Heartbeat capacity: many simulated agents heartbeating at 1 Hz against one
// real corral-controller (SQLite store), over real HTTP on loopback.
//
//   build/bench/heartbeat_bench [--agents 5000] [--seconds 30] [--threads 2]
//                               [--register-seconds 10] [--controller-cpu N --client-cpu M]
//                               [--vms-per-agent 0]
//
// One continuous run: agents register (first beat, creates the Node) spread
// over --register-seconds, then each beats once per second at its own phase
// offset; from 5 s after the last registration on, the beats due in the next
// --seconds are measured.
//
// The client is open loop: every beat has a due time fixed in advance (agent
// a's first at start + a/agents x --register-seconds, each later one 1 s after
// the one before, whatever happened to it), and its latency is counted from
// that due time to its complete answer, not from when it was sent. So a client
// or controller that falls behind shows in the latency instead of quietly
// lowering the offered rate (no coordinated omission). A beat sent more than
// 100 ms after its due time counts as "late": either the client was behind,
// or the agent's previous request was still unanswered — an agent sends one
// request at a time, so a beat due meanwhile goes out when that answer
// arrives. A failed request (connect or socket error, closed by the
// controller, no answer in 5 s, a status other than 200) counts as an error;
// the agent reconnects for its next beat. The run ends when every beat due
// before the end has been answered or has failed, or 10 s after the end: the
// beats still unanswered then are counted as errors, and said so.
// Prints the rate of measured beats sent, errors, late beats, p50/p99/max
// latency (from the due time; below it, from the send: the controller's part
// alone, what the closed-loop client before measured), the controller's CPU
// use and RSS, and the client's own CPU use (getrusage of this process, which
// the controller is not part of).
// Target (issue 4): 5,000 agents at 1 Hz, p99 <= 50 ms.
//
// --vms-per-agent K: once the agents registered, K VMs per agent are created
// on the API, each bound to its agent's node (spec.nodeName), so that every
// answer lists K VMs, as a host running K VMs is answered (issue 17: 10,000
// hosts and 300,000 VMs). The beats report no VM changes: a steady host's
// agent reports a VM only when its status changed.
//
// Each simulated agent registers on the API port (Connection: close), learns
// the heartbeat listener from the answer and keeps one connection to it, as a
// real agent does (agent/control_plane.h): 5,000 agents are 5,000 connections.
// The client is --threads event loops (epoll, non-blocking raw sockets; agent a
// belongs to loop a % threads), each with a min-heap of its agents' due beats,
// so that it costs little of the cores it shares with the controller: on the
// 2-core dev VM the figures include the client's own CPU use, which the
// "client:" line reports; --client-cpu and --controller-cpu pin the two to
// separate cores (taskset) to tell them apart.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "bench/bench_api.h"
#include "bench/bench_cluster.h"
#include "bench/bench_util.h"
#include "tests/support/cluster.h"

namespace {

using namespace std::chrono_literals;
using corral::Json;
using corral::bench::percentile;
using corral::bench::SteadyClock;
using Time = SteadyClock::time_point;

constexpr auto kBeatPeriod = 1s;
constexpr auto kLate = 100ms;         // a beat sent later than this after its due time is late
constexpr auto kRequestTimeout = 5s;  // from the request's start (connect) to its answer
constexpr auto kDrain = 10s;          // after the end, how long answers are waited for

std::string beat_body(int agent, bool first, std::mt19937& rng) {
  // Usage wobbles by less than the controller's 5 % persist threshold, as a
  // steady host's smoothed usage does. Formatted by hand: the client shares
  // the cores with the controller, so every microsecond it spends is one the
  // controller does not get.
  const int cpu_milli = 4000 + static_cast<int>(rng() % 200);
  const std::string time = corral::format_time(std::chrono::system_clock::now());
  char buf[768];
  std::snprintf(buf, sizeof buf,
                "{\"holderIdentity\":\"bench-node-%d/1-bench\",\"time\":\"%s\","
                "\"capacity\":{\"cpu\":\"16\",\"memory\":\"64Gi\"},"
                "\"allocatable\":{\"cpu\":\"16\",\"memory\":\"64Gi\"},"
                "\"usage\":{\"cpu\":\"%dm\",\"memory\":\"20Gi\"},"
                "\"address\":\"127.0.0.1:1\",\"driver\":\"sim\",\"agentVersion\":\"bench\","
                "\"fullReport\":%s%s}",
                agent, time.c_str(), cpu_milli, first ? "true" : "false",
                first ? (",\"labels\":{\"zone\":\"z" + std::to_string(agent % 3) + "\"}").c_str()
                      : "");
  return buf;
}

// "http://127.0.0.1:PORT" → its socket address.
bool parse_endpoint(const std::string& url, sockaddr_in* addr) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return false;
  const std::string hostport = url.substr(scheme + 3);
  const size_t colon = hostport.rfind(':');
  if (colon == std::string::npos) return false;
  *addr = sockaddr_in{};
  addr->sin_family = AF_INET;
  addr->sin_port = htons(static_cast<uint16_t>(std::stoi(hostport.substr(colon + 1))));
  return ::inet_pton(AF_INET, hostport.substr(0, colon).c_str(), &addr->sin_addr) == 1;
}

// Pins every thread of `pid` (and so the threads they start) to one CPU.
bool pin_process(pid_t pid, int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  const std::string tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& entry : std::filesystem::directory_iterator(tasks)) {
    const pid_t tid = std::stoi(entry.path().filename().string());
    if (::sched_setaffinity(tid, sizeof set, &set) != 0) {
      std::fprintf(stderr, "sched_setaffinity(%d, CPU %d): %s\n", tid, cpu, std::strerror(errno));
      return false;
    }
  }
  return true;
}

// This process's CPU time (all its threads: the client; the controller is
// another process), in seconds.
double self_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Case-insensitive: does `line` start with header `name` followed by ':'?
// Sets `value` to what follows, without leading blanks.
bool header_is(std::string_view line, std::string_view name, std::string_view* value) {
  if (line.size() <= name.size() || line[name.size()] != ':') return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != name[i]) return false;
  std::string_view rest = line.substr(name.size() + 1);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  *value = rest;
  return true;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

// What every client loop shares: the run's times and where to send.
struct Run {
  int agents = 0;
  int threads = 0;
  int register_seconds = 0;
  int vms_per_agent = 0;  // VMs every answer must list
  Time start, measure_from, end, deadline;
  sockaddr_in api{};  // the controller's API port
  // The heartbeat listener, from the first registration answer that names
  // one; written once (under mu) before have_listener is set.
  std::mutex mu;
  sockaddr_in listener{};
  std::atomic<bool> have_listener{false};

  bool measured(Time due) const { return due >= measure_from && due < end; }
};

// What one client loop counts; summed over the loops at the end. Beats count
// only when due in [measure_from, end), except `registered` and `idle_closes`.
struct Tally {
  std::vector<double> latencies;  // ms, answer complete - due time; 200s of later beats
  std::vector<double> from_send;  // ms, answer complete - send: the controller's part alone
  long sent = 0;
  long late = 0;
  long errors = 0;
  long unanswered = 0;  // of the errors: still unanswered at the deadline ...
  long never_sent = 0;  // ... of which never sent (behind an unanswered request)
  long registered = 0;
  long idle_closes = 0;  // kept connections the controller closed between beats (whole run)
  long answers_checked = 0;     // measured answers whose VMs were counted (one in 64)
  long answers_short = 0;       // ... that listed fewer than --vms-per-agent
  std::string first_short;      // the first of those
  std::string first_error;
};

// One event loop (one thread) driving its share of the simulated agents.
class ClientLoop {
 public:
  ClientLoop(Run& run, int index) : run_(run), rng_(static_cast<unsigned>(index)) {
    for (int a = index; a < run.agents; a += run.threads) {
      Agent agent;
      agent.id = a;
      agent.path = "/apis/corral/v1/nodes/bench-node-" + std::to_string(a) + "/heartbeat";
      agent.due = run.start +
                  std::chrono::microseconds(1'000'000LL * run.register_seconds * a / run.agents);
      agents_.push_back(std::move(agent));
    }
  }
  ~ClientLoop() {
    for (Agent& a : agents_) close_connection(a);
    if (epoll_ >= 0) ::close(epoll_);
  }

  // Until every beat due before the run's end is answered or failed, or the deadline.
  void run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      std::fprintf(stderr, "epoll_create1: %s\n", std::strerror(errno));
      std::exit(1);
    }
    for (size_t i = 0; i < agents_.size(); ++i)
      if (agents_[i].due < run_.end) heap_.push({agents_[i].due, i});
    std::vector<epoll_event> events(256);
    Time next_sweep = run_.start + 1s;
    for (;;) {
      Time now = SteadyClock::now();
      while (!heap_.empty() && heap_.top().when <= now) {
        const size_t i = heap_.top().agent;
        heap_.pop();
        advance(agents_[i], now);
      }
      if (now >= next_sweep) {
        sweep(now);
        next_sweep = now + 1s;
      }
      if ((heap_.empty() && in_flight_ == 0) || now >= run_.deadline) break;
      Time wake = std::min(next_sweep, run_.deadline);
      if (!heap_.empty()) wake = std::min(wake, heap_.top().when);
      const auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(wake - now);
      timespec timeout{};
      if (wait.count() > 0) {
        timeout.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
        timeout.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
      }
      int n =
          ::epoll_pwait2(epoll_, events.data(), static_cast<int>(events.size()), &timeout, nullptr);
      if (n < 0 && errno == ENOSYS) {  // before Linux 5.11: milliseconds, rounded up
        const long ms = static_cast<long>((wait.count() + 999'999) / 1'000'000);
        n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()),
                         static_cast<int>(std::max(0L, ms)));
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        std::fprintf(stderr, "epoll_pwait2: %s\n", std::strerror(errno));
        std::exit(1);
      }
      for (int e = 0; e < n; ++e) {
        const size_t i = static_cast<size_t>(events[e].data.u64 & 0xffffffffu);
        const uint32_t generation = static_cast<uint32_t>(events[e].data.u64 >> 32);
        Agent& a = agents_[i];
        if (a.fd < 0 || a.generation != generation) continue;  // a connection since closed
        on_event(a, events[e].events);
        if (!a.in_flight) advance(a, SteadyClock::now());
      }
    }
    // The deadline: what is still unanswered, or was never sent, is an error.
    for (Agent& a : agents_) {
      if (a.in_flight && a.request_measured) {
        ++tally_.errors;
        ++tally_.unanswered;
      }
      for (Time due = a.due; due < run_.end; due += kBeatPeriod) {
        if (!run_.measured(due)) continue;
        ++tally_.errors;
        ++tally_.unanswered;
        ++tally_.never_sent;
      }
    }
  }

  Tally& tally() { return tally_; }

 private:
  struct Agent {
    int id = 0;
    std::string path;
    Time due;  // of its next beat not yet sent
    bool registered = false;
    // The connection: to the listener and kept between beats, or to the API
    // port for one request (Connection: close).
    int fd = -1;
    uint32_t generation = 0;  // of the connection, in its epoll events
    bool kept = false;
    bool connecting = false;
    // The request in flight, one at a time.
    bool in_flight = false;
    Time request_due, request_start;
    bool request_registration = false;
    bool request_measured = false;
    std::string out;
    size_t written = 0;
    // Its answer, parsed as it arrives.
    std::string in;
    size_t header_end = std::string::npos;  // of "\r\n\r\n", once seen
    size_t body_length = 0;
    int status = 0;
    bool server_closes = false;
  };
  struct Due {
    Time when;
    size_t agent;
    bool operator>(const Due& o) const { return when > o.when; }
  };

  // Sends the agent's due beats while it has no request in flight: at once
  // those already due, else it waits in the heap for the next.
  void advance(Agent& a, Time now) {
    while (!a.in_flight && a.due < run_.end) {
      if (a.due > now) {
        heap_.push({a.due, static_cast<size_t>(&a - agents_.data())});
        return;
      }
      start_beat(a);
      now = SteadyClock::now();
    }
  }

  void start_beat(Agent& a) {
    const Time now = SteadyClock::now();
    const bool registration = !a.registered;
    const bool to_listener = !registration && run_.have_listener.load(std::memory_order_acquire);
    a.request_due = a.due;
    a.request_start = now;
    a.request_registration = registration;
    a.request_measured = run_.measured(a.due);
    a.due += kBeatPeriod;
    a.in_flight = true;
    ++in_flight_;
    if (a.request_measured) {
      ++tally_.sent;
      if (now - a.request_due > kLate) ++tally_.late;
    }
    const std::string body = beat_body(a.id, registration, rng_);
    a.out.clear();
    a.out += "POST ";
    a.out += a.path;
    a.out +=
        " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        "Accept: application/json\r\n";
    if (!to_listener) a.out += "Connection: close\r\n";
    a.out += "Content-Length: ";
    a.out += std::to_string(body.size());
    a.out += "\r\n\r\n";
    a.out += body;
    a.written = 0;
    a.in.clear();
    a.header_end = std::string::npos;
    a.body_length = 0;
    a.status = 0;
    a.server_closes = false;
    if (a.fd >= 0 && !(to_listener && a.kept)) close_connection(a);
    if (a.fd < 0 && !open_connection(a, to_listener ? run_.listener : run_.api, to_listener))
      return;
    if (!a.connecting) write_some(a);
  }

  bool open_connection(Agent& a, const sockaddr_in& addr, bool kept) {
    a.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (a.fd < 0) {
      fail(a, "socket", true);
      return false;
    }
    const int one = 1;
    ::setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    a.kept = kept;
    ++a.generation;
    // Edge-triggered, both directions, registered once: no epoll_ctl per request.
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 =
        (static_cast<uint64_t>(a.generation) << 32) | static_cast<uint64_t>(&a - agents_.data());
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, a.fd, &ev) != 0) {
      fail(a, "epoll_ctl", true);
      return false;
    }
    if (::connect(a.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
      a.connecting = false;
    } else if (errno == EINPROGRESS) {
      a.connecting = true;  // done when EPOLLOUT comes
    } else {
      fail(a, "connect", true);
      return false;
    }
    return true;
  }

  void close_connection(Agent& a) {
    if (a.fd >= 0) ::close(a.fd);  // also leaves the epoll set
    a.fd = -1;
    a.connecting = false;
  }

  void on_event(Agent& a, uint32_t events) {
    if (a.connecting) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(a.fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error != 0) {
        errno = error;
        fail(a, "connect", true);
        return;
      }
      a.connecting = false;
      if (a.in_flight && !write_some(a)) return;
    } else if ((events & EPOLLOUT) && a.in_flight && a.written < a.out.size()) {
      if (!write_some(a)) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) read_all(a);
  }

  // Writes what the socket takes; the rest when EPOLLOUT comes. False if it failed.
  bool write_some(Agent& a) {
    while (a.written < a.out.size()) {
      const ssize_t n =
          ::send(a.fd, a.out.data() + a.written, a.out.size() - a.written, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        fail(a, "send", true);
        return false;
      }
      a.written += static_cast<size_t>(n);
    }
    return true;
  }

  // Reads until the socket has no more (edge-triggered), parsing the answer.
  void read_all(Agent& a) {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(a.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (!a.in_flight) continue;  // nothing asked: ignore
        a.in.append(buf, static_cast<size_t>(n));
        if (!parse(a)) return;  // failed
        if (a.fd < 0) return;   // complete, and the connection closed (not kept)
        continue;
      }
      if (n == 0) {
        if (a.in_flight) {
          fail(a, "recv: closed by the server", false);
        } else {
          ++tally_.idle_closes;
          close_connection(a);
        }
        return;
      }
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EINTR) continue;
      if (a.in_flight) {
        fail(a, "recv", true);
      } else {
        ++tally_.idle_closes;
        close_connection(a);
      }
      return;
    }
  }

  // The answer so far: status line, headers (Content-Length, Connection), then
  // Content-Length bytes of body. Completes the request when all is there.
  // False if it failed.
  bool parse(Agent& a) {
    if (a.header_end == std::string::npos) {
      a.header_end = a.in.find("\r\n\r\n");
      if (a.header_end == std::string::npos) return true;
      const std::string_view head(a.in.data(), a.header_end);
      int status = -1;
      if (std::sscanf(a.in.c_str(), "HTTP/1.%*d %d", &status) != 1) {
        fail(a, ("malformed answer: " + a.in.substr(0, 80)).c_str(), false);
        return false;
      }
      a.status = status;
      size_t at = head.find("\r\n");
      while (at != std::string_view::npos && at < head.size()) {
        const size_t next = head.find("\r\n", at + 2);
        const std::string_view line =
            head.substr(at + 2, (next == std::string_view::npos ? head.size() : next) - at - 2);
        std::string_view value;
        if (header_is(line, "content-length", &value)) {
          a.body_length = std::strtoul(std::string(value).c_str(), nullptr, 10);
        } else if (header_is(line, "connection", &value)) {
          a.server_closes = equals_ignoring_case(value, "close");
        } else if (header_is(line, "transfer-encoding", &value)) {
          fail(a, "chunked answer: not handled by this client", false);
          return false;
        }
        at = next;
      }
    }
    if (a.in.size() < a.header_end + 4 + a.body_length) return true;
    complete(a);
    return true;
  }

  void complete(Agent& a) {
    const Time now = SteadyClock::now();
    const std::string_view body(a.in.data() + a.header_end + 4, a.body_length);
    finish_request(a);
    if (a.status == 200) {
      if (a.request_registration) {
        a.registered = true;
        ++tally_.registered;
        if (!run_.have_listener.load(std::memory_order_acquire)) learn_listener(body);
      } else if (a.request_measured) {
        tally_.latencies.push_back(
            std::chrono::duration<double, std::milli>(now - a.request_due).count());
        tally_.from_send.push_back(
            std::chrono::duration<double, std::milli>(now - a.request_start).count());
        // One answer in 64: does it list the agent's VMs? (Counting every
        // one would be client CPU taken from the controller.)
        if (run_.vms_per_agent > 0 && (tally_.latencies.size() & 63) == 0) {
          ++tally_.answers_checked;
          if (const int listed = listed_vms(body); listed < run_.vms_per_agent && tally_.answers_short++ == 0)
            tally_.first_short = a.path + " listed " + std::to_string(listed) + ": " +
                                 std::string(body.substr(0, 300));
        }
      }
    } else if (a.request_measured && tally_.errors++ == 0) {
      tally_.first_error = std::to_string(a.status) + " " + std::string(body.substr(0, 200));
    }
    if (!a.kept || a.server_closes) close_connection(a);
  }

  // BoundVm entries in an answer: each has one "restartPolicy".
  static int listed_vms(std::string_view body) {
    int n = 0;
    for (size_t at = body.find("\"restartPolicy\""); at != std::string_view::npos;
         at = body.find("\"restartPolicy\"", at + 1))
      ++n;
    return n;
  }

  void learn_listener(std::string_view body) {
    auto parsed = Json::parse(body, nullptr, false);
    if (!parsed.is_object() || parsed.value("heartbeatEndpoint", "") == "") return;
    std::lock_guard lock(run_.mu);
    if (!run_.have_listener && parse_endpoint(parsed["heartbeatEndpoint"], &run_.listener))
      run_.have_listener.store(true, std::memory_order_release);
  }

  // The request failed: an error (if measured), the connection closed; the
  // agent's next beat opens a new one. `use_errno`: append strerror(errno).
  void fail(Agent& a, const char* what, bool use_errno) {
    std::string why = what;
    if (use_errno) why += std::string(": ") + std::strerror(errno);
    close_connection(a);
    if (!a.in_flight) return;
    finish_request(a);
    if (a.request_measured && tally_.errors++ == 0) tally_.first_error = "-1 " + why;
  }

  void finish_request(Agent& a) {
    a.in_flight = false;
    --in_flight_;
  }

  // Once a second: requests with no answer after kRequestTimeout fail.
  void sweep(Time now) {
    for (Agent& a : agents_) {
      if (!a.in_flight || now - a.request_start < kRequestTimeout) continue;
      fail(a, "no answer in 5 s", false);
      advance(a, now);
    }
  }

  Run& run_;
  std::mt19937 rng_;
  std::vector<Agent> agents_;
  std::priority_queue<Due, std::vector<Due>, std::greater<Due>> heap_;
  int epoll_ = -1;
  long in_flight_ = 0;
  Tally tally_;
};

}  // namespace

int main(int argc, char** argv) {
  const int agents = corral::bench::int_flag(argc, argv, "--agents", 5000);
  const int seconds = corral::bench::int_flag(argc, argv, "--seconds", 30);
  const int threads = std::max(1, corral::bench::int_flag(argc, argv, "--threads", 2));
  {  // a descriptor per simulated agent
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
      limit.rlim_cur = limit.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &limit);
    }
  }
  const int register_seconds = corral::bench::int_flag(argc, argv, "--register-seconds", 10);
  const int controller_cpu = corral::bench::int_flag(argc, argv, "--controller-cpu", -1);
  const int client_cpu = corral::bench::int_flag(argc, argv, "--client-cpu", -1);
  const int vms_per_agent = std::max(0, corral::bench::int_flag(argc, argv, "--vms-per-agent", 0));

  corral::bench::LocalCluster cluster;  // the controller alone
  std::string error;
  // Every simulated agent connects from 127.0.0.1: the per-address cap (256)
  // is for real agents, one per host.
  if (!cluster.start(0, "", &error, {"--max-connections-per-address", "0"})) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  corral::testing::Controller& controller = *cluster.controller;
  const pid_t pid = controller.process()->pid();
  const std::string hostport = controller.url().substr(controller.url().find("://") + 3);
  const std::string host = hostport.substr(0, hostport.rfind(':'));
  const int port = std::stoi(hostport.substr(hostport.rfind(':') + 1));
  Run run;
  run.agents = agents;
  run.threads = threads;
  run.register_seconds = register_seconds;
  run.vms_per_agent = vms_per_agent;
  run.api.sin_family = AF_INET;
  run.api.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &run.api.sin_addr);
  std::printf(
      "heartbeat_bench: %d agents at 1 Hz for %d s from %d client threads (event loops, "
      "open loop); controller %s\n",
      agents, seconds, threads, controller.url().c_str());
  if (controller_cpu >= 0 && client_cpu >= 0) {
    if (!pin_process(pid, controller_cpu) || !pin_process(::getpid(), client_cpu)) return 1;
    std::printf("machine: %u cores; controller pinned to CPU %d, client to CPU %d\n\n",
                std::thread::hardware_concurrency(), controller_cpu, client_cpu);
  } else {
    std::printf("machine: %u cores (client and controller share them)\n\n",
                std::thread::hardware_concurrency());
  }

  // One continuous run, as agents live: agent a registers (its first beat, on
  // the API port) at start + a/agents x --register-seconds, then beats every
  // second on its kept listener connection. Beats due from
  // start + --register-seconds + 5 s on, for --seconds, are measured.
  auto create_vms = [&] {
    const int count = agents * vms_per_agent;
    int failed = 0;
    const double secs = corral::bench::create_objects(
        controller.url(), "vms", count, 16,
        [vms_per_agent](int i) {
          const int agent = i / vms_per_agent;
          return Json{{"apiVersion", "corral/v1"},
                      {"kind", "VM"},
                      {"metadata", {{"name", "vm-" + std::to_string(agent) + "-" + std::to_string(i % vms_per_agent)}}},
                      {"spec",
                       {{"resources", {{"cpu", "250m"}, {"memory", "256Mi"}}},
                        {"runtime", {{"driver", "sim"}}},
                        {"nodeName", "bench-node-" + std::to_string(agent)}}}};
        },
        &failed);
    std::printf("vms: %d VMs bound, %d per agent, created in %.1f s (%d failed)\n", count - failed,
                vms_per_agent, secs, failed);
  };
  // With VMs, they are created once every agent registered (bound to a node
  // that exists and beats: a VM bound to a node with no lease is Lost after
  // the grace), while the agents beat; the measured window starts after the
  // time that takes at 4,000 creates/s (acknowledged creates run at ~10,000/s
  // on the 2-core VM) and 5 s more.
  const auto creating = std::chrono::seconds(vms_per_agent > 0 ? agents * vms_per_agent / 4000 + 5 : 0);
  run.start = SteadyClock::now() + 200ms;
  run.measure_from = run.start + std::chrono::seconds(register_seconds + 5) + creating;
  run.end = run.measure_from + std::chrono::seconds(seconds);
  run.deadline = run.end + kDrain;

  std::vector<std::unique_ptr<ClientLoop>> loops;
  for (int t = 0; t < threads; ++t) loops.push_back(std::make_unique<ClientLoop>(run, t));
  std::vector<std::thread> pool;
  for (auto& loop : loops) pool.emplace_back([&loop] { loop->run(); });
  // CPU use over the measured window, both processes.
  if (vms_per_agent > 0) {
    std::this_thread::sleep_until(run.start + std::chrono::seconds(register_seconds + 1));
    create_vms();
    if (SteadyClock::now() > run.measure_from)
      std::printf("WARNING: the VMs were still being created when the measured window began\n");
  }
  std::this_thread::sleep_until(run.measure_from);
  const Time cpu_from = SteadyClock::now();
  const double controller_before = corral::bench::cpu_seconds(pid);
  const double client_before = self_cpu_seconds();
  std::this_thread::sleep_until(run.end);
  const double cpu_wall = std::chrono::duration<double>(SteadyClock::now() - cpu_from).count();
  const double controller_cpu_s = corral::bench::cpu_seconds(pid) - controller_before;
  const double client_cpu_s = self_cpu_seconds() - client_before;
  const long rss_mib = corral::bench::rss_kib(pid) / 1024;
  for (auto& th : pool) th.join();
  const double drain = std::chrono::duration<double>(SteadyClock::now() - run.end).count();

  Tally total;
  for (auto& loop : loops) {
    Tally& t = loop->tally();
    total.latencies.insert(total.latencies.end(), t.latencies.begin(), t.latencies.end());
    total.from_send.insert(total.from_send.end(), t.from_send.begin(), t.from_send.end());
    total.sent += t.sent;
    total.late += t.late;
    total.errors += t.errors;
    total.unanswered += t.unanswered;
    total.never_sent += t.never_sent;
    total.registered += t.registered;
    total.idle_closes += t.idle_closes;
    total.answers_checked += t.answers_checked;
    total.answers_short += t.answers_short;
    if (total.first_short.empty()) total.first_short = t.first_short;
    if (total.first_error.empty()) total.first_error = t.first_error;
  }
  const double wall = seconds;  // beats due in the window / its length = the rate sent
  std::printf("registered: %ld of %d agents over %d s (API port, a connection each)\n",
              total.registered, agents, register_seconds);
  std::printf("beats go to %s\n", run.have_listener
                                      ? "the heartbeat listener, one kept connection per agent"
                                      : "the API port (no listener named), a connection per beat");
  std::printf(
      "measured: %ld heartbeats in %.1f s = %.0f/s (offered %d/s), %ld errors, %ld sent >100 ms "
      "late%s%s\n",
      total.sent, wall, static_cast<double>(total.sent) / wall, agents, total.errors, total.late,
      total.first_error.empty() ? "" : ", first error: ", total.first_error.c_str());
  if (total.unanswered > 0)
    std::printf(
        "unanswered: %ld beats due in the window had no answer %.0f s after its end "
        "(%ld of them never sent, queued behind an unanswered request); counted as errors\n",
        total.unanswered, std::chrono::duration<double>(kDrain).count(), total.never_sent);
  if (total.idle_closes > 0)
    std::printf(
        "idle closes: the controller closed %ld kept connections between beats "
        "(reconnected at the next beat)\n",
        total.idle_closes);
  if (vms_per_agent > 0)
    std::printf("answers: %ld of %ld checked listed fewer than the agent's %d VMs%s%s\n",
                total.answers_short, total.answers_checked, vms_per_agent,
                total.first_short.empty() ? "" : "; the first: ", total.first_short.c_str());
  {
    // A node whose beats the controller missed past its grace is declared
    // NotReady and its VMs Lost (the controller logs each at warn): under
    // load that is a false fail-over, whatever the latency figures say.
    const std::string logs = controller.logs();
    long lost = 0;
    std::string first;
    for (size_t at = logs.find(" Lost: "); at != std::string::npos; at = logs.find(" Lost: ", at + 1)) {
      if (lost++ == 0) {
        const size_t from = logs.rfind('\n', at) + 1;
        first = logs.substr(from, logs.find('\n', at) - from);
      }
    }
    std::printf("fail-over: %ld VMs declared Lost in the whole run (registration included)%s%s\n", lost,
                first.empty() ? "" : "; the first: ", first.c_str());
  }
  std::printf(
      "latency:  p50 %.2f ms, p99 %.2f ms, max %.2f ms from the due time (target p99 <= 50 ms)\n",
      percentile(total.latencies, 0.5), percentile(total.latencies, 0.99),
      percentile(total.latencies, 1.0));
  std::printf("          p50 %.2f ms, p99 %.2f ms, max %.2f ms from the send (the controller's "
              "part: connect, if any, to answer)\n",
              percentile(total.from_send, 0.5), percentile(total.from_send, 0.99),
              percentile(total.from_send, 1.0));
  std::printf("controller: CPU %.0f%% of one core (%.1f s over %.1f s), RSS %ld MiB\n",
              100 * controller_cpu_s / cpu_wall, controller_cpu_s, cpu_wall, rss_mib);
  std::printf(
      "client: CPU %.0f%% of one core (%.1f s over %.1f s, %.0f%% of the %u cores), "
      "%d threads; answers drained %.1f s after the end\n",
      100 * client_cpu_s / cpu_wall, client_cpu_s, cpu_wall,
      100 * client_cpu_s / cpu_wall / std::max(1u, std::thread::hardware_concurrency()),
      std::thread::hardware_concurrency(), threads, drain);
  controller.stop();
  return 0;
}
