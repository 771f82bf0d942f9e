// The HTTP transport of the etcd client: libcurl, POST of a JSON body.
//
// Why not client/client.h's ApiClient: failover needs to know whether a failed
// request provably never left this process (connect refused, nothing sent),
// which ApiClient folds into one Unavailable; and a watch must be stoppable at
// once from another thread and bound its lines, which ApiClient's GET-only
// stream_lines does not offer. Both are small here; the error type is the same.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "base/error.h"

namespace corral::etcd {

// What came back from one POST: an HTTP answer, or a transport failure.
struct PostOutcome {
  bool answered = false;  // status and body are set; else error is
  int status = 0;
  std::string body;
  // A transport failure: kUnavailable, or kTimeout when the deadline passed;
  // the message says what failed, without the endpoint (the caller adds it).
  Error error;
  // True only when the request provably did not reach the server: the
  // connection was never made, or no byte of the request was sent. Only then
  // may a write be retried on another endpoint.
  bool not_sent = false;
};

// A pool of curl handles: each call takes one (keeping its open connections)
// and gives it back. Thread-safe: any number of threads may post at once.
class HttpPool {
 public:
  HttpPool(std::chrono::milliseconds connect_timeout, size_t max_response_bytes);
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  PostOutcome post(const std::string& url, const std::string& body, std::chrono::milliseconds timeout);

 private:
  void* take();
  void give_back(void* handle);

  const std::chrono::milliseconds connect_timeout_;
  const size_t max_response_bytes_;
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL*; guarded by mu_
};

// One streamed POST (a watch): newline-delimited answer lines handed to
// on_line as they arrive. run() is called by one thread; stop() by any.
class HttpStream {
 public:
  struct Options {
    std::chrono::milliseconds connect_timeout{1'000};
    // The longest line taken; past it run() fails with kTooLarge instead of
    // buffering without bound.
    size_t max_line_bytes = 64u << 20;
    // No byte for this long: run() fails with kTimeout. 0: wait forever (a
    // quiet watch is normal; use with progress notifications).
    std::chrono::milliseconds idle_timeout{0};
  };
  // on_line returns false to end the stream (run() then returns Ok).
  using LineHandler = std::function<bool(const std::string&)>;

  HttpStream();
  ~HttpStream();
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  // Blocks until the server closes the stream (Ok), on_line returns false
  // (Ok), stop() is called (Ok), or a failure: transport (kUnavailable,
  // `*not_sent` as PostOutcome's), a non-2xx answer (its body in
  // `*error_body`, the status in `*status`), a line too long, idle timeout.
  Result<void> run(const std::string& url, const std::string& body, const LineHandler& on_line,
                   const Options& options, int* status, std::string* error_body, bool* not_sent);
  // Makes run() return promptly (it wakes the poll at once). Thread-safe.
  void stop();
  bool stopped() const { return stop_.load(); }

 private:
  void* multi_ = nullptr;  // CURLM*, made in the constructor, so stop() may wake it any time
  std::atomic<bool> stop_{false};
};

}  // namespace corral::etcd
