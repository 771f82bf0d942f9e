// HttpAgentLogReader (controller/loops/agent_log_reader.h) against a real
// agent endpoint (agent/local_endpoint.h) on loopback port 0 that takes only
// signed calls: what the controller's log route reads through. Both sides
// read one FakeClock, so signatures are judged at the same time.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "agent/endpoint_guard.h"
#include "agent/local_endpoint.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "client/agent_auth.h"
#include "client/client.h"
#include "controller/loops/agent_log_reader.h"
#include "controller/loops/agent_signer.h"
#include "tests/support/http_backend.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {
namespace agent_log_reader_test {

using std::chrono::milliseconds;

const std::string kMaster(64, 'b');

agent::EndpointGuardOptions signed_guard(const std::string& node) {
  agent::EndpointGuardOptions o;
  o.node = node;
  o.mode = agent::EndpointGuardOptions::Mode::kSigned;
  return o;
}

// The agent of node "host-1", with its key from kMaster, and one log.
class AgentLogReaderTest : public ::testing::Test {
 protected:
  AgentLogReaderTest() : guard_(signed_guard("host-1"), clock_), signer_(kMaster, clock_) {
    std::filesystem::create_directories(dir_.path() / "logs");
    std::ofstream(dir_.path() / "logs" / "web-1.log") << "one\ntwo\nthree\n";
    guard_.set_key(derive_agent_key(kMaster, "host-1"));
    agent::LocalEndpointOptions o;
    o.log_dir = dir_.path() / "logs";
    o.guard = &guard_;
    o.clock = &clock_;
    endpoint_ = std::make_unique<agent::LocalEndpoint>(o, registry_);
    auto started = endpoint_->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
  }

  TempDir dir_;
  FakeClock clock_;
  agent::EndpointGuard guard_;
  loops::AgentSigner signer_;
  metrics::Registry registry_;
  std::unique_ptr<agent::LocalEndpoint> endpoint_;
};

TEST_F(AgentLogReaderTest, ReadsTheLogSignedWithTheNodesKey) {
  loops::HttpAgentLogReader reader(&signer_);
  auto all = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-1");
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_EQ(all->status, 200) << all->body;
  EXPECT_EQ(all->body, "one\ntwo\nthree\n");
  auto tail = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-1?tailLines=1");
  ASSERT_TRUE(tail.ok()) << tail.error().message;
  EXPECT_EQ(tail->body, "three\n");
}

// A follow's polls (controller/server/log_follow.h): each answer carries the
// log's offsets, sinceBytes reads on from one, and a replaced file is read
// from its start, which the start offset tells.
TEST_F(AgentLogReaderTest, ReadsCarryTheLogsOffsetsAndSinceBytesReadsOnFromOne) {
  loops::HttpAgentLogReader reader(&signer_);
  // "status body [start,end)" of the answer to /v1/logs/web-1<query>.
  auto read = [&](const std::string& query) {
    auto r = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-1" + query);
    if (!r) return "error: " + r.error().message;
    return std::to_string(r->status) + " " + r->body + " [" + std::to_string(r->start) + "," +
           std::to_string(r->end) + ")";
  };
  EXPECT_EQ(read("?tailLines=1"), "200 three\n [8,14)");
  EXPECT_EQ(read("?sinceBytes=14"), "200  [14,14)") << "nothing new";
  std::ofstream(dir_.path() / "logs" / "web-1.log", std::ios::app) << "four\nfive\n";
  EXPECT_EQ(read("?sinceBytes=14&limitBytes=5"), "200 four\n [14,19)");
  std::ofstream(dir_.path() / "logs" / "web-1.log", std::ios::trunc) << "new\n";
  EXPECT_EQ(read("?sinceBytes=19"), "200 new\n [0,4)") << "replaced: read from its start";
  EXPECT_EQ(read("?sinceBytes=-1"), "400 sinceBytes must be a non-negative integer, not \"-1\"\n [-1,-1)")
      << "an error answer carries no offsets";
}

TEST_F(AgentLogReaderTest, TheSameReadTwiceInOneSecondIsNoReplay) {
  // Same node, path and second: only the nonce tells the two signatures apart.
  loops::HttpAgentLogReader reader(&signer_);
  for (int i = 0; i < 3; ++i) {
    auto r = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-1?tailLines=2");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 200) << "read " << i << ": " << r->body;
    EXPECT_EQ(r->body, "two\nthree\n");
  }
}

// The same holds for every signed call, not only log reads: two nudges of one
// node in one second (this agent takes no sync requests, so a call the guard
// let through reads 404, a replay 401).
TEST_F(AgentLogReaderTest, LikeSignedCallsInOneSecondAreNoReplays) {
  std::string first_target;
  for (int i = 0; i < 2; ++i) {
    loops::SignedCall call = signer_.sign("host-1", "POST", "/v1/sync", "{}");
    if (i == 0) {
      first_target = call.target;
    } else {
      EXPECT_NE(call.target, first_target);
    }
    EXPECT_EQ(call.target.rfind("/v1/sync?nonce=", 0), 0u) << call.target;
    ClientConfig config;
    config.server = "http://" + endpoint_->address();
    config.headers = call.headers;
    ApiClient client(config);
    auto r = client.request("POST", call.target, "{}");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 404) << "call " << i << ": " << r->body;
  }
  const loops::AgentSigner unsigned_signer("", clock_);
  loops::SignedCall plain = unsigned_signer.sign("host-1", "POST", "/v1/sync", "{}");
  EXPECT_EQ(plain.target, "/v1/sync");
  EXPECT_TRUE(plain.headers.empty());
}

