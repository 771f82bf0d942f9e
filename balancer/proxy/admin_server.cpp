#include "balancer/proxy/admin_server.h"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "balancer/core/endpoint_set.h"
#include "base/listen_socket.h"

namespace corral::balancer {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

AdminServer::AdminServer(net::io_context& io, AdminHandlers handlers)
    : io_(io), handlers_(std::move(handlers)), acceptor_(io) {}

Result<void> AdminServer::listen(const std::string& address) {
  auto la = parse_listen(address, "--admin");
  if (!la) return la.error();
  error_code ec;
  auto ip = net::ip::make_address(la->host, ec);
  if (ec) return make_error(ErrorCode::kInvalid, "--admin " + address + ": not an IP address");
  tcp::endpoint ep(ip, la->port);
  // Exclusive (base/listen_socket.h): SO_REUSEADDR, never SO_REUSEPORT.
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::string why = ec.category() == boost::system::system_category() ? bind_error_text(ec.value())
                                                                        : ec.message();
    error_code ignored;
    acceptor_.close(ignored);
    return make_error(ErrorCode::kUnavailable, listen_error("--admin", la->host, la->port, why));
  }
  address_ = la->host + ":" + std::to_string(acceptor_.local_endpoint().port());
  net::post(io_, [self = shared_from_this()] { self->accept(); });
  return Ok{};
}

void AdminServer::stop() {
  net::post(io_, [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
  });
}

void AdminServer::accept() {
  acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (!ec) {
      struct Exchange {
        beast::tcp_stream stream;
        beast::flat_buffer buffer;
        http::request<http::string_body> req;
        http::response<http::string_body> res;
        explicit Exchange(tcp::socket s) : stream(std::move(s)) {}
      };
      auto ex = std::make_shared<Exchange>(std::move(socket));
      ex->stream.expires_after(std::chrono::seconds(5));
      http::async_read(ex->stream, ex->buffer, ex->req, [self, ex](error_code rec, size_t) {
        if (rec) return;
        std::string target(ex->req.target());
        if (auto q = target.find('?'); q != std::string::npos) target.resize(q);
        ex->res.version(ex->req.version());
        ex->res.keep_alive(false);
        if (target == "/healthz") {
          std::string why;
          bool ok = self->handlers_.healthy(&why);
          ex->res.result(ok ? http::status::ok : http::status::service_unavailable);
          ex->res.set(http::field::content_type, "text/plain; charset=utf-8");
          ex->res.body() = ok ? "ok\n" : why + "\n";
        } else if (target == "/metrics") {
          ex->res.result(http::status::ok);
          ex->res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
          ex->res.body() = self->handlers_.metrics();
        } else {
          ex->res.result(http::status::not_found);
          ex->res.set(http::field::content_type, "text/plain; charset=utf-8");
          ex->res.body() = "not found: the admin port serves /healthz and /metrics\n";
        }
        ex->res.prepare_payload();
        http::async_write(ex->stream, ex->res, [ex](error_code, size_t) {
          error_code ignored;
          ex->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
        });
      });
    }
    self->accept();
  });
}

}  // namespace corral::balancer
