// ApiClient (client/client.h) against a real HTTP server on loopback port 0:
// the bound on an answer's size, with and without a Content-Length.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "client/client.h"
#include "tests/support/http_backend.h"

namespace corral::testing {
namespace api_client_test {

class ApiClientBound : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(backend_.start(&error)) << error;
  }
  Result<HttpResponse> get(const std::string& path, size_t max_response_bytes) {
    ClientConfig config;
    config.server = "http://" + backend_.address();
    config.max_response_bytes = max_response_bytes;
    ApiClient client(config);
    return client.request("GET", path);
  }

  HttpBackend backend_{"b1"};
};

TEST_F(ApiClientBound, AChunkedAnswerPastTheBoundIsCutAndTooLarge) {
  auto r = get("/chunked/50000", 10'000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge);
  EXPECT_NE(r.error().message.find("answered GET /chunked/50000 with more than 10000 bytes"),
            std::string::npos)
      << r.error().message;
}

TEST_F(ApiClientBound, AnAnswerDeclaringALongerContentLengthIsTooLarge) {
  auto r = get("/a-path-long-enough", 10);  // the backend's answer names the path: > 10 bytes
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge) << r.error().message;
}

TEST_F(ApiClientBound, AnswersUpToTheBoundAndUnboundedOnesAreWhole) {
  auto at = get("/chunked/10000", 10'000);
  ASSERT_TRUE(at.ok()) << at.error().message;
  EXPECT_EQ(at->body.size(), 10'000u);
  auto unbounded = get("/chunked/50000", 0);
  ASSERT_TRUE(unbounded.ok()) << unbounded.error().message;
  EXPECT_EQ(unbounded->body.size(), 50'000u);
}

// Several servers (the controllers of one cluster, issue 16): a request
// that cannot reach one moves to the next, and stays there.
class ApiClientServers : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(live_.start(&error)) << error;
    ASSERT_TRUE(gone_.start(&error)) << error;
    gone_.stop();  // its port now refuses connections
  }
  std::string url(const HttpBackend& b) const { return "http://" + b.address(); }

  HttpBackend live_{"live"};
  HttpBackend gone_{"gone"};
};

TEST_F(ApiClientServers, AnUnreachableServerIsSkippedForReadsAndWrites) {
  ClientConfig config;
  config.server = url(gone_) + "/, " + url(live_);
  ApiClient client(config);
  EXPECT_EQ(client.config().server, url(gone_) + "," + url(live_));
  auto got = client.request("GET", "/a");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got->body.rfind("live /a", 0), 0u) << got->body;
  EXPECT_EQ(client.server(), url(live_)) << "the one that answered is tried first from now on";
  // A write whose connection was refused never reached a server: it moves on too.
  ApiClient fresh(config);
  auto posted = fresh.request("POST", "/b", "{}");
  ASSERT_TRUE(posted.ok()) << posted.error().message;
  EXPECT_EQ(live_.requests(), 2);
}

TEST_F(ApiClientServers, AWriteThatMayHaveArrivedIsNotSentToAnother) {
  HttpBackend hung("hung");
  std::string error;
  ASSERT_TRUE(hung.start(&error)) << error;
  hung.set_hang(true);
  ClientConfig config;
  config.server = url(hung) + "," + url(live_);
  config.timeout = std::chrono::milliseconds(300);
  ApiClient client(config);
  auto posted = client.request("POST", "/create", "{}");
  ASSERT_FALSE(posted.ok());
  EXPECT_EQ(posted.error().code, ErrorCode::kTimeout) << posted.error().message;
  EXPECT_EQ(live_.requests(), 0) << "a write that may have been applied is never sent twice";
  // A read is safe to send again: it moves on.
  auto got = client.request("GET", "/read");
  ASSERT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(live_.requests(), 1);
  hung.set_hang(false);
}

TEST_F(ApiClientServers, NoServerAnsweringNamesThemAll) {
  HttpBackend also_gone("also");
  std::string error;
  ASSERT_TRUE(also_gone.start(&error)) << error;
  also_gone.stop();
  ClientConfig config;
  config.server = url(gone_) + "," + url(also_gone);
  ApiClient client(config);
  auto r = client.request("GET", "/x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(r.error().message.find("no server answered (tried " + url(gone_) + ", " +
                                   url(also_gone) + ")"),
            std::string::npos)
      << r.error().message;
}

TEST_F(ApiClientServers, AStreamMovesOnOnlyBeforeItsFirstLine) {
  ClientConfig config;
  config.server = url(gone_) + "," + url(live_);
  ApiClient client(config);
  std::vector<std::string> lines;
  auto r = client.stream_lines(
      "/watch", [&](const std::string& line) { lines.push_back(line); return true; },
      std::chrono::seconds(5));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].rfind("live /watch", 0), 0u) << lines[0];
}

}  // namespace api_client_test
}  // namespace corral::testing
