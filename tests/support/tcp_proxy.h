// A TCP proxy on loopback that a test can cut, to stage a network partition
// without privileges: everything that talks through it loses its connections
// at once (they are closed) and new ones are refused (the listening socket is
// closed too) until heal() binds the same port again.
//
// One thread multiplexes every connection with poll(); the target may be set
// after start (an agent's endpoint port is known only once it runs, but its
// advertised address — this proxy's — must be passed when it starts).
// Thread-safe: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace corral::testing {

class TcpProxy {
 public:
  // Listens on `host`:0 (loopback by default).
  explicit TcpProxy(std::string host = "127.0.0.1");
  ~TcpProxy();
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // Binds and starts forwarding; false with `error` set on failure.
  bool start(std::string* error);
  // Where accepted connections go; until set, they are closed at once.
  void set_target(const std::string& host, int port);
  int port() const { return port_; }
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  std::string url() const { return "http://" + address(); }

  // Closes every connection and the listening socket: connects are refused.
  void cut();
  // Listens again on the same port.
  void heal();

 private:
  void run();
  void wake();

  const std::string host_;
  int port_ = 0;
  int wake_pipe_[2] = {-1, -1};
  std::mutex mu_;
  std::string target_host_;  // guarded by mu_
  int target_port_ = 0;      // guarded by mu_
  std::atomic<bool> cut_{false};
  std::atomic<bool> stop_{false};
  int listen_fd_ = -1;  // owned by the thread once started
  std::thread thread_;
};

}  // namespace corral::testing
