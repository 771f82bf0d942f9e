// TcpSession (mode: tcp): one client connection spliced to one backend.
//
//   accept ─► slot (maxConnections) ─► pick ─► connect (connectSeconds) ──fail──► eject, pick
//                                                  │                              another (≤ 3)
//                                                  ▼
//                        client ⇄ backend, two pumps, 8 KiB each way; a half
//                        close is passed on; idle for clientSeconds ─► close
//
// Thread safety: lives on one loop; shared_from_this keeps it alive while an
// operation is pending.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>

#include "balancer/proxy/loop_balancer.h"

namespace corral::balancer {

void start_tcp_session(boost::asio::ip::tcp::socket client, std::shared_ptr<LoopBalancer> lb);

}  // namespace corral::balancer
