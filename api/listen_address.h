// A Balancer's spec.listen as an address one host binds, and when two of them
// cannot both be bound (the API refuses a Balancer whose spec.listen collides
// with another's: controller/server/balancer_listen.h).
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>

namespace corral {

struct ListenHostPort {
  std::string host;  // an IPv6 host without its brackets
  int port = 0;      // 0: any free port
};

// "host:port" or "[v6]:port" → host and port; nullopt when malformed (the
// Balancer's validation says why).
std::optional<ListenHostPort> split_listen(const std::string& text);

// True for the addresses that stand for every address of the host: 0.0.0.0,
// :: (and its long spellings), or no host at all.
bool is_wildcard_host(const std::string& host);

// True when `a` and `b` cannot both listen on one host: the same port (not 0,
// which is "any free port") and the same host, or either host a wildcard.
// Hosts are compared as addresses when both are IP literals ("::1" and
// "0:0:0:0:0:0:0:1" are the same), otherwise as case-insensitive names.
// Conservative across families: 0.0.0.0 collides with [::1] too, although
// Linux would bind both.
bool listens_collide(const ListenHostPort& a, const ListenHostPort& b);

}  // namespace corral
