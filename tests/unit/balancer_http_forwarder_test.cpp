// The http forwarders (balancer/core/http_forwarder.h): the exact bytes passed
// on for requests and responses, whatever the pieces the input arrives in.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/core/http_forwarder.h"
#include "tests/support/beast_feed.h"

namespace corral::balancer {
namespace balancer_http_forwarder_test {

namespace http = boost::beast::http;
using boost::beast::error_code;

using corral::testing::feed;

struct RequestCase {
  std::string out;
  RequestForwarder::Scratch scratch;
  std::optional<RequestForwarder> parser;
  explicit RequestCase(std::string_view ip = "10.0.0.9") {
    parser.emplace(out, scratch, ip);
    parser->eager(true);
  }
};

TEST(RequestForwarder, DropsHopByHopFieldsAndAppendsToXForwardedFor) {
  for (size_t piece : {1u, 7u, 4096u}) {
    RequestCase c;
    error_code ec = feed(*c.parser,
                         "GET /a/b?x=1 HTTP/1.1\r\n"
                         "Host: shop.example\r\n"
                         "Connection: keep-alive, Upgrade\r\n"
                         "Keep-Alive: timeout=5\r\n"
                         "Upgrade: websocket\r\n"
                         "X-Forwarded-For: 1.1.1.1\r\n"
                         "Accept: */*\r\n"
                         "x-forwarded-for: 2.2.2.2\r\n"
                         "\r\n",
                         piece);
    ASSERT_FALSE(ec) << ec.message();
    ASSERT_TRUE(c.parser->is_done());
    EXPECT_EQ(c.out,
              "GET /a/b?x=1 HTTP/1.1\r\n"
              "Host: shop.example\r\n"
              "Accept: */*\r\n"
              "X-Forwarded-For: 1.1.1.1, 2.2.2.2, 10.0.0.9\r\n"
              "\r\n")
        << "pieces of " << piece;
    EXPECT_EQ(c.parser->host(), "shop.example");
    EXPECT_EQ(c.parser->target(), "/a/b?x=1");
    EXPECT_EQ(c.parser->version(), 11);
    EXPECT_TRUE(c.parser->keep_alive());
    EXPECT_FALSE(c.parser->head());
  }
}

TEST(RequestForwarder, KeepsHttp10AndAsksTheBackendForKeepAlive) {
  RequestCase c;
  ASSERT_FALSE(feed(*c.parser, "HEAD / HTTP/1.0\r\n\r\n", 4096));
  EXPECT_EQ(c.out, "HEAD / HTTP/1.0\r\nX-Forwarded-For: 10.0.0.9\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(c.parser->version(), 10);
  EXPECT_FALSE(c.parser->keep_alive());  // the client's side closes after the answer
  EXPECT_TRUE(c.parser->head());
}

TEST(RequestForwarder, AnswersExpectContinueItselfAndDoesNotForwardIt) {
  RequestCase c;
  std::string_view head = "PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  ASSERT_FALSE(feed(*c.parser, head, 4096));
  EXPECT_TRUE(c.parser->is_header_done());
  EXPECT_FALSE(c.parser->is_done());
  EXPECT_TRUE(c.parser->expects_continue());
  ASSERT_FALSE(feed(*c.parser, "abc", 4096));
  EXPECT_TRUE(c.parser->is_done());
  EXPECT_EQ(c.out, "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX-Forwarded-For: 10.0.0.9\r\n\r\nabc");
}

TEST(RequestForwarder, ForwardsAContentLengthBodyByteForByte) {
  std::string body(70000, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 31 + 7);
  for (size_t piece : {1u, 1000u, 100000u}) {
    RequestCase c;
    std::string in = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\n\r\n" + body;
    ASSERT_FALSE(feed(*c.parser, in, piece));
    ASSERT_TRUE(c.parser->is_done());
    EXPECT_EQ(c.out, "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 70000\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n" + body)
        << "pieces of " << piece;
  }
}

TEST(RequestForwarder, ReframesChunksDropsExtensionsAndKeepsTrailers) {
  for (size_t piece : {1u, 5u, 4096u}) {
    RequestCase c;
    ASSERT_FALSE(feed(*c.parser,
                      "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                      "5;name=v\r\nhello\r\n"
                      "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                      "0\r\nX-Sum: 42\r\n\r\n",
                      piece));
    ASSERT_TRUE(c.parser->is_done());
    EXPECT_EQ(c.out,
              "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n"
              "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Sum: 42\r\n\r\n")
        << "pieces of " << piece;
  }
}

TEST(RequestForwarder, RejectsWhatIsNotHttp1) {
  RequestCase bad_version;
  EXPECT_EQ(feed(*bad_version.parser, "GET / HTTP/2.0\r\n\r\n", 4096), http::error::bad_version);
  RequestCase garbage;
  EXPECT_TRUE(feed(*garbage.parser, "\x16\x03\x01 hello\r\n\r\n", 4096));
  RequestCase both_framings;
  EXPECT_TRUE(feed(*both_framings.parser,
                   "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 4096));
}

// The strict framing rules (tests/security/framing_unit_test.cpp has the
// attacks) leave every well-formed message through.
TEST(RequestForwarder, AcceptsEveryWellFormedFraming) {
  for (std::string_view in : {
           "GET / HTTP/1.0\r\n\r\n",  // HTTP/1.0 may omit Host
           "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:  chunked \t\r\n\r\n0\r\n\r\n",
           "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 002\r\n\r\nok",
           "POST / HTTP/1.0\r\nContent-Length: 2\r\n\r\nok",
           "GET http://h/x HTTP/1.1\r\nHost: h\r\n\r\n",
       }) {
    RequestCase c;
    error_code ec = feed(*c.parser, in, 4096);
    EXPECT_FALSE(ec) << ec.message() << " " << c.parser->rejection() << ": " << in;
    EXPECT_TRUE(c.parser->is_done()) << in;
  }
}

TEST(RequestForwarder, ForwardsAndRoutesTheNormalisedTarget) {
  RequestCase c;
  ASSERT_FALSE(feed(*c.parser, "GET /a/%2e%2E/b/./c%7e?x=/../y HTTP/1.1\r\nHost: h\r\n\r\n", 4096));
  EXPECT_EQ(c.parser->target(), "/b/c~?x=/../y");
  EXPECT_EQ(c.out, "GET /b/c~?x=/../y HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.9\r\n\r\n");
}

struct ResponseCase {
  std::string out;
  std::optional<ResponseForwarder> parser;
  ResponseCase(int client_version, bool client_keep_alive) {
    parser.emplace(out, client_version, client_keep_alive);
    parser->eager(true);
    parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  }
};

TEST(ResponseForwarder, KeepAliveClientGetsTheResponseWithoutTheBackendsConnectionFields) {
  for (size_t piece : {1u, 4096u}) {
    ResponseCase c(11, true);
    ASSERT_FALSE(feed(*c.parser,
                      "HTTP/1.1 200 OK\r\nServer: nginx\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n"
                      "Content-Length: 3\r\n\r\nok\n",
                      piece));
    ASSERT_TRUE(c.parser->is_done());
    EXPECT_EQ(c.out, "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\n\r\nok\n");
    EXPECT_EQ(c.parser->status(), 200);
    EXPECT_FALSE(c.parser->close_client());
    EXPECT_TRUE(c.parser->keep_alive());  // the backend connection goes back to the pool
  }
}

TEST(ResponseForwarder, TellsAClientThatAskedToCloseAndAnHttp10ClientThatAskedToKeep) {
  ResponseCase closing(11, false);
  ASSERT_FALSE(feed(*closing.parser, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 4096));
  EXPECT_EQ(closing.out, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(closing.parser->close_client());

  ResponseCase old(10, true);
  ASSERT_FALSE(feed(*old.parser, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", 4096));
  EXPECT_EQ(old.out, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nhi");
  EXPECT_FALSE(old.parser->close_client());
}

TEST(ResponseForwarder, ABodyThatEndsWithTheConnectionClosesTheClientToo) {
  ResponseCase c(11, true);
  ASSERT_FALSE(feed(*c.parser, "HTTP/1.0 200 OK\r\n\r\nstreamed until close", 4096));
  EXPECT_FALSE(c.parser->is_done());
  EXPECT_TRUE(c.parser->need_eof());
  EXPECT_TRUE(c.parser->close_client());
  error_code ec;
  c.parser->put_eof(ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(c.parser->is_done());
  EXPECT_EQ(c.out, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed until close");
  EXPECT_FALSE(c.parser->keep_alive());
}

TEST(ResponseForwarder, ChunkedResponsesAreReframedAndHeadResponsesHaveNoBody) {
  ResponseCase chunked(11, true);
  ASSERT_FALSE(feed(*chunked.parser,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 3));
  ASSERT_TRUE(chunked.parser->is_done());
  EXPECT_EQ(chunked.out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");

  ResponseCase head(11, true);
  head.parser->skip(true);
  ASSERT_FALSE(feed(*head.parser, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", 4096));
  EXPECT_TRUE(head.parser->is_done());
  EXPECT_EQ(head.out, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
}

TEST(ResponseForwarder, AnInterimResponseIsCompleteOnItsOwnAndSaysNothingAboutTheConnection) {
  ResponseCase c(11, false);
  ASSERT_FALSE(feed(*c.parser, "HTTP/1.1 100 Continue\r\n\r\n", 4096));
  EXPECT_TRUE(c.parser->is_done());
  EXPECT_EQ(c.parser->status(), 100);
  EXPECT_EQ(c.out, "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(ResponseForwarder, AcceptsCodingsBeforeChunkedAndABodyUntilClose) {
  ResponseCase gzip_chunked(11, true);
  ASSERT_FALSE(feed(*gzip_chunked.parser,
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n", 4096));
  EXPECT_TRUE(gzip_chunked.parser->is_done());
  ResponseCase gzip_only(11, true);
  ASSERT_FALSE(feed(*gzip_only.parser, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz", 4096));
  EXPECT_TRUE(gzip_only.parser->need_eof());
}

TEST(LocalResponse, IsACompleteMessageWithItsLengthAndConnection) {
  std::string out;
  append_local_response(out, 503, 11, false, "no endpoint\n");
  EXPECT_EQ(out,
            "HTTP/1.1 503 Service Unavailable\r\nServer: corral-balancer\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 12\r\nConnection: close\r\n\r\n"
            "no endpoint\n");
  out.clear();
  append_local_response(out, 504, 10, true, "late\n");
  EXPECT_EQ(out,
            "HTTP/1.0 504 Gateway Timeout\r\nServer: corral-balancer\r\n"
            "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"
            "late\n");
}

}  // namespace balancer_http_forwarder_test
}  // namespace corral::balancer
