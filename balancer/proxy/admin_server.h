// The admin port: GET /healthz (200 "ok" when every Balancer is serving, 503
// naming the ones that are not) and GET /metrics (Prometheus text). One
// request per connection, on loop 0; the answers are small and built from
// atomics, so they never hold the loop up.
//
// Thread safety: runs on its io_context's thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <string>

#include "base/error.h"

namespace corral::balancer {

struct AdminHandlers {
  std::function<bool(std::string* why)> healthy;
  std::function<std::string()> metrics;
};

class AdminServer : public std::enable_shared_from_this<AdminServer> {
 public:
  AdminServer(boost::asio::io_context& io, AdminHandlers handlers);
  // Binds exclusively. Errors: Invalid for a bad address; Unavailable as
  // "--admin 127.0.0.1:9901: address already in use".
  Result<void> listen(const std::string& address);
  std::string address() const { return address_; }
  void stop();

 private:
  void accept();
  boost::asio::io_context& io_;
  AdminHandlers handlers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string address_;
};

}  // namespace corral::balancer
