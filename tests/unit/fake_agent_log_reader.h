// An AgentLogReader that answers from a table and records every read
// ("host-1 127.0.0.1:4100 /v1/logs/web-1?tailLines=5"), for tests of the
// API's log route (controller/server/vm_log.h). hold() makes every read wait
// until release(), so that a test can fill the in-flight cap without sleeping.
// Thread-safe: the route calls it from the server's workers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "controller/server/agent_log_reader.h"

namespace corral::testing {

class FakeAgentLogReader final : public server::AgentLogReader {
 public:
  // Set before the reads they are for.
  std::map<std::string, server::AgentReply> replies;  // address → answer (200 "" when absent)
  std::map<std::string, Error> failures;              // address → transport error
  // When set, answers every read instead of the tables: a log that grows
  // between a follow's polls (log_follow.h). Called under the fake's lock.
  std::function<Result<server::AgentReply>(const std::string& path_and_query)> answer;

  Result<server::AgentReply> read_log(const std::string& node, const std::string& address,
                                      const std::string& path_and_query) override {
    std::unique_lock lock(mu_);
    calls_.push_back(node + " " + address + " " + path_and_query);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !held_; });
    --waiting_;
    if (answer) return answer(path_and_query);
    if (auto it = failures.find(address); it != failures.end()) return it->second;
    if (auto it = replies.find(address); it != replies.end()) return it->second;
    return server::AgentReply{200, ""};
  }

  std::vector<std::string> calls() const {
    std::lock_guard lock(mu_);
    return calls_;
  }
  void hold() {
    std::lock_guard lock(mu_);
    held_ = true;
  }
  void release() {
    std::lock_guard lock(mu_);
    held_ = false;
    cv_.notify_all();
  }
  // Waits until `n` reads are inside read_log(); false after `timeout`.
  bool wait_for_reads_in_flight(size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;  // guarded by mu_
  size_t waiting_ = 0;              // reads inside read_log(); guarded by mu_
  bool held_ = false;               // guarded by mu_
};

}  // namespace corral::testing
