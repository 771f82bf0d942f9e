// HttpSession (mode: http): HTTP/1.1 with keep-alive to the client, requests
// forwarded one at a time over pooled keep-alive connections to backends.
// Messages are forwarded as bytes, not rebuilt (balancer/core/http_forwarder.h).
//
//   read request head (≤ 16 KiB, requestHeadSeconds) ─garbage─► 400 / 431, close
//     │  (idle between requests: clientSeconds, then closed)  ─stalls──► 408, close
//     ▼
//   route (content rules) ─► pick ─► pooled connection, or connect (connectSeconds)
//     │                                 └─fail─► eject, pick another (≤ 3 attempts) ─► 502 / 503
//     ▼  (Expect: 100-continue: 100 sent to the client only now)
//   forward the head (X-Forwarded-For appended, hop-by-hop headers dropped),
//   then relay the body as it arrives, one read (16 KiB) at a time, no size
//   limit (clientSeconds per read, else 408; a bad chunk: 400; both close)
//     ▼
//   read answer (serverSeconds between reads) ─timeout─► 504 ─stale pooled connection─► reconnect once
//     ▼
//   stream it to the client as it arrives (no size limit); the backend
//   connection goes back to the pool once the answer is complete, if both allow
//
// A request is retried on another endpoint only when its connection could not
// be made, never once it may have reached a backend (it may not be idempotent).
// A pooled connection the backend had closed is replaced once, the request
// sent again, if no more than its first 64 KiB had been written (kept for that);
// past them the bytes are dropped as they go and such a failure is a 502.
// A failure after part of the answer went out closes the client connection.
// Backpressure: one request at a time per client connection; the next is read
// only once the answer is written, and the backend is read only as fast as the
// client takes the answer.
//
// Thread safety: lives on one loop; shared_from_this keeps it alive.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "balancer/proxy/loop_balancer.h"

namespace corral::balancer {

void start_http_session(boost::asio::ip::tcp::socket client, std::shared_ptr<LoopBalancer> lb);

}  // namespace corral::balancer
