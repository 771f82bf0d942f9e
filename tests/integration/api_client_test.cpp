// ApiClient (client/client.h) against a real HTTP server on loopback port 0:
// the bound on an answer's size, with and without a Content-Length.
#include <gtest/gtest.h>

#include <string>

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

}  // namespace api_client_test
}  // namespace corral::testing
