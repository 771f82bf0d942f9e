// Hostile requests to the API port (issue 15.1): each test is one attack seen
// against eff0f5d, and asserts the safe answer. The requests are written on a
// raw socket, byte by byte as an attacker would, because the point is what the
// server does before the request is complete.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tests/integration/server_fixture.h"
#include "tests/support/raw_socket.h"

namespace corral::testing {
namespace api_request_head_integration_test {

constexpr const char* kTokens = "admin-token,root,admin\nview-token,viewer,viewer\n";
constexpr const char* kVMs = "/apis/corral/v1/vms";

class HostileRequestTest : public ::testing::Test {
 protected:
  void start(bool with_tokens, size_t watches_per_identity = 64) {
    server::ServerOptions o;
    o.max_watches_per_identity = watches_per_identity;
    if (with_tokens) o.tokens_file = write_file(h_.dir, "tokens.csv", kTokens);
    o.max_body_bytes = 64 * 1024;
    auto port = h_.start("memory", o);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
  }
  size_t stored_vms() { return h_.backend->list("VM", {})->items.size(); }

  Harness h_;
};

// Seen: an unauthenticated chunked body of 8 MiB was read whole before the
// 401. Now the head alone is answered: the client sends the head and one
// chunk, sends nothing more, and still gets its 401 and a closed connection.
TEST_F(HostileRequestTest, UnauthenticatedBodyIsRefusedOnTheHeadBeforeItIsRead) {
  start(true);
  for (const char* framing : {"Transfer-Encoding: chunked\r\n", "Content-Length: 8388608\r\n"}) {
    RawConnection c(h_.port);
    ASSERT_TRUE(c.connected());
    std::string head = std::string("POST ") + kVMs + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + framing +
                       "Content-Type: application/json\r\n\r\n";
    const bool chunked = std::string(framing).find("chunked") != std::string::npos;
    ASSERT_TRUE(c.send_all(head + (chunked ? chunk(std::string(1024, 'x')) : "{\"kind\":")));
    const std::string answer = c.read_until_close();
    EXPECT_EQ(status_of(answer), 401) << framing << answer;
    EXPECT_TRUE(c.closed()) << "the unread body must not be parsed as the next request";
  }
  EXPECT_EQ(stored_vms(), 0u);
}

// Seen: a 5 MiB chunked body was accepted (httplib 0.11 caps only bodies
// with a Content-Length, CVE-2025-46728). Now the cap holds for chunked
// bodies: 413 once the cap is passed, without waiting for the rest.
TEST_F(HostileRequestTest, ChunkedBodyOverTheCapIs413AtTheCap) {
  start(true);
  RawConnection c(h_.port);
  ASSERT_TRUE(c.connected());
  std::string request = std::string("POST ") + kVMs +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer admin-token\r\n"
                        "Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n";
  // 80 KiB in 8 KiB chunks against a 64 KiB cap; the final chunk never comes.
  for (int i = 0; i < 10; ++i) request += chunk(std::string(8192, ' '));
  ASSERT_TRUE(c.send_all(request));
  const std::string answer = c.read_until_close();
  EXPECT_EQ(status_of(answer), 413) << answer;
  EXPECT_NE(answer.find("65536"), std::string::npos) << answer;
  EXPECT_TRUE(c.closed());
  EXPECT_EQ(stored_vms(), 0u);
}

// Seen: a 16 KiB gzip body was inflated to 16 MiB and stored. Compressed
// request bodies are refused on the head.
TEST_F(HostileRequestTest, CompressedBodyIs415) {
  start(true);
  auto c = h_.client("admin-token");
  httplib::Headers headers{{"Content-Encoding", "gzip"}};
  auto r = c->Post(kVMs, headers, std::string(16 * 1024, '\x1f'), "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 415) << r->body;
  EXPECT_NE(r->body.find("Content-Encoding"), std::string::npos) << r->body;
  EXPECT_EQ(stored_vms(), 0u);
}

// Seen: a POST without Content-Type was accepted as JSON (a browser form can
// send one). Now 415, before the body is read.
TEST_F(HostileRequestTest, BodyWithoutJsonContentTypeIs415) {
  start(true);
  for (const char* type : {"", "text/plain", "application/x-www-form-urlencoded"}) {
    RawConnection c(h_.port);
    ASSERT_TRUE(c.connected());
    const std::string body =
        R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"x"},"spec":{}})";
    std::string head = std::string("POST ") + kVMs +
                       " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer admin-token\r\n" +
                       (*type ? std::string("Content-Type: ") + type + "\r\n" : "") +
                       "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    ASSERT_TRUE(c.send_all(head + body));
    const std::string answer = c.read_until_close();
    EXPECT_EQ(status_of(answer), 415) << "Content-Type '" << type << "': " << answer;
  }
  EXPECT_EQ(stored_vms(), 0u);
}

