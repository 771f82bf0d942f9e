// Issue 14, "Two processes share one port, silently", at the API server:
// a second Server cannot bind a port another one listens on (cpp-httplib's
// default SO_REUSEPORT let it).
#include <gtest/gtest.h>

#include "api/json.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace exclusive_listen_test {

TEST(ExclusiveListen, ASecondServerCannotBindTheApiPortAndSaysWhichFlag) {
  Harness first;
  auto port = first.start("memory");
  ASSERT_TRUE(port.ok()) << port.error().to_string();

  RealClock clock;
  auto other = store::open_memory_store(clock);
  server::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = *port;
  server::Server second(*other, clock, options);
  auto started = second.start();
  ASSERT_FALSE(started.ok()) << "a second server bound 127.0.0.1:" << *port;
  EXPECT_EQ(started.error().message,
            "--listen 127.0.0.1:" + std::to_string(*port) + ": address already in use");
  // The first still answers every request.
  for (int i = 0; i < 10; ++i) {
    auto r = first.client()->Get("/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

}  // namespace exclusive_listen_test
}  // namespace corral::testing
