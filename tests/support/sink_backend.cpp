#include "tests/support/sink_backend.h"

#include "tests/support/raw_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace corral::testing {

namespace sink_backend {

// Reads from a socket into a buffer on demand; false once the peer is gone.
class Reader {
 public:
  Reader(int fd, const std::atomic<bool>& stop) : fd_(fd), stop_(stop) {}
  std::string buf;
  bool more() {
    char chunk[64 * 1024];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
      return true;
    }
    return false;
  }
  // One line without its CRLF.
  bool line(std::string* out) {
    size_t end;
    while ((end = buf.find("\r\n")) == std::string::npos)
      if (!more()) return false;
    *out = buf.substr(0, end);
    buf.erase(0, end + 2);
    return true;
  }

 private:
  int fd_;
  const std::atomic<bool>& stop_;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string header_value(const std::string& lower_head, const std::string& name) {
  const std::string key = "\r\n" + name + ":";
  size_t at = lower_head.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  std::string v = lower_head.substr(start, lower_head.find("\r\n", start) - start);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

}  // namespace sink_backend

uint64_t fnv1a(uint64_t h, std::string_view data) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

std::string sink_answer_body(uint64_t bytes, uint64_t fnv) {
  char line[80];
  std::snprintf(line, sizeof line, "bytes=%llu fnv=%016llx\n", static_cast<unsigned long long>(bytes),
                static_cast<unsigned long long>(fnv));
  return line;
}

SinkBackend::~SinkBackend() { stop(); }

void SinkBackend::serve(int fd) {
  namespace sb = sink_backend;
  sb::Reader in(fd, stop_flag());
  bool first = true;
  for (;;) {
    size_t end;
    while ((end = in.buf.find("\r\n\r\n")) == std::string::npos)
      if (!in.more()) return;
    if (first) request_connections_++;
    first = false;
    const std::string head = sb::lower(in.buf.substr(0, end + 2));
    in.buf.erase(0, end + 4);
    uint64_t bytes = 0, fnv = kFnvStart;
    const int64_t die_at = die_after_body_bytes_.load();
    // Hashes up to `n` buffered bytes; false when this connection must die.
    auto take = [&](size_t n) {
      n = std::min(n, in.buf.size());
      fnv = fnv1a(fnv, std::string_view(in.buf).substr(0, n));
      in.buf.erase(0, n);
      bytes += n;
      body_bytes_ += n;
      return die_at < 0 || bytes < static_cast<uint64_t>(die_at);
    };
    if (sb::header_value(head, "transfer-encoding") == "chunked") {
      for (;;) {
        std::string size_line;
        if (!in.line(&size_line)) return;
        uint64_t size = std::strtoull(size_line.c_str(), nullptr, 16);
        if (size == 0) {
          std::string trailer;
          do {
            if (!in.line(&trailer)) return;
          } while (!trailer.empty());
          break;
        }
        while (size > 0) {
          if (in.buf.empty() && !in.more()) return;
          size_t n = std::min<uint64_t>(size, in.buf.size());
          if (!take(n)) return;
          size -= n;
        }
        std::string crlf;
        if (!in.line(&crlf)) return;
      }
    } else {
      const std::string cl = sb::header_value(head, "content-length");
      uint64_t left = cl.empty() ? 0 : std::strtoull(cl.c_str(), nullptr, 10);
      while (left > 0) {
        if (in.buf.empty() && !in.more()) return;
        size_t n = std::min<uint64_t>(left, in.buf.size());
        if (!take(n)) return;
        left -= n;
      }
    }
    const std::string body = sink_answer_body(bytes, fnv);
    ++requests_;
    if (!send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body))
      return;
    if (close_after_answer_) return;
  }
}

}  // namespace corral::testing
