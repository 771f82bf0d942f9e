// Attacks on message framing and request targets, against the pure parsers
// (balancer/core/http_forwarder.h): each is refused before a byte of it is
// forwarded. One test per attack, named after it; the proxy's answer to each
// refusal (400 and close, or 502 and a dropped backend connection) is in
// proxy_integration_test.cpp.
//
// Request smuggling (CL.TE, TE.CL, TE.TE): the proxy and the backend must read
// a message's length the same way, so any framing two parsers could disagree
// on is refused rather than forwarded.
#include <gtest/gtest.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "balancer/core/http_forwarder.h"
#include "tests/support/beast_feed.h"

namespace corral::balancer {
namespace framing_unit_test {

namespace http = boost::beast::http;
using boost::beast::error_code;

using corral::testing::feed;

// The request is refused, whole or byte by byte, with an http error (what
// the session answers 400 to, before it looks at anything else). Returns the
// rejection text.
std::string refused_request(std::string_view input) {
  std::string why;
  for (size_t piece : {1u, 4096u}) {
    std::string out;
    RequestForwarder::Scratch scratch;
    RequestForwarder parser(out, scratch, "10.0.0.9");
    parser.eager(true);
    error_code ec = feed(parser, input, piece);
    EXPECT_TRUE(ec) << "accepted in pieces of " << piece << ": " << input;
    if (ec) {
      EXPECT_EQ(ec.category(), http::make_error_code(http::error::need_more).category());
    }
    why = std::string(parser.rejection());
  }
  return why;
}

std::string refused_response(std::string_view input) {
  std::string why;
  for (size_t piece : {1u, 4096u}) {
    std::string out;
    ResponseForwarder parser(out, 11, true);
    parser.eager(true);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    error_code ec = feed(parser, input, piece);
    EXPECT_TRUE(ec) << "accepted in pieces of " << piece << ": " << input;
    why = std::string(parser.rejection());
  }
  return why;
}

// ---- requests: 400

TEST(RequestSmuggling, TransferEncodingChunkedThenIdentity) {
  // Beast sees no chunked framing (chunked is not last) and no body; a
  // backend that takes the first coding reads "0\r\n\r\n" and a second request.
  EXPECT_NE(
      refused_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                      "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n")
          .find("Transfer-Encoding"),
      std::string::npos);
}

TEST(RequestSmuggling, TransferEncodingIdentity) {
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n");
}

TEST(RequestSmuggling, TransferEncodingGzipThenChunked) {
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
}

TEST(RequestSmuggling, TransferEncodingChunkedTwiceInOneField) {
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n");
}

TEST(RequestSmuggling, TwoTransferEncodingFields) {
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
      "0\r\n\r\n");
}

TEST(RequestSmuggling, TransferEncodingWithContentLength) {
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n");
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: "
      "5\r\n\r\n0\r\n\r\n");
}

TEST(RequestSmuggling, NonChunkedTransferEncodingWithContentLength) {
  // Beast would read 5 body bytes; a backend honouring Transfer-Encoding
  // reads until the connection closes.
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\nContent-Length: "
      "5\r\n\r\nhello");
}

TEST(RequestSmuggling, TransferEncodingInHttp10) {
  refused_request("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
}

TEST(RequestSmuggling, ContentLengthList) {
  EXPECT_NE(refused_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 2\r\n\r\nok")
                .find("Content-Length"),
            std::string::npos);
}

TEST(RequestSmuggling, TwoContentLengthFields) {
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
}

TEST(RequestSmuggling, NonDigitContentLength) {  // Beast's own check; kept so that it stays
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +2\r\n\r\nok");
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x2\r\n\r\nok");
}

TEST(RequestSmuggling, WhitespaceBeforeTheColon) {  // Beast's own check; kept so that it stays
  refused_request(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\nContent-Length: 2\r\n\r\nok");
}

TEST(RequestSmuggling, ObsFoldedTransferEncoding) {
  // Beast joins the lines into "chunked"; a backend that does not sees an
  // empty Transfer-Encoding and a stray line.
  EXPECT_NE(refused_request(
                "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n")
                .find("obs-fold"),
            std::string::npos);
  refused_request("GET / HTTP/1.1\r\nHost: h\r\nX-Long: a\r\n\tb\r\n\r\n");
}

TEST(RequestSmuggling, FramingFieldsInTheTrailer) {  // Beast's own check; kept so that it stays
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "0\r\nContent-Length: 5\r\n\r\n");
  refused_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "0\r\nTransfer-Encoding: chunked\r\n\r\n");
}

TEST(HostConfusion, Http11RequestWithoutHost) {
  refused_request("GET /admin HTTP/1.1\r\n\r\n");
}

TEST(HostConfusion, TwoHostFields) {
  // Routing would take one, the backend maybe the other.
  refused_request("GET /admin HTTP/1.1\r\nHost: public.example\r\nHost: admin.example\r\n\r\n");
}

TEST(PathTraversal, DotSegmentsAboveTheRoot) {
  refused_request("GET /../etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n");
  refused_request("GET /%2e%2e/etc/passwd HTTP/1.1\r\nHost: h\r\n\r\n");
}

TEST(PathTraversal, AFragmentInTheTarget) {
  // Found by fuzz_forwarder: the normaliser ends the path at '#', so rules
  // saw "/public" while a backend reading '#' as a path character resolves
  // "/public#/../admin" to "/admin". A request target has no fragment (RFC
  // 9112 3.2); Envoy refuses it too.
  EXPECT_EQ(refused_request("GET /public#/../admin HTTP/1.1\r\nHost: h\r\n\r\n"),
            "request target contains a fragment ('#')");
  refused_request("GET /a?q=1#x HTTP/1.1\r\nHost: h\r\n\r\n");
}

// ---- responses: 502, the backend connection dropped

TEST(ResponseSplitting, ResponseTransferEncodingChunkedThenIdentity) {
  refused_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n");
}

TEST(ResponseSplitting, ResponseContentLengthList) {
  refused_response("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok");
}

TEST(ResponseSplitting, ResponseTwoContentLengthFields) {
  refused_response("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok");
}

TEST(ResponseSplitting, ResponseTransferEncodingWithContentLength) {
  refused_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok");
}

TEST(ResponseSplitting, ResponseObsFold) {
  refused_response("HTTP/1.1 200 OK\r\nContent-Length:\r\n 2\r\n\r\nok");
}

}  // namespace framing_unit_test
}  // namespace corral::balancer
