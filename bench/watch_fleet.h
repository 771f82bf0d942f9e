// WatchFleet: many watch streams read by one thread (epoll), for measuring
// the server's watch delivery rather than the client's. Each stream is a
// raw HTTP/1.1 connection; the reader scans what arrives for a marker
// `"<key>":"<seq>"` (an annotation the benchmark writes) and records, per
// stream and per seq, the first receipt's time since mark_sent(seq). No JSON
// parse, no thread per watcher: a thousand watchers cost the benchmark
// process one thread, so the figures are the controller's.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace corral::bench {

class WatchFleet {
 public:
  // `max_seq`: marks are 0 .. max_seq-1.
  WatchFleet(std::string key, int max_seq) : key_("\"" + std::move(key) + "\":\""), sent_(max_seq) {
    for (auto& s : sent_) s = 0;
  }
  ~WatchFleet() { stop(); }
  WatchFleet(const WatchFleet&) = delete;
  WatchFleet& operator=(const WatchFleet&) = delete;

  // Opens `count` watches of `target` (path and query) on 127.0.0.1:port and
  // starts reading. False (with *error) when a connection cannot be made.
  bool open(int port, const std::string& target, int count, std::string* error) {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) return fail(error, "epoll_create1");
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n";
    conns_.resize(static_cast<size_t>(count));
    for (size_t i = 0; i < conns_.size(); ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return fail(error, "socket");
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return fail(error, "connect");
      }
      conns_[i].fd = fd;
      conns_[i].seen.assign(sent_.size(), false);
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
        return fail(error, "send");
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) return fail(error, "epoll_ctl");
    }
    reader_ = std::thread([this] { read_loop(); });
    return true;
  }

  // Streams whose answer began "HTTP/1.1 200".
  int streaming() const { return streaming_.load(); }
  // Streams the server closed.
  int closed() const { return closed_.load(); }

  void mark_sent(int seq) {
    sent_[static_cast<size_t>(seq)].store(now_ns(), std::memory_order_release);
  }

  void stop() {
    stopping_ = true;
    if (reader_.joinable()) reader_.join();
    for (auto& c : conns_)
      if (c.fd >= 0) ::close(c.fd), c.fd = -1;
    if (epoll_ >= 0) ::close(epoll_), epoll_ = -1;
  }

  // Milliseconds from each mark_sent to each stream's first receipt of it.
  std::vector<double> latencies_ms() {
    std::lock_guard lock(mu_);
    return latencies_;
  }

 private:
  struct Conn {
    int fd = -1;
    bool head_seen = false;
    std::string tail;        // bytes not yet scanned to the end of a marker
    std::vector<bool> seen;  // per seq: counted already
  };

  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static bool fail(std::string* error, const char* what) {
    if (error) *error = std::string("watch fleet: ") + what + ": " + std::to_string(errno);
    return false;
  }

  void read_loop() {
    std::vector<epoll_event> events(256);
    std::vector<char> buf(1 << 16);
    while (!stopping_) {
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
      const int64_t now = now_ns();
      for (int k = 0; k < n; ++k) {
        Conn& c = conns_[events[static_cast<size_t>(k)].data.u64];
        const ssize_t got = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
        if (got <= 0) {
          if (got == 0 || (errno != EAGAIN && errno != EINTR)) {
            epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
            ++closed_;
          }
          continue;
        }
        c.tail.append(buf.data(), static_cast<size_t>(got));
        if (!c.head_seen && c.tail.size() >= 12) {
          c.head_seen = true;
          if (c.tail.compare(0, 12, "HTTP/1.1 200") == 0) ++streaming_;
        }
        scan(c, now);
      }
    }
  }

  // Records every complete marker in c.tail; keeps what may begin one.
  void scan(Conn& c, int64_t now) {
    size_t pos = 0;
    for (;;) {
      const size_t at = c.tail.find(key_, pos);
      if (at == std::string::npos) {
        const size_t keep = std::min(c.tail.size(), key_.size());
        c.tail.erase(0, c.tail.size() - keep);
        return;
      }
      const size_t digits = at + key_.size();
      const size_t end = c.tail.find('"', digits);
      if (end == std::string::npos) {
        c.tail.erase(0, at);
        return;
      }
      const long seq = std::strtol(c.tail.c_str() + digits, nullptr, 10);
      pos = end;
      if (seq < 0 || static_cast<size_t>(seq) >= sent_.size() || c.seen[static_cast<size_t>(seq)]) continue;
      const int64_t sent = sent_[static_cast<size_t>(seq)].load(std::memory_order_acquire);
      if (sent == 0) continue;  // an object marked by an earlier run's write
      c.seen[static_cast<size_t>(seq)] = true;
      std::lock_guard lock(mu_);
      latencies_.push_back(static_cast<double>(now - sent) / 1e6);
    }
  }

  const std::string key_;
  std::vector<std::atomic<int64_t>> sent_;
  std::vector<Conn> conns_;
  int epoll_ = -1;
  std::thread reader_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> streaming_{0};
  std::atomic<int> closed_{0};
  std::mutex mu_;
  std::vector<double> latencies_;
};

}  // namespace corral::bench
