#include "balancer/proxy/session_common.h"

namespace corral::balancer {

ClientInfo describe_client(const boost::asio::ip::tcp::socket& socket) {
  ClientInfo info;
  boost::system::error_code ec;
  auto remote = socket.remote_endpoint(ec);
  if (ec) return info;
  auto address = remote.address();
  info.ip = address.to_string();
  if (address.is_v4()) {
    auto bytes = address.to_v4().to_bytes();
    info.hash = hash_client_address(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  } else {
    auto bytes = address.to_v6().to_bytes();
    info.hash = hash_client_address(
        std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  return info;
}

ConnectionSlot::ConnectionSlot(std::shared_ptr<SharedBalancer> shared, int64_t limit)
    : shared_(std::move(shared)) {
  int64_t now = shared_->connections.fetch_add(1, std::memory_order_relaxed);
  ok_ = now < limit;
  if (!ok_) shared_->connections.fetch_sub(1, std::memory_order_relaxed);
}

ConnectionSlot::~ConnectionSlot() {
  if (ok_) shared_->connections.fetch_sub(1, std::memory_order_relaxed);
}

}  // namespace corral::balancer
