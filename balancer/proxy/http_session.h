// HttpSession (mode: http): HTTP/1.1 with keep-alive to the client, requests
// forwarded one at a time over pooled keep-alive connections to backends.
// Messages are forwarded as bytes, not rebuilt (balancer/core/http_forwarder.h).
//
//   read request (header ≤ 16 KiB, body ≤ 64 MiB, clientSeconds) ─garbage─► 400 / 431 / 413, close
//     │  (Expect: 100-continue answered here)                      ─stalls──► 408, close
//     ▼
//   route (content rules) ─► pick ─► pooled connection, or connect (connectSeconds)
//     │                                 └─fail─► eject, pick another (≤ 3 attempts) ─► 502 / 503
//     ▼
//   forward (X-Forwarded-For appended, hop-by-hop headers dropped)
//     ▼
//   read answer (serverSeconds between reads) ─timeout─► 504 ─stale pooled connection─► reconnect once
//     ▼
//   stream it to the client as it arrives (no size limit); the backend
//   connection goes back to the pool once the answer is complete, if both allow
//
// A request is retried on another endpoint only when its connection could not
// be made, never once it may have reached a backend (it may not be idempotent).
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