TEST_F(AgentLogReaderTest, AnAgentsRefusalIsAReplyNotAnError) {
  // Another controller's key, and no signature at all: the agent's 401, as it said it.
  const loops::AgentSigner stranger(std::string(64, 'c'), clock_);
  for (const loops::AgentSigner* signer :
       {&stranger, static_cast<const loops::AgentSigner*>(nullptr)}) {
    loops::HttpAgentLogReader reader(signer);
    auto r = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-1");
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->status, 401) << r->body;
  }
  loops::HttpAgentLogReader reader(&signer_);
  auto missing = reader.read_log("host-1", endpoint_->address(), "/v1/logs/web-2");
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->body.find("no log for vm/web-2"), std::string::npos) << missing->body;
}

TEST_F(AgentLogReaderTest, AnAnswerPastTheBoundIsCutAndTooLarge) {
  std::ofstream(dir_.path() / "logs" / "big.log") << std::string(100'000, 'x');
  loops::AgentLogReaderOptions o;
  o.max_reply_bytes = 10'000;
  loops::HttpAgentLogReader reader(&signer_, o);
  auto r = reader.read_log("host-1", endpoint_->address(), "/v1/logs/big");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_EQ(r.error().message,
            "its answer is longer than 10000 bytes, the most the controller relays (an agent "
            "serves at most 16 MiB of a log)");
}

TEST_F(AgentLogReaderTest, TransportFailuresKeepOnlyTheDetail) {
  const std::string address = endpoint_->address();
  endpoint_->stop();
  loops::HttpAgentLogReader reader(&signer_);
  auto refused = reader.read_log("host-1", address, "/v1/logs/web-1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(refused.error().message.find("cannot reach"), std::string::npos)
      << refused.error().message;

  HttpBackend hung("hung");
  std::string error;
  ASSERT_TRUE(hung.start(&error)) << error;
  hung.set_hang(true);
  loops::AgentLogReaderOptions o;
  o.timeout = milliseconds(300);
  loops::HttpAgentLogReader impatient(&signer_, o);
  auto timed_out = impatient.read_log("host-1", hung.address(), "/v1/logs/web-1");
  hung.set_hang(false);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, ErrorCode::kTimeout) << timed_out.error().message;
}

}  // namespace agent_log_reader_test
}  // namespace corral::testing