// Without tokens every local client is an admin; a web page in a local
// browser must not be one. A cross-site request carries an Origin; DNS
// rebinding sends a Host that is not a loopback name. Local tools send
// neither and are served.
TEST_F(HostileRequestTest, WithoutTokensWebPagesAndForeignHostsAre403) {
  start(false);
  auto c = h_.client("");
  const std::string body = R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"x"},)"
                           R"("spec":{"resources":{"cpu":"1","memory":"1Gi"}}})";
  auto from_page = c->Post(kVMs, {{"Origin", "https://evil.example"}}, body, "application/json");
  ASSERT_TRUE(from_page);
  EXPECT_EQ(from_page->status, 403) << from_page->body;
  EXPECT_NE(from_page->body.find("Origin"), std::string::npos);
  auto rebound = c->Get(kVMs, {{"Host", "evil.example:7443"}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403) << rebound->body;
  EXPECT_NE(rebound->body.find("DNS rebinding"), std::string::npos);
  EXPECT_EQ(stored_vms(), 0u);
  auto local = h_.client("")->Get(kVMs);
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200) << "127.0.0.1 as Host, no Origin: a local tool";
}

// Each open watch holds a worker thread: one identity opening watches
// without end would take them all. Past its share: 429 with Retry-After;
// other identities are still served, and a slot comes back when a watch ends.
TEST_F(HostileRequestTest, WatchesPastAnIdentitysShareAre429) {
  start(true, /*watches_per_identity=*/2);
  auto open_watch = [&](const std::string& token, int seconds) {
    auto c = std::make_unique<RawConnection>(h_.port);
    EXPECT_TRUE(c->connected());
    EXPECT_TRUE(c->send_all(std::string("GET ") + kVMs + "?watch=true&timeoutSeconds=" +
                            std::to_string(seconds) +
                            " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            "Authorization: Bearer " +
                            token + "\r\n\r\n"));
    return c;
  };
  auto held1 = open_watch("admin-token", 2);
  auto held2 = open_watch("admin-token", 2);
  // Both are streaming once the server counts them.
  ASSERT_TRUE(eventually([&] {
    auto m = h_.client("admin-token")->Get("/metrics");
    return m && m->body.find("corral_api_open_watches 2") != std::string::npos;
  }));
  auto third = open_watch("admin-token", 2);
  const std::string refused = third->read_until_close();
  EXPECT_EQ(status_of(refused), 429) << refused;
  EXPECT_NE(refused.find("Retry-After: 10"), std::string::npos) << refused;
  EXPECT_NE(refused.find("too many open watches"), std::string::npos) << refused;

  auto other = open_watch("view-token", 1);
  EXPECT_EQ(status_of(other->read_until_close()), 200) << "another identity is served";

  held1->read_until_close();  // its timeoutSeconds ended it: the slot is free again
  auto again = open_watch("admin-token", 1);
  EXPECT_EQ(status_of(again->read_until_close()), 200);
}

}  // namespace api_request_head_integration_test
}  // namespace corral::testing
