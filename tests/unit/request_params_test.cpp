// The list and watch query readers (controller/server/request.h) on targets
// as clients send them, through the same decoding as the server
// (set_target). Inputs found by fuzz_query are among them.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "controller/server/http_message.h"
#include "controller/server/request.h"

namespace corral::server {
namespace request_params_test {

using namespace std::chrono_literals;

HttpRequest target(const std::string& t) {
  HttpRequest req;
  set_target(req, t);
  return req;
}

TEST(RequestParams, TargetIsSplitIntoADecodedPathAndParameters) {
  auto req = target("/apis/corral/v1/vms%2Fx?labelSelector=app%3Dweb+x&watch=1&a&=b");
  EXPECT_EQ(req.path, "/apis/corral/v1/vms/x");
  EXPECT_EQ(req.get_param_value("labelSelector"), "app=web x");
  EXPECT_TRUE(wants_watch(req));
  EXPECT_TRUE(req.has_param("a"));
  EXPECT_EQ(req.get_param_value(""), "b");
}

TEST(RequestParams, ResourceVersionIsDigitsOnly) {
  EXPECT_EQ(*read_resource_version(target("/x?resourceVersion=42")), 42);
  EXPECT_EQ(*read_resource_version(target("/x?resourceVersion=")), 0);
  EXPECT_EQ(*read_resource_version(target("/x")), 0);
  // fuzz_query: from_chars read "-0" as 0.
  for (const char* bad : {"-0", "-1", "+1", " 1", "1 ", "0x10", "1e3", "99999999999999999999"}) {
    auto rv = read_resource_version(target(std::string("/x?resourceVersion=") + bad));
    ASSERT_FALSE(rv.ok()) << bad;
    EXPECT_EQ(rv.error().code, ErrorCode::kBadRequest) << bad;
    EXPECT_NE(rv.error().message.find("invalid resourceVersion"), std::string::npos);
  }
}

TEST(RequestParams, TimeoutIsDefaultedClampedAndNeverNegative) {
  EXPECT_EQ(*read_timeout_seconds(target("/x"), 300s, 1800s), 300s);
  EXPECT_EQ(*read_timeout_seconds(target("/x?timeoutSeconds=0"), 300s, 1800s), 300s);
  EXPECT_EQ(*read_timeout_seconds(target("/x?timeoutSeconds=5"), 300s, 1800s), 5s);
  EXPECT_EQ(*read_timeout_seconds(target("/x?timeoutSeconds=999999"), 300s, 1800s), 1800s);
  for (const char* bad : {"-0", "-5", "", "5s", "1.5"})
    EXPECT_FALSE(read_timeout_seconds(target(std::string("/x?timeoutSeconds=") + bad), 300s, 1800s).ok())
        << bad;
}

}  // namespace request_params_test
}  // namespace corral::server
