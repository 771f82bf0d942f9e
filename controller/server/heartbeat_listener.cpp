#include "controller/server/heartbeat_listener.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <optional>
#include <thread>

#include "api/json.h"
#include "api/heartbeat.h"
#include "base/listen_socket.h"
#include "base/log.h"
#include "controller/server/request.h"
#include "controller/server/routes.h"
#include "controller/server/status.h"

namespace corral::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

constexpr const char* kResourceLabel = "nodes/heartbeat";
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr std::chrono::seconds kWriteTimeout{10};

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace

struct HeartbeatListener::Impl {
  Impl(const Authenticator& a, const HeartbeatHandler& h, ServerMetrics& m,
       HeartbeatListenerOptions o)
      : auth(a), handler(h), metrics(m), options(std::move(o)), workers(options.worker_threads) {}

  const Authenticator& auth;
  const HeartbeatHandler& handler;
  ServerMetrics& metrics;
  const HeartbeatListenerOptions options;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  net::thread_pool workers;
  std::thread io_thread;
  std::atomic<int> port{0};
  bool started = false;

  void accept();
  // Runs on a worker: the whole request, from routing to the answer.
  Response serve(const Request& req) const;
};

namespace {

Response make_response(const Request& req, http::status status, std::string body) {
  Response res{status, req.version()};
  res.set(http::field::content_type, kJsonContentType);
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(const Request& req, const Error& error, const std::string& name) {
  return make_response(req, static_cast<http::status>(http_status(error.code)),
                       dump_json(status_object(error, name, "nodes")));
}

// One connection: requests are read and answered one after another.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, HeartbeatListener::Impl& listener)
      : stream_(std::move(socket)), listener_(listener) {}

  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(listener_.options.max_body_bytes);
    stream_.expires_after(listener_.options.idle_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

 private:
  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::body_limit) {
      Request req = parser_->get();  // the header was read
      req.keep_alive(false);         // the unread body makes the stream unusable
      write(error_response(req,
                           make_error(ErrorCode::kTooLarge,
                                      "the request body is larger than " +
                                          std::to_string(listener_.options.max_body_bytes) +
                                          " bytes"),
                           ""));
      return;
    }
    if (ec) return close();  // end of stream, idle timeout, malformed HTTP
    stream_.expires_never();
    auto self = shared_from_this();
    net::post(listener_.workers, [self, req = parser_->release()]() mutable {
      Response res = self->listener_.serve(req);
      net::post(self->stream_.get_executor(),
                [self, res = std::move(res)]() mutable { self->write(std::move(res)); });
    });
  }

  void write(Response res) {
    response_ = std::move(res);
    stream_.expires_after(kWriteTimeout);
    http::async_write(stream_, response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, size_t) {
    if (ec || !response_.keep_alive()) return close();
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  HeartbeatListener::Impl& listener_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response response_;
};

}  // namespace

void HeartbeatListener::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;  // stopping
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<Session>(std::move(socket), *this)->read();
    } else {
      logger("api")->warn("heartbeat listener: accept: {}", ec.message());
    }
    accept();
  });
}

Response HeartbeatListener::Impl::serve(const Request& req) const {
  const auto started = std::chrono::steady_clock::now();
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const Route route = parse_route(std::string(req.method_string()), path, false);
  Response res = [&] {
    if (route.endpoint != Endpoint::kHeartbeat || route.verb.empty()) {
      return error_response(req,
                            make_error(ErrorCode::kNotFound,
                                       "this listener serves only POST " +
                                           heartbeat_path("<node>") + "; got " +
                                           std::string(req.method_string()) + " " + path),
                            "");
    }
    auto who = auth.authenticate(std::string(req[http::field::authorization]));
    if (!who) return error_response(req, who.error(), route.name);
    auto no_vm_lookup = [](const std::string&) -> Result<std::optional<std::string>> {
      return std::optional<std::string>();
    };
    if (auto allowed = authorize(*who, {route.verb, "nodes", route.name, "heartbeat"},
                                 no_vm_lookup);
        !allowed) {
      return error_response(req, allowed.error(), route.name);
    }
    auto body = read_json_body(std::string(req[http::field::content_type]), req.body());
    if (!body) return error_response(req, body.error(), route.name);
    auto answer = handler(route.name, *body);
    if (!answer) return error_response(req, answer.error(), route.name);
    return make_response(req, http::status::ok, dump_json(*answer));
  }();
  const std::string verb =
      verb_label(route, std::string_view(req.method_string().data(), req.method_string().size()));
  metrics.requests.with({verb, kResourceLabel, std::to_string(res.result_int())}).inc();
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  metrics.request_latency.with({verb, kResourceLabel}).observe(took.count());
  return res;
}

HeartbeatListener::HeartbeatListener(const Authenticator& auth, const HeartbeatHandler& handler,
                                     ServerMetrics& metrics, HeartbeatListenerOptions options)
    : impl_(std::make_unique<Impl>(auth, handler, metrics, std::move(options))) {}

HeartbeatListener::~HeartbeatListener() { stop(); }

Result<int> HeartbeatListener::start() {
  Impl& m = *impl_;
  if (m.started) return make_error(ErrorCode::kBadRequest, "the heartbeat listener already runs");
  const std::string host = m.options.host == "localhost" ? "127.0.0.1" : m.options.host;
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  auto cannot = [&](const std::string& why) {
    return make_error(ErrorCode::kUnavailable,
                      listen_error(m.options.listen_name, host, m.options.port, why));
  };
  if (ec) return cannot("not an IP address");
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(m.options.port));
  // Exclusive (base/listen_socket.h): SO_REUSEADDR, never SO_REUSEPORT.
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    m.acceptor.close(ignored);
    return cannot(ec.category() == boost::system::system_category() ? bind_error_text(ec.value())
                                                                    : ec.message());
  }
  m.port = m.acceptor.local_endpoint().port();
  m.accept();
  m.io_thread = std::thread([&m] { m.io.run(); });
  m.started = true;
  logger("api")->info("serving heartbeats on http://{}:{} (event-driven, keep-alive)", host,
                      m.port.load());
  return m.port.load();
}

void HeartbeatListener::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  net::post(m.io, [&m] {
    beast::error_code ignored;
    m.acceptor.close(ignored);
  });
  m.io.stop();
  if (m.io_thread.joinable()) m.io_thread.join();
  m.workers.join();  // answers still being built are dropped with the io_context's queue
}

int HeartbeatListener::port() const { return impl_->port; }

}  // namespace corral::server
