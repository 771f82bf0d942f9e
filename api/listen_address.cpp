#include "api/listen_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace corral {

namespace {

// The address bytes of an IP literal (4 for IPv4, 16 for IPv6), or nullopt.
std::optional<std::string> address_bytes(const std::string& host) {
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
    return std::string(reinterpret_cast<const char*>(&v4), sizeof v4);
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1)
    return std::string(reinterpret_cast<const char*>(&v6), sizeof v6);
  return std::nullopt;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::optional<ListenHostPort> split_listen(const std::string& text) {
  ListenHostPort out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string::npos) return std::nullopt;
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (port.empty() || port.size() > 5 ||
      !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    return std::nullopt;
  out.port = std::stoi(port);
  if (out.port > 65535) return std::nullopt;
  return out;
}

bool is_wildcard_host(const std::string& host) {
  if (host.empty()) return true;
  auto bytes = address_bytes(host);
  return bytes && std::all_of(bytes->begin(), bytes->end(), [](char c) { return c == 0; });
}

bool listens_collide(const ListenHostPort& a, const ListenHostPort& b) {
  if (a.port == 0 || b.port == 0 || a.port != b.port) return false;
  if (is_wildcard_host(a.host) || is_wildcard_host(b.host)) return true;
  auto ab = address_bytes(a.host);
  auto bb = address_bytes(b.host);
  if (ab && bb) return *ab == *bb;
  return lower(a.host) == lower(b.host);
}

}  // namespace corral
