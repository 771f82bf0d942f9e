#include "controller/server/node_address.h"

#include <optional>

#include <boost/asio/ip/address.hpp>

namespace corral::server {

namespace {

using boost::asio::ip::address;

// An IPv4 peer on a dual-stack socket reads "::ffff:10.0.0.1": compare it as
// 10.0.0.1.
std::optional<address> parse_ip(std::string text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  boost::system::error_code ec;
  address a = boost::asio::ip::make_address(text, ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return address(boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, a.to_v6()));
  return a;
}

std::string with_port(const address& host, const std::string& port) {
  return (host.is_v6() ? "[" + host.to_string() + "]" : host.to_string()) + ":" + port;
}

}  // namespace

Result<void> settle_reported_address(Json& body, const std::string& node, const std::string& source,
                                     bool trust) {
  if (!body.is_object()) return Ok{};
  auto it = body.find("address");
  if (it == body.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) return Ok{};
  const std::string reported = it->get<std::string>();
  // host:port or [v6]:port; a malformed one is the heartbeat validator's to name.
  const auto colon = reported.rfind(':');
  if (colon == std::string::npos || colon == 0) return Ok{};
  const std::string host_text = reported.substr(0, colon);
  const std::string port = reported.substr(colon + 1);
  const auto host = parse_ip(host_text);
  const auto peer = parse_ip(source);
  if (host && host->is_unspecified()) {
    if (peer) *it = with_port(*peer, port);
    return Ok{};
  }
  if (trust || !peer) return Ok{};
  if (host && *host == *peer) return Ok{};
  return make_error(ErrorCode::kForbidden,
                    "node/" + node + " reports agent address " + reported +
                        (host ? "" : " (not an IP address)") + " but its heartbeat comes from " +
                        peer->to_string() +
                        ": the controller calls, and has peers probe, only the address a node "
                        "connects from (set the agent's --advertise-address to it, or start the "
                        "controller with --trust-node-addresses for agents behind NAT)");
}

}  // namespace corral::server
