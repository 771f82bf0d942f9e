#include "tests/support/tcp_proxy.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace corral::testing {

namespace {

int listen_on(const std::string& host, int port, int* bound_port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 128) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  *bound_port = ntohs(addr.sin_port);
  return fd;
}

int connect_to(const std::string& host, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Copies what is readable on `from` to `to`; false when either side is done.
bool pump(int from, int to) {
  char buf[65536];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return false;
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::send(to, buf + off, static_cast<size_t>(n - off), MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += w;
  }
  return true;
}

}  // namespace

TcpProxy::TcpProxy(std::string host) : host_(std::move(host)) {}

TcpProxy::~TcpProxy() {
  stop_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_pipe_)
    if (fd >= 0) ::close(fd);
}

bool TcpProxy::start(std::string* error) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  listen_fd_ = listen_on(host_, 0, &port_);
  if (listen_fd_ < 0) {
    *error = "cannot listen on " + host_ + ":0: " + std::strerror(errno);
    return false;
  }
  thread_ = std::thread([this] { run(); });
  return true;
}

void TcpProxy::set_target(const std::string& host, int port) {
  std::lock_guard lock(mu_);
  target_host_ = host;
  target_port_ = port;
}

void TcpProxy::cut() {
  cut_ = true;
  wake();
}

void TcpProxy::heal() {
  cut_ = false;
  wake();
}

void TcpProxy::wake() {
  if (wake_pipe_[1] >= 0) (void)!::write(wake_pipe_[1], "x", 1);
}

void TcpProxy::run() {
  struct Pair {
    int client;
    int upstream;
  };
  std::vector<Pair> pairs;
  auto close_all = [&] {
    for (const Pair& p : pairs) {
      ::close(p.client);
      ::close(p.upstream);
    }
    pairs.clear();
  };
  while (!stop_) {
    if (cut_ && listen_fd_ >= 0) {
      ::close(listen_fd_);
      listen_fd_ = -1;
      close_all();
    } else if (!cut_ && listen_fd_ < 0) {
      int bound = 0;
      listen_fd_ = listen_on(host_, port_, &bound);  // -1: tried again after the poll
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_pipe_[0], POLLIN, 0});
    if (listen_fd_ >= 0) fds.push_back({listen_fd_, POLLIN, 0});
    const size_t first_pair = fds.size();
    for (const Pair& p : pairs) {
      fds.push_back({p.client, POLLIN, 0});
      fds.push_back({p.upstream, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 100) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      char drain[64];
      while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
    }
    if (cut_) continue;  // closed at the top of the next turn
    if (listen_fd_ >= 0 && fds[1].revents & POLLIN) {
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client >= 0) {
        std::string host;
        int port = 0;
        {
          std::lock_guard lock(mu_);
          host = target_host_;
          port = target_port_;
        }
        int upstream = port > 0 ? connect_to(host, port) : -1;
        if (upstream < 0) {
          ::close(client);
        } else {
          pairs.push_back({client, upstream});
        }
      }
    }
    // Pairs added by this accept are not in `fds`: only the first ones are polled.
    std::vector<bool> done(pairs.size(), false);
    for (size_t i = 0; i * 2 + first_pair + 1 < fds.size() && i < done.size(); ++i) {
      const pollfd& c = fds[first_pair + 2 * i];
      const pollfd& u = fds[first_pair + 2 * i + 1];
      if (c.revents && !pump(pairs[i].client, pairs[i].upstream)) done[i] = true;
      if (!done[i] && u.revents && !pump(pairs[i].upstream, pairs[i].client)) done[i] = true;
    }
    std::vector<Pair> kept;
    for (size_t i = 0; i < pairs.size(); ++i) {
      if (done[i]) {
        ::close(pairs[i].client);
        ::close(pairs[i].upstream);
      } else {
        kept.push_back(pairs[i]);
      }
    }
    pairs = std::move(kept);
  }
  close_all();
}

}  // namespace corral::testing
