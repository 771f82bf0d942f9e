// Slow clients time out: a client that never finishes its request headers
// (slowloris) is disconnected once the request-head deadline passes (1 s
// here), and other clients are served meanwhile.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace slow_client_test {

TEST(SlowClient, UnfinishedHeadersAreDroppedAfterTheHeadDeadline) {
  Harness h;
  server::ServerOptions options;
  options.request_head_timeout = std::chrono::seconds(1);
  ASSERT_TRUE(h.start("memory", options).ok());

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(h.port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // Half a request line, then silence.
  const std::string partial = "GET /apis/corral/v1/vms HTTP/1.1\r\nHost: x\r\n";
  ASSERT_EQ(send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));

  // Meanwhile everyone else is served.
  auto c = h.client();
  auto ok = c->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  // The server closes the slow connection; wait for it with a bounded, generous
  // deadline (~1 s expected): a recv that times out instead returns -1.
  timeval tv{60, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto start = std::chrono::steady_clock::now();
  char buf[512];
  ssize_t n = 0;
  do {
    n = recv(fd, buf, sizeof buf, 0);
  } while (n > 0);  // a 408/400 answer may come before the close
  auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  EXPECT_EQ(n, 0) << "the connection was not closed by the server (recv returned " << n << " after "
                   << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms)";
}

}  // namespace slow_client_test
}  // namespace corral::testing
