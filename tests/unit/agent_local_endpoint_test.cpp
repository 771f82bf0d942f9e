// The agent's local endpoint on a real loopback server (port 0).
#include <gtest/gtest.h>

#include <atomic>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include "agent/local_endpoint.h"
#include "agent/log_tail.h"
#include "api/heartbeat.h"
#include "api/json.h"
#include "api/kinds.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_local_endpoint_test {

// A loopback port nothing listens on: bound, then closed.
int closed_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class LocalEndpointTest : public ::testing::Test {
 protected:
  LocalEndpointTest() {
    std::filesystem::create_directories(dir_.path() / "logs");
    LocalEndpointOptions options;
    options.log_dir = dir_.path() / "logs";
    options.on_sync = [this] { ++syncs_; };
    endpoint_ = std::make_unique<LocalEndpoint>(options, registry_);
    auto started = endpoint_->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    client_ = std::make_unique<httplib::Client>(endpoint_->base_url());
  }

  ProbeResponse probe(const std::string& address) {
    ProbeRequest request;
    request.address = address;
    request.timeoutMs = 500;
    auto res = client_->Post("/v1/probe", to_json(request).dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, 200) << res->body;
    auto body = parse_json(res->body);
    EXPECT_TRUE(body.ok());
    auto response = from_json<ProbeResponse>(*body);
    EXPECT_TRUE(response.ok()) << res->body;
    return response ? *response : ProbeResponse{};
  }

  corral::testing::TempDir dir_;
  metrics::Registry registry_;
  std::atomic<int> syncs_{0};  // POST /v1/sync calls; before endpoint_, which calls it
  std::unique_ptr<LocalEndpoint> endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(LocalEndpointTest, BindsLoopbackAndAnswersHealthz) {
  EXPECT_EQ(endpoint_->address().rfind("127.0.0.1:", 0), 0u) << endpoint_->address();
  auto res = client_->Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
}

// Issue 14: httplib's default SO_REUSEPORT let a second agent bind the same
// port and answer half of the controller's probes and nudges.
TEST_F(LocalEndpointTest, ASecondEndpointCannotBindItsPortAndSaysWhichFlag) {
  const std::string address = endpoint_->address();
  LocalEndpointOptions options;
  options.log_dir = dir_.path() / "logs";
  options.port = std::stoi(address.substr(address.rfind(':') + 1));
  metrics::Registry registry;
  LocalEndpoint second(options, registry);
  auto started = second.start();
  ASSERT_FALSE(started.ok()) << "a second endpoint bound " << address;
  EXPECT_EQ(started.error().message, "--listen " + address + ": address already in use");
  for (int i = 0; i < 10; ++i) {
    auto res = client_->Get("/healthz");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
}

TEST_F(LocalEndpointTest, ServesMetrics) {
  registry_.counter("corral_agent_heartbeats_total", "Heartbeats.").with({}).inc(3);
  auto res = client_->Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("corral_agent_heartbeats_total 3"), std::string::npos) << res->body;
}

TEST_F(LocalEndpointTest, TailsAVmLog) {
  std::ofstream(dir_.path() / "logs" / "web-1.log") << "one\ntwo\nthree\n";
  auto res = client_->Get("/v1/logs/web-1?tailLines=2");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "two\nthree\n");
  res = client_->Get("/v1/logs/web-1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "one\ntwo\nthree\n");
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
}

TEST_F(LocalEndpointTest, UnknownVmLogIsANotFoundWithAMessage) {
  auto res = client_->Get("/v1/logs/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_NE(res->body.find("no log for vm/nope"), std::string::npos) << res->body;
  res = client_->Get("/v1/logs/Web_1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400) << "only VM names";
  res = client_->Get("/v1/logs/..%2F..%2Fetc%2Fpasswd");
  ASSERT_TRUE(res);
  EXPECT_NE(res->status, 200) << "never a path";
  res = client_->Get("/v1/logs/web-1?tailLines=-3");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST_F(LocalEndpointTest, ProbeReachesAHealthyPeer) {
  ProbeResponse r = probe(endpoint_->address());
  EXPECT_TRUE(r.reachable) << r.message;
}

TEST_F(LocalEndpointTest, ProbeOfAClosedPortIsUnreachableWithAReason) {
  const std::string address = "127.0.0.1:" + std::to_string(closed_port());
  ProbeResponse r = probe(address);
  EXPECT_FALSE(r.reachable);
  EXPECT_NE(r.message.find("GET http://" + address + "/healthz: "), std::string::npos) << r.message;
}

TEST_F(LocalEndpointTest, SyncNudgeReachesTheLoop) {
  auto res = client_->Post("/v1/sync", "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 202);
  EXPECT_EQ(syncs_.load(), 1);
}

TEST_F(LocalEndpointTest, ProbeRefusesAMalformedRequest) {
  auto res = client_->Post("/v1/probe", R"({"adress": "x"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_NE(res->body.find("adress"), std::string::npos) << res->body;
  ProbeResponse r = probe("127.0.0.1:");
  EXPECT_FALSE(r.reachable);
  EXPECT_NE(r.message.find("HOST:PORT"), std::string::npos) << r.message;
}

TEST(LogTail, LastLinesWithAndWithoutATrailingNewline) {
  corral::testing::TempDir dir;
  auto file = dir.path() / "a.log";
  std::ofstream(file) << "a\nb\nc";
  EXPECT_EQ(*tail_file(file, 1, 1 << 20), "c");
  EXPECT_EQ(*tail_file(file, 2, 1 << 20), "b\nc");
  EXPECT_EQ(*tail_file(file, 10, 1 << 20), "a\nb\nc");
  EXPECT_EQ(*tail_file(file, 0, 1 << 20), "");
  EXPECT_EQ(*tail_file(file, std::nullopt, 3), "b\nc") << "at most max_bytes from the end";
  EXPECT_EQ(tail_file(dir.path() / "none.log", 1, 1 << 20).error().code, ErrorCode::kNotFound);
}

TEST(LogTail, SinceReadsOnFromAnOffsetAndFromTheStartOfAReplacedFile) {
  corral::testing::TempDir dir;
  auto file = dir.path() / "a.log";
  std::ofstream(file) << "a\nb\nc";
  int64_t end = -1;
  EXPECT_EQ(*tail_file(file, 1, 1 << 20, &end), "c");
  EXPECT_EQ(end, 5) << "the file's size: where a follow goes on";
  auto rest = read_since(file, 2, 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->text, "b\nc");
  EXPECT_EQ(rest->start, 2);
  EXPECT_EQ(rest->end(), 5);
  EXPECT_EQ(read_since(file, 2, 2)->text, "b\n") << "at most max_bytes";
  EXPECT_EQ(read_since(file, 5, 1 << 20)->text, "") << "nothing new";
  auto replaced = read_since(file, 9, 1 << 20);
  EXPECT_EQ(replaced->start, 0) << "past the end: the file was replaced";
  EXPECT_EQ(replaced->text, "a\nb\nc");
  EXPECT_EQ(read_since(dir.path() / "none.log", 0, 1).error().code, ErrorCode::kNotFound);
}

TEST(LogTail, ReadsBackAcrossBlocks) {
  corral::testing::TempDir dir;
  auto file = dir.path() / "big.log";
  {
    std::ofstream out(file);
    for (int i = 0; i < 100000; ++i) out << "line " << i << "\n";
  }
  EXPECT_EQ(*tail_file(file, 2, 64 << 20), "line 99998\nline 99999\n");
  auto many = tail_file(file, 20000, 64 << 20);
  ASSERT_TRUE(many.ok());
  EXPECT_EQ(many->rfind("line 80000\n", 0), 0u);
}

}  // namespace agent_local_endpoint_test
}  // namespace corral::agent
