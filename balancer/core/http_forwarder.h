// HTTP/1.1 forwarding without rebuilding messages: Beast's parser reads a
// request (or a response) and, through its callbacks, writes the bytes to pass
// on as they are parsed — the start line and the fields as received, minus the
// hop-by-hop fields, plus what the proxy adds — followed by the body in its own
// framing (Content-Length bytes as they are, chunks re-framed with their
// trailer fields, chunk extensions dropped).
//
// Why not http::request<> and http::async_write: that stores every field in
// an allocated node and serializes them back as one buffer each. Measured on a
// 2-core machine, it cost 40 µs of CPU per proxied request against HAProxy's
// 25 µs. Here the output is one contiguous string whose capacity is reused
// across requests: one send per message, and no allocation once warm.
//
// Strict framing, as HAProxy parses (RFC 9112 6.3, request smuggling): a
// message whose length two parsers could read differently is refused, not
// forwarded — in a request (then 400 and close) any Transfer-Encoding other
// than exactly one "chunked" coding, Transfer-Encoding in HTTP/1.0, Transfer-
// Encoding with Content-Length, more than one Content-Length or a list value,
// no Host (HTTP/1.1) or more than one, obs-fold (a field continued on the next
// line), a target whose dot segments climb above the root and a target with a
// fragment ('#'); in a response
// (then 502, the backend connection dropped) the same minus the Host and
// HTTP/1.0 rules, and with "chunked" allowed after other codings ("gzip,
// chunked"). Beast itself already refuses whitespace before a field's colon,
// a non-digit Content-Length, differing Content-Lengths and "chunked" twice.
// The error is an http::error (so a caller's "malformed" branch takes it) and
// rejection() says which rule in words.
//
// The request target is normalised (core/target_normalizer.h) before it is
// written out and before content rules see it.
//
// Pure: no sockets, so unit tests feed bytes and read the output.
#pragma once

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace corral::balancer {

// Writes a chunked body's framing around the data Beast's parser hands over.
class ChunkFramer {
 public:
  void chunk(std::string& out, std::uint64_t size);  // a chunk header (0: the last chunk)
  void trailer_field(std::string& out, boost::beast::string_view name, boost::beast::string_view value);
  void finish(std::string& out);

 private:
  void start_last(std::string& out);
  bool in_chunk_ = false;
  bool last_started_ = false;
};

// What both forwarders do with a body: pass its bytes on as Beast hands them
// over, re-framing chunks.
template <bool isRequest>
class BodyForwarder : public boost::beast::http::basic_parser<isRequest> {
 public:
  // Why the message was refused, when a framing rule above (not Beast) did.
  std::string_view rejection() const { return rejection_; }

 protected:
  explicit BodyForwarder(std::string& out) : out_(out) {}

  void on_body_init_impl(boost::optional<std::uint64_t> const&, boost::beast::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override {
    out_.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view, boost::beast::error_code&) override {
    chunks_.chunk(out_, size);
  }
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code&) override {
    out_.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {
    if (this->chunked()) chunks_.finish(out_);
  }

  // Sets `ec` and the reason; false, so that callers can `return reject(...)`.
  bool reject(boost::beast::error_code& ec, boost::beast::http::error code, const char* why) {
    ec = code;
    rejection_ = why;
    return false;
  }

  std::string& out_;
  ChunkFramer chunks_;
  const char* rejection_ = "";
  // Framing fields seen in the header.
  int content_length_fields_ = 0;
  int transfer_encoding_fields_ = 0;
};

// A request from a client, to a backend. The output keeps the client's HTTP
// version (a backend must not answer an HTTP/1.0 client with chunks) and asks
// for keep-alive on the backend connection whatever the client wanted.
class RequestForwarder final : public BodyForwarder<true> {
 public:
  // `out` receives the bytes to send (appended); `client_ip` goes into
  // X-Forwarded-For. `scratch` holds the parsed host and target (capacity
  // reused); both must outlive the forwarder.
  struct Scratch {
    std::string host, target, forwarded_for;
  };
  RequestForwarder(std::string& out, Scratch& scratch, std::string_view client_ip);

  // Valid once the header is parsed (is_header_done()).
  std::string_view host() const { return scratch_.host; }
  std::string_view target() const { return scratch_.target; }
  int version() const { return version_; }  // 10 or 11
  bool head() const { return head_; }
  // The client sent `Expect: 100-continue` (not forwarded: the proxy answers
  // 100 itself, once it holds a connection to the chosen backend).
  bool expects_continue() const { return expects_continue_; }

 private:
  void on_request_impl(boost::beast::http::verb method, boost::beast::string_view method_str,
                       boost::beast::string_view target, int version,
                       boost::beast::error_code& ec) override;
  void on_response_impl(int, boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;

  Scratch& scratch_;
  std::string_view client_ip_;
  int host_fields_ = 0;
  int version_ = 11;
  bool head_ = false;
  bool expects_continue_ = false;
};

// A response from a backend, to the client. The status line takes the
// client's HTTP version; `Connection` is set for the client's side: close
// when the client asked for it or when the body ends only with the backend's
// connection (then the client's must close too).
class ResponseForwarder final : public BodyForwarder<false> {
 public:
  ResponseForwarder(std::string& out, int client_version, bool client_keep_alive);

  int status() const { return status_; }
  // Valid once the header is parsed: the client connection must close after
  // this response.
  bool close_client() const { return close_client_; }

 private:
  void on_request_impl(boost::beast::http::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view reason, int version,
                        boost::beast::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;

  int client_version_;
  bool client_keep_alive_;
  int status_ = 0;
  bool close_client_ = false;
};

// A complete response made by the proxy itself (errors, 100 Continue).
void append_local_response(std::string& out, int status, int client_version, bool keep_alive,
                           std::string_view text);

}  // namespace corral::balancer
