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

ConnectionSlot::Refused ConnectionSlot::take(std::shared_ptr<SharedBalancer> shared, int64_t limit,
                                             const std::string& client_ip,
                                             int32_t per_client_limit) {
  int64_t now = shared->connections.fetch_add(1, std::memory_order_relaxed);
  if (now >= limit) {
    shared->connections.fetch_sub(1, std::memory_order_relaxed);
    return Refused::kMaxConnections;
  }
  if (per_client_limit > 0 && !client_ip.empty()) {
    std::lock_guard<std::mutex> lock(shared->clients_mu);
    int32_t& open = shared->clients[client_ip];
    if (open >= per_client_limit) {
      if (open == 0) shared->clients.erase(client_ip);
      shared->connections.fetch_sub(1, std::memory_order_relaxed);
      return Refused::kMaxConnectionsPerClient;
    }
    ++open;
    client_ = client_ip;
  }
  shared_ = std::move(shared);
  return Refused::kNone;
}

ConnectionSlot::~ConnectionSlot() {
  if (!shared_) return;
  shared_->connections.fetch_sub(1, std::memory_order_relaxed);
  if (client_.empty()) return;
  std::lock_guard<std::mutex> lock(shared_->clients_mu);
  auto it = shared_->clients.find(client_);
  // Erased at zero, so that the map holds only addresses with connections open.
  if (it != shared_->clients.end() && --it->second <= 0) shared_->clients.erase(it);
}

}  // namespace corral::balancer
