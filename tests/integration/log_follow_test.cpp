// GET vms/<name>/log?follow=true over real HTTP (controller/server/log_follow.h):
// a real Server, the agent behind a FakeAgentLogReader whose log grows. Lines
// written after the request reach the client; a deleted VM and an agent gone
// for its grace end the stream with a line saying why; the caps answer 429;
// and open follows hold no worker (the server here has one).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/integration/server_fixture.h"
#include "tests/unit/fake_agent_log_reader.h"

namespace corral::testing {
namespace log_follow_test {

using namespace std::chrono_literals;

// A log that grows under the test's hand and answers reads as an agent does
// (agent/local_endpoint.cpp): sinceBytes from the offset, with the offsets.
class SharedLog {
 public:
  void append(const std::string& text) {
    std::lock_guard lock(mu_);
    text_ += text;
  }
  Result<server::AgentReply> answer(const std::string& path) {
    std::lock_guard lock(mu_);
    const size_t at = path.find("sinceBytes=");
    const int64_t size = static_cast<int64_t>(text_.size());
    int64_t since = at == std::string::npos ? 0 : std::stoll(path.substr(at + 11));
    if (since > size) since = 0;
    server::AgentReply reply{200, text_.substr(since)};
    reply.start = since;
    reply.end = size;
    return reply;
  }

 private:
  std::mutex mu_;
  std::string text_;
};

// One client following a log on a thread of its own: the lines it got.
class Follower {
 public:
  Follower(int port, const std::string& vm) {
    thread_ = std::thread([this, port, vm] {
      ClientConfig config;
      config.server = "http://127.0.0.1:" + std::to_string(port);
      ApiClient client(config);
      auto r = client.stream_lines(
          "/apis/corral/v1/vms/" + vm + "/log?follow=true",
          [this](const std::string& line) {
            std::lock_guard lock(mu_);
            lines_.push_back(line);
            cv_.notify_all();
            return true;
          },
          60s);
      std::lock_guard lock(mu_);
      ended_ = true;
      error_ = r ? "" : r.error().message;
      cv_.notify_all();
    });
  }
  ~Follower() {
    if (thread_.joinable()) thread_.join();
  }
  // Waits (bounded) for a line equal to `line`, or for the end.
  bool wait_for_line(const std::string& line, std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
    });
  }
  bool wait_for_end(std::chrono::seconds timeout = 20s) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return ended_; });
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::string error() {
    std::lock_guard lock(mu_);
    return error_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;  // guarded by mu_
  bool ended_ = false;              // guarded by mu_
  std::string error_;               // guarded by mu_
  std::thread thread_;
};

class LogFollow : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions o;
    o.worker_threads = 1;  // follows must not hold it
    o.log_follow.interval = 50ms;
    o.log_follow.max_per_identity = 3;
    o.log_follow.max_total = 3;
    o.log_follow.agent_grace = 1000ms;
    ASSERT_TRUE(h_.start("memory", o).ok());
    reader_.answer = [this](const std::string& path) -> Result<server::AgentReply> {
      if (path.find("/v1/logs/dead") == 0 && dead_) return make_error(ErrorCode::kUnavailable, "Connection refused");
      return log_.answer(path);
    };
    h_.server->set_agent_log_reader(&reader_);
    for (const char* node : {"host-1", "host-2"}) {
      Json n = {{"apiVersion", "corral/v1"}, {"kind", "Node"}, {"metadata", {{"name", node}}}};
      ASSERT_TRUE(h_.store->create("Node", *normalize_object(n)).ok());
      auto stored = h_.store->get("Node", node);
      Json with_status = (*stored)->parse();
      with_status["status"]["address"] = std::string("127.0.0.1:4100");
      ASSERT_TRUE(h_.store->update_status("Node", with_status).ok());
    }
    ASSERT_TRUE(h_.store->create("VM", *normalize_object(vm("web-1", "host-1"))).ok());
    ASSERT_TRUE(h_.store->create("VM", *normalize_object(vm("dead", "host-2"))).ok());
  }

  Harness h_;
  FakeAgentLogReader reader_;
  SharedLog log_;
  std::atomic<bool> dead_{false};
};

TEST_F(LogFollow, StreamsWhatIsWrittenUntilTheVmIsDeletedAndHoldsNoWorker) {
  log_.append("before\n");
  Follower f(h_.port, "web-1");
  ASSERT_TRUE(f.wait_for_line("before")) << f.error();
  log_.append("after one\n");
  log_.append("after two\n");
  ASSERT_TRUE(f.wait_for_line("after two"));

  // Two more follows fill the server's three; the fourth is refused, and a
  // plain request still finds the one worker free.
  Follower g(h_.port, "web-1");
  Follower dead(h_.port, "dead");
  ASSERT_TRUE(g.wait_for_line("after two"));
  ASSERT_TRUE(dead.wait_for_line("after two"));
  auto c = h_.client();
  auto refused = c->Get("/apis/corral/v1/vms/web-1/log?follow=true");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429) << refused->body;
  EXPECT_EQ(refused->get_header_value("Retry-After"), "10");
  EXPECT_NE(refused->body.find("too many VM log follows: the server holds 3"), std::string::npos)
      << refused->body;
  auto listed = c->Get("/apis/corral/v1/vms");
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->status, 200);

  // A dead agent ends its follow with an error line once its grace passed.
  dead_ = true;
  ASSERT_TRUE(dead.wait_for_end());
  EXPECT_EQ(dead.lines().back(),
            "corral: follow ended: error: cannot reach agent of node/host-2 at 127.0.0.1:4100: "
            "Connection refused");

  ASSERT_TRUE(h_.store->remove("VM", "web-1", {}).ok());
  ASSERT_TRUE(f.wait_for_end());
  ASSERT_TRUE(g.wait_for_end());
  EXPECT_EQ(f.error(), "");
  EXPECT_EQ(f.lines(), (std::vector<std::string>{"before", "after one", "after two",
                                                 "corral: follow ended: vm/web-1 was deleted"}));
}

}  // namespace log_follow_test
}  // namespace corral::testing
