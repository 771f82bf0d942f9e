// BackendPool: one event loop's idle keep-alive connections to backends (http
// mode), keyed by the backend's live state, so a connection stays reusable
// across endpoint-set swaps while its endpoint (vm, epoch, address) stays.
//
// A pooled connection may have been closed by the backend meanwhile; the http
// session notices (nothing read back) and retries on a fresh connection.
//
// Thread safety: one per loop, used on that loop's thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "balancer/core/backend.h"

namespace corral::balancer {

struct BackendConnection {
  explicit BackendConnection(boost::asio::any_io_executor ex) : socket(ex) {}
  boost::asio::ip::tcp::socket socket;
  boost::beast::flat_buffer buffer;
};

class BackendPool {
 public:
  // Idle connections kept per backend per loop (beyond: closed).
  static constexpr size_t kMaxIdlePerBackend = 128;

  std::unique_ptr<BackendConnection> take(const BackendState* backend);
  void give(const BackendState* backend, std::unique_ptr<BackendConnection> connection);
  // Closes the idle connections of every backend not in `keep`.
  void retain_only(const std::unordered_set<const BackendState*>& keep);
  size_t idle() const;

 private:
  std::unordered_map<const BackendState*, std::vector<std::unique_ptr<BackendConnection>>> idle_;
};

}  // namespace corral::balancer
