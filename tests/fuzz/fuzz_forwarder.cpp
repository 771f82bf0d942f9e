// corral-balancer's HTTP forwarder (balancer/core/http_forwarder.h): the
// bytes a client sends (requests, pipelined) or a backend answers, through
// Beast's parser and the forwarder's framing checks, target normalisation and
// re-framing, fed in pieces as a session's reads hand them over.
//
// Input: one control byte, then the message bytes. Control bits:
//   0     0 = requests from a client, 1 = an answer from a backend
//   1-3   piece size: 1, 2, 3, 7, 16, 64, 512 or 4096 bytes per read
//   4     answer: the client spoke HTTP/1.0 (else 1.1)
//   5     answer: the client asked for keep-alive
//   6     answer: to a HEAD request (no body)
// Each piece is handed over in a buffer of exactly its size (a copy), so
// that ASan sees any read past what was received.
//
// Beyond "no crash": a request the forwarder accepts is forwarded as bytes
// that it accepts again with the same target (what the backend parses is
// what the proxy parsed), and an accepted target has no dot segment left.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "balancer/core/http_forwarder.h"

namespace {

namespace http = boost::beast::http;
using boost::beast::error_code;

constexpr size_t kPieces[] = {1, 2, 3, 7, 16, 64, 512, 4096};

// Feeds `input` to `parser` in pieces of `piece`, as HttpSession's feed()
// does with its read buffer. Returns the bytes consumed; `ec` is the error.
template <class Parser>
size_t feed(Parser& parser, std::string_view input, size_t piece, error_code& ec) {
  std::string pending;
  size_t at = 0, used_total = 0;
  while (!parser.is_done() && (at < input.size() || !pending.empty())) {
    if (at < input.size()) {
      const size_t n = std::min(piece, input.size() - at);
      pending.append(input.substr(at, n));
      at += n;
    }
    bool progressed = false;
    while (!pending.empty() && !parser.is_done()) {
      std::unique_ptr<char[]> exact(new char[pending.size()]);
      std::memcpy(exact.get(), pending.data(), pending.size());
      const size_t used = parser.put(boost::asio::buffer(exact.get(), pending.size()), ec);
      pending.erase(0, used);
      used_total += used;
      if (ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return used_total;
      if (used == 0) break;
      progressed = true;
    }
    if (!progressed && at >= input.size()) break;
  }
  return used_total;
}

bool has_dot_segment(std::string_view target) {
  if (target.empty() || target[0] != '/') return false;
  target = target.substr(0, target.find('?'));
  size_t start = 1;
  for (;;) {
    const size_t slash = target.find('/', start);
    const std::string_view seg = target.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (seg == "." || seg == "..") return true;
    if (slash == std::string_view::npos) return false;
    start = slash + 1;
  }
}

void requests(std::string_view input, size_t piece) {
  // Up to four pipelined requests, as one connection's session reads them.
  for (int i = 0; i < 4 && !input.empty(); ++i) {
    std::string out;
    corral::balancer::RequestForwarder::Scratch scratch;
    corral::balancer::RequestForwarder parser(out, scratch, "10.0.0.9");
    parser.header_limit(16 * 1024);
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser.eager(true);
    error_code ec;
    const size_t used = feed(parser, input, piece, ec);
    if (ec || !parser.is_done()) return;
    const std::string target(parser.target());
    if (has_dot_segment(target)) __builtin_trap();
    // The forwarded bytes, read again as a backend would: accepted, whole,
    // with the same target.
    std::string again;
    corral::balancer::RequestForwarder::Scratch scratch2;
    corral::balancer::RequestForwarder backend(again, scratch2, "10.0.0.10");
    backend.header_limit(64 * 1024);
    backend.body_limit(std::numeric_limits<std::uint64_t>::max());
    backend.eager(true);
    error_code ec2;
    feed(backend, out, 4096, ec2);
    if (ec2 || !backend.is_done() || backend.target() != target) __builtin_trap();
    input.remove_prefix(used);
  }
}

void answer(std::string_view input, size_t piece, uint8_t control) {
  std::string out;
  const int client_version = (control & 0x10) ? 10 : 11;
  corral::balancer::ResponseForwarder parser(out, client_version, (control & 0x20) != 0);
  parser.header_limit(64 * 1024);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  parser.eager(true);
  if (control & 0x40) parser.skip(true);
  error_code ec;
  feed(parser, input, piece, ec);
  if (!ec && !parser.is_done() && parser.is_header_done() && parser.need_eof()) parser.put_eof(ec);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t control = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t piece = kPieces[(control >> 1) & 7];
  if (control & 1) answer(input, piece, control);
  else requests(input, piece);
  return 0;
}
