// A TCP server on 127.0.0.1 (a free port) that serves each connection on a
// thread of its own: the skeleton of the test backends (HttpBackend,
// SinkBackend). Test-only code: a thread per connection is simple and
// correct, not fast.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace corral::testing {

class LoopbackServer {
 public:
  LoopbackServer() = default;
  // Stops, as a safety net; a subclass must call stop() in its own
  // destructor, because serve() runs on threads that use its members.
  virtual ~LoopbackServer();
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  // Binds 127.0.0.1 on a free port and starts accepting; false (and why in
  // *error) when it cannot.
  bool start(std::string* error);
  // Stops accepting, shuts every open connection down and joins their
  // threads. Idempotent.
  void stop();
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }  // accepted so far

 protected:
  // Serves one connection until it ends or stopping(); the socket is closed
  // after it returns (a reset when a body was left unread: the peer sees the
  // failure at once).
  virtual void serve(int fd) = 0;
  bool stopping() const { return stop_.load(); }
  const std::atomic<bool>& stop_flag() const { return stop_; }

 private:
  void accept_loop();

  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::vector<int> open_fds_;         // guarded by mu_
  std::vector<std::thread> threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace corral::testing
