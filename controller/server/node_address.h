// The agent endpoint address a node reports in its heartbeat ("host:port")
// is where the controller sends signed calls and asks peers to probe. Left to
// the node's choice, a hostile node could point the controller's nudges and
// its peers' probes at any service (SSRF, a port-scan oracle), or at another
// node's agent. So the controller takes the host from the connection the
// heartbeat came on, as a kubelet's address is judged by where it connects
// from:
//   - an unspecified host (0.0.0.0, ::, an agent listening on every address)
//     is replaced by the heartbeat's source address;
//   - any other host must be an IP literal equal to the source address, else
//     the heartbeat is refused (403) naming both.
// `trust` (the controller's --trust-node-addresses) keeps reported addresses
// as they are, for agents behind NAT or on a management network other than
// the one they serve on; the price is the SSRF above.
//
// Thread-safe: pure functions.
#pragma once

#include <string>

#include "api/json.h"
#include "base/error.h"

namespace corral::server {

// Checks, and where the host is unspecified rewrites, `body`'s "address".
// `source` is the peer's IP address as text (HttpRequest::remote_addr).
// A body without an address is left alone (an agent with no endpoint).
Result<void> settle_reported_address(Json& body, const std::string& node, const std::string& source,
                                     bool trust);

}  // namespace corral::server
