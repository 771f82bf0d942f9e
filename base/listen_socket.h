// How every Corral listener binds: exclusively, and with errors that name the
// flag or field the address came from.
//
// Exclusive means SO_REUSEADDR (a restarted daemon does not wait out the
// TIME_WAIT of its old connections) and never SO_REUSEPORT: with SO_REUSEPORT
// a second process of the same user binds the same port and the kernel hands
// it a share of the connections (issue 14: two controllers on one port, each
// answering from its own store). On Linux SO_REUSEADDR does not let a second
// socket bind a port that another one listens on: its bind (or listen) fails
// with EADDRINUSE.
//
//   corral-controller: --listen 127.0.0.1:7443: address already in use
//
// Thread safety: free functions, no shared state.
#pragma once

#include <string>

namespace corral {

// For cpp-httplib's Server::set_socket_options, which replaces httplib's
// default (SO_REUSEPORT on Linux): SO_REUSEADDR only.
void exclusive_socket_options(int fd);

// A failed bind's or listen's errno as people read it: "address already in
// use" (EADDRINUSE), "not an address of this host" (EADDRNOTAVAIL), otherwise
// strerror's text starting lower-case.
std::string bind_error_text(int err);

// Why host:port cannot be listened on now: binds and listens on a probe socket
// with the options every Corral listener uses, closes it, and returns the
// bind_error_text of what failed; "" when the probe could listen. For
// libraries that report a failed bind without its errno (cpp-httplib 0.11).
std::string probe_listen_error(const std::string& host, int port);

// "<name> <host:port>: <why>" (an IPv6 host in brackets), e.g.
// "--listen 127.0.0.1:7443: address already in use".
std::string listen_error(const std::string& name, const std::string& host, int port,
                         const std::string& why);

}  // namespace corral
