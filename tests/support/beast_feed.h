// Feeds bytes to a Boost.Beast parser in pieces, as a session does with its
// read buffer: shared by the forwarder's tests and the framing attacks.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace corral::testing {

// Feeds `input` in pieces of `piece` bytes, keeping what the parser has not
// consumed. Returns the parser's error, if any.
template <class Parser>
boost::beast::error_code feed(Parser& parser, std::string_view input, size_t piece) {
  std::string pending;
  size_t at = 0;
  boost::beast::error_code ec;
  while (!parser.is_done() && at < input.size()) {
    size_t n = std::min(piece, input.size() - at);
    pending.append(input.substr(at, n));
    at += n;
    while (!pending.empty() && !parser.is_done()) {
      size_t used = parser.put(boost::asio::buffer(pending), ec);
      pending.erase(0, used);
      if (ec == boost::beast::http::error::need_more) {
        ec = {};
        break;
      }
      if (ec) return ec;
      if (used == 0) break;
    }
  }
  return ec;
}

}  // namespace corral::testing
