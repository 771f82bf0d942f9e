#include "tests/support/http_backend.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cstring>

namespace corral::testing {

namespace {

std::string header_value(const std::string& head, const std::string& name) {
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  std::string key = "\r\n" + name + ":";
  size_t at = lower.find(key);
  if (at == std::string::npos) return "";
  size_t start = at + key.size();
  size_t end = head.find("\r\n", start);
  std::string v = head.substr(start, end - start);
  while (!v.empty() && v.front() == ' ') v.erase(v.begin());
  return v;
}

}  // namespace

HttpBackend::HttpBackend(std::string name) : name_(std::move(name)) {}

HttpBackend::~HttpBackend() { stop(); }

std::string HttpBackend::last_forwarded_for() const {
  std::lock_guard lock(mu_);
  return last_xff_;
}

void HttpBackend::serve(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  std::string buf;
  char chunk[4096];
  while (!stopping()) {
    size_t end = buf.find("\r\n\r\n");
    if (end == std::string::npos) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      // Not HTTP: echo (mode tcp tests).
      if (buf.size() >= 4 && buf.compare(0, 4, "GET ") != 0 && buf.compare(0, 4, "HEAD") != 0 &&
          buf.compare(0, 4, "POST") != 0) {
        if (!send_all(fd, name_ + ":" + buf)) break;
        buf.clear();
      }
      continue;
    }
    std::string head = buf.substr(0, end + 2);
    std::string body_len = header_value(head, "content-length");
    size_t need = end + 4 + (body_len.empty() ? 0 : std::stoul(body_len));
    if (buf.size() < need) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      buf.append(chunk, static_cast<size_t>(n));
      continue;
    }
    buf.erase(0, need);
    ++requests_;
    {
      std::lock_guard lock(mu_);
      last_xff_ = header_value(head, "x-forwarded-for");
    }
    if (hang_) {
      while (hang_ && !stopping()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      break;
    }
    if (int d = delay_ms_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(d));
    size_t sp1 = head.find(' ');
    size_t sp2 = head.find(' ', sp1 + 1);
    std::string path = head.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string body = name_ + " " + path + " xff=" + header_value(head, "x-forwarded-for") +
                       (body_len.empty() ? "" : " body=" + body_len) + "\n";
    bool close = header_value(head, "connection") == "close";
    std::string res;
    if (path.rfind("/chunked/", 0) == 0) {
      res = "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n" +
            std::string(close ? "Connection: close\r\n" : "") + "\r\n";
      size_t size = std::stoul(path.substr(9));
      for (size_t at = 0; at < size; at += 1000) {
        size_t n = std::min<size_t>(1000, size - at);
        char line[32];
        std::snprintf(line, sizeof line, "%zx\r\n", n);
        res += line;
        for (size_t i = 0; i < n; ++i) res += static_cast<char>('a' + (at + i) % 26);
        res += "\r\n";
      }
      res += "0\r\n\r\n";
    } else {
      res = "HTTP/1.1 " + std::to_string(status_.load()) + " X\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\nContent-Type: text/plain\r\n" +
            (close ? "Connection: close\r\n" : "") + "\r\n" + body;
    }
    if (!send_all(fd, res) || close) break;
  }
}

HttpResult http_get(const std::string& host_port, const std::string& path, const std::string& host_header,
                    int timeout_ms) {
  HttpResult out;
  int fd = connect_tcp(host_port);
  if (fd < 0) return out;
  std::string req = "GET " + path + " HTTP/1.1\r\nHost: " + (host_header.empty() ? host_port : host_header) +
                    "\r\nConnection: close\r\n\r\n";
  send_all(fd, req);
  std::string resp;
  char chunk[4096];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    resp.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  if (resp.rfind("HTTP/1.", 0) != 0 || resp.size() < 12) return out;
  out.status = std::stoi(resp.substr(9, 3));
  size_t body = resp.find("\r\n\r\n");
  if (body != std::string::npos) out.body = resp.substr(body + 4);
  return out;
}

}  // namespace corral::testing
