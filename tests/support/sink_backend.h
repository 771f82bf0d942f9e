// An HTTP/1.1 backend that streams request bodies through a checksum and
// keeps none of them: for tests and benches that push large bodies through
// corral-balancer and must check that they arrived intact without holding
// them (20 × 30 MiB would be 600 MiB in the test process).
//
//   every request   200, body "bytes=<body bytes> fnv=<FNV-1a 64 of the body, hex>\n"
//                   (Content-Length or chunked bodies; chunked is decoded)
//   set_close_after_answer(true)   closes each connection after its answer,
//                                  without saying so: a pooled connection to
//                                  it goes stale (the proxy's resend path)
//   set_die_after_body_bytes(n)    closes a connection, unanswered, once n
//                                  bytes of a body came on it (n < 0: never)
//
// One thread per connection: test-only code. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "tests/support/loopback_server.h"

namespace corral::testing {

// FNV-1a, 64 bits, continued from `h` (start with kFnvStart).
constexpr uint64_t kFnvStart = 14695981039346656037ull;
uint64_t fnv1a(uint64_t h, std::string_view data);
// What SinkBackend answers for a body of `bytes` bytes with checksum `fnv`.
std::string sink_answer_body(uint64_t bytes, uint64_t fnv);

class SinkBackend final : public LoopbackServer {
 public:
  SinkBackend() = default;
  ~SinkBackend() override;

  void set_close_after_answer(bool v) { close_after_answer_ = v; }
  void set_die_after_body_bytes(int64_t n) { die_after_body_bytes_ = n; }
  int requests() const { return requests_.load(); }        // answered
  int request_connections() const { return request_connections_.load(); }  // that carried a request
  uint64_t body_bytes() const { return body_bytes_.load(); }  // received, all requests

 private:
  void serve(int fd) override;

  std::atomic<bool> close_after_answer_{false};
  std::atomic<int64_t> die_after_body_bytes_{-1};
  std::atomic<int> requests_{0};
  std::atomic<int> request_connections_{0};
  std::atomic<uint64_t> body_bytes_{0};
};

}  // namespace corral::testing
