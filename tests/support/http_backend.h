// A tiny HTTP/1.1 server on 127.0.0.1 port 0 for data-plane tests: it answers
// every request with its own name (so a test sees which backend served it),
// keeps connections alive, and can be told to misbehave. It also echoes TCP
// (mode tcp tests): a connection whose first bytes are not an HTTP request
// line gets them back, prefixed with the name.
//
//   GET /anything        200, body "<name> <path> xff=<X-Forwarded-For>\n"
//                        (" body=<Content-Length>" before the newline when a body came)
//   GET /chunked/N       200, N bytes 'a'..'z' repeating, in chunks of 1000
//   set_hang(true)       accepts and reads, never answers (a hung backend)
//   set_status(503)      answers with that status
//   set_delay(ms)        waits before answering (a slow backend)
//   stop()               closes the listener and every connection (a dead host)
//
// One thread per connection: test-only code. Thread-safe.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/loopback_server.h"
#include "tests/support/raw_socket.h"

namespace corral::testing {

class HttpBackend final : public LoopbackServer {
 public:
  explicit HttpBackend(std::string name);
  ~HttpBackend() override;

  const std::string& name() const { return name_; }

  void set_hang(bool hang) { hang_ = hang; }
  void set_status(int status) { status_ = status; }
  void set_delay_ms(int ms) { delay_ms_ = ms; }
  int requests() const { return requests_.load(); }
  std::string last_forwarded_for() const;

 private:
  void serve(int fd) override;

  const std::string name_;
  std::atomic<bool> hang_{false};
  std::atomic<int> status_{200};
  std::atomic<int> delay_ms_{0};
  std::atomic<int> requests_{0};
  mutable std::mutex mu_;
  std::string last_xff_;              // guarded by mu_
};

// One blocking HTTP/1.1 exchange on a fresh connection: returns the status
// code (0 when the connection failed or no answer came within timeout_ms)
// and the body. The default timeout is generous (a loaded CI machine is slow,
// not broken); pass a shorter one only where a late answer is the failure.
struct HttpResult {
  int status = 0;
  std::string body;
};
HttpResult http_get(const std::string& host_port, const std::string& path,
                    const std::string& host_header = "", int timeout_ms = 30'000);

}  // namespace corral::testing
