#include "balancer/proxy/http_session.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <optional>

#include "balancer/proxy/session_common.h"

namespace corral::balancer {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint32_t kMaxHeaderBytes = 16 * 1024;
constexpr uint64_t kMaxBodyBytes = 64ull * 1024 * 1024;
constexpr const char* kForwardedFor = "X-Forwarded-For";

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

bool is_stale_connection_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == net::error::eof ||
         ec == net::error::connection_reset || ec == net::error::broken_pipe ||
         ec == http::error::partial_message;
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket client, std::shared_ptr<LoopBalancer> lb)
      : lb_(std::move(lb)),
        client_(std::move(client)),
        timer_(client_.get_executor()),
        slot_(lb_->shared_handle(), lb_->current()->set->spec.maxConnections) {}

  void start() {
    if (!slot_.ok()) {
      lb_->shared().metrics.rejected_max_connections->inc();
      return reply(http::status::service_unavailable,
                   "balancer " + lb_->shared().name + " is at spec.maxConnections", true);
    }
    info_ = describe_client(client_);
    error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    read_request();
  }

 private:
  const BalancerTimeouts& timeouts() const { return lb_->current()->set->spec.timeouts; }

  void read_request() {
    req_parser_.emplace();
    req_parser_->header_limit(kMaxHeaderBytes);
    req_parser_->body_limit(kMaxBodyBytes);
    expect(Wait::kClientRead, timeouts().clientSeconds);
    http::async_read(client_, client_buf_, *req_parser_,
                     [self = shared_from_this()](error_code ec, size_t) { self->on_request(ec); });
  }

  // One lazy timer per session for every deadline (HAProxy's way): a new
  // deadline only moves deadline_, and the timer is re-armed only when it
  // fires early or must fire sooner. Arming a timer per read and write would
  // cost timerfd syscalls on every request.
  enum class Wait { kNone, kClientRead, kConnect, kBackend, kClientWrite };
  void expect(Wait what, int32_t seconds) {
    wait_ = what;
    timed_out_ = false;
    deadline_ = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    if (!timer_armed_ || timer_.expiry() > deadline_) arm();
  }
  void arm() {
    timer_armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec) return;  // re-armed or cancelled: whoever did that owns the timer now
      self->timer_armed_ = false;
      self->on_timer();
    });
  }
  void on_timer() {
    if (wait_ == Wait::kNone || closed_) return;
    if (std::chrono::steady_clock::now() < deadline_) return arm();
    // Cancel what is pending; its handler sees timed_out_ and answers for it
    // (the socket stays open, so a stalled client still gets its 408).
    timed_out_ = true;
    error_code ignored;
    if (wait_ == Wait::kClientRead || wait_ == Wait::kClientWrite) client_.cancel(ignored);
    else if (conn_) conn_->socket.cancel(ignored);
  }

  void on_request(error_code ec) {
    BalancerMetrics& bm = lb_->shared().metrics;
    if (ec) {
      bool started = req_parser_->got_some() || client_buf_.size() > 0;
      if (timed_out_) {
        if (!started) return close();  // an idle keep-alive connection
        bm.rejected_header_timeout->inc();
        return reply(http::status::request_timeout, "request not received within timeouts.clientSeconds", true);
      }
      if (ec == http::error::header_limit) {
        bm.rejected_bad_request->inc();
        return reply(http::status::request_header_fields_too_large, "request headers exceed 16 KiB", true);
      }
      if (ec == http::error::body_limit) {
        bm.rejected_bad_request->inc();
        return reply(http::status::payload_too_large, "request body exceeds 64 MiB", true);
      }
      if (ec.category() == http::make_error_code(http::error::end_of_stream).category() && ec != http::error::end_of_stream &&
          ec != http::error::partial_message) {
        bm.rejected_bad_request->inc();
        return reply(http::status::bad_request, "malformed HTTP request: " + ec.message(), true);
      }
      return close();  // the client went away
    }
    req_ = req_parser_->release();
    client_version_ = req_.version();
    client_keep_alive_ = req_.keep_alive();
    head_ = req_.method() == http::verb::head;
    set_ = lb_->current();
    auto host = req_[http::field::host];
    auto target = req_.target();
    route_ = set_->set->routes.match(std::string_view(host.data(), host.size()),
                                     std::string_view(target.data(), target.size()));
    // Hop-by-hop headers end here; the backend connection is ours to keep alive.
    req_.erase(http::field::connection);
    req_.erase(http::field::keep_alive);
    req_.erase(http::field::proxy_connection);
    auto xff = req_[kForwardedFor];
    req_.set(kForwardedFor,
             xff.empty() ? info_.ip : std::string(xff) + ", " + info_.ip);
    req_.version(11);
    attempts_ = 0;
    failed_ = nullptr;
    dispatch();
  }

  void dispatch() {
    BalancerMetrics& bm = lb_->shared().metrics;
    if (++attempts_ > kMaxAttempts)
      return reply(http::status::bad_gateway,
                   "no endpoint of balancer " + set_->set->name + " could be reached in " +
                       std::to_string(kMaxAttempts) + " attempts",
                   false);
    backend_ = lb_->pick(route_, PickContext{info_.hash, failed_, steady_now()});
    if (!backend_ || backend_ == failed_) {
      if (attempts_ > 1)
        return reply(http::status::bad_gateway,
                     "endpoint " + failed_->endpoint.vm + " could not be reached and no other is healthy",
                     false);
      bm.rejected_no_endpoint->inc();
      return reply(http::status::service_unavailable,
                   "balancer " + set_->set->name + " has no healthy endpoint" +
                       (route_ == RouteTable::kDefaultRoute ? std::string()
                                                            : " for rule " + std::to_string(route_)),
                   false);
    }
    if (failed_) bm.retries->inc();
    active_ = ActiveGuard(backend_->state);
    started_ = std::chrono::steady_clock::now();
    conn_ = lb_->take_idle(*backend_);
    reused_ = conn_ != nullptr;
    if (reused_) return send();
    connect();
  }

  void connect() {
    conn_ = std::make_unique<BackendConnection>(client_.get_executor());
    expect(Wait::kConnect, timeouts().connectSeconds);
    conn_->socket.async_connect(set_->addresses[backend_->index],
                                [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    const BackendMetrics& m = set_->metrics[backend_->index];
    if (ec) {
      (timed_out_ ? m.timeouts : m.connect_errors)->inc();
      record_connect_failure(*backend_->state, steady_now());
      conn_.reset();
      active_.reset();
      failed_ = backend_;
      return dispatch();
    }
    record_connect_success(*backend_->state);
    error_code ignored;
    conn_->socket.set_option(tcp::no_delay(true), ignored);
    send();
  }

  void send() {
    expect(Wait::kBackend, timeouts().serverSeconds);
    http::async_write(conn_->socket, req_, [self = shared_from_this()](error_code ec, size_t) {
      if (ec) return self->on_backend_error(ec, /*got_some=*/false);
      self->read_response();
    });
  }

  void read_response() {
    res_parser_.emplace();
    res_parser_->body_limit(kMaxBodyBytes);
    if (head_) res_parser_->skip(true);
    http::async_read(conn_->socket, conn_->buffer, *res_parser_,
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->on_backend_error(ec, self->res_parser_->got_some());
                       self->on_response();
                     });
  }

  void on_backend_error(error_code ec, bool got_some) {
    conn_.reset();
    if (reused_ && !got_some && !timed_out_ && is_stale_connection_error(ec)) {
      // The backend closed an idle pooled connection: nothing reached it.
      reused_ = false;
      return connect();
    }
    const BackendMetrics& m = set_->metrics[backend_->index];
    observe_ewma(backend_->state->error_ewma_bits, 1.0, 0.1);
    backend_->state->errors.fetch_add(1, std::memory_order_relaxed);
    active_.reset();
    if (timed_out_) {
      m.timeouts->inc();
      return reply(http::status::gateway_timeout,
                   "endpoint " + backend_->endpoint.vm + " did not answer within timeouts.serverSeconds", false);
    }
    m.resets->inc();
    reply(http::status::bad_gateway,
          "endpoint " + backend_->endpoint.vm + " failed: " + ec.message(), false);
  }

  void on_response() {
    const BackendMetrics& m = set_->metrics[backend_->index];
    BackendState& st = *backend_->state;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    m.requests->inc();
    m.duration->observe(seconds);
    st.requests.fetch_add(1, std::memory_order_relaxed);
    observe_ewma(st.latency_ewma_us_bits, seconds * 1e6, 0.1);
    res_ = res_parser_->release();
    bool server_error = res_.result_int() >= 500;
    observe_ewma(st.error_ewma_bits, server_error ? 1.0 : 0.0, 0.1);
    if (server_error) {
      m.status_5xx->inc();
      st.errors.fetch_add(1, std::memory_order_relaxed);
    }
    if (res_.keep_alive() && !res_.need_eof()) lb_->give_idle(*backend_, std::move(conn_));
    conn_.reset();
    active_.reset();

    res_.erase(http::field::connection);
    res_.erase(http::field::keep_alive);
    res_.version(client_version_);
    int code = res_.result_int();
    if (!head_ && code >= 200 && code != 204 && code != 304) res_.prepare_payload();
    res_.keep_alive(client_keep_alive_);
    write_response();
  }

  void reply(http::status status, const std::string& text, bool close_after) {
    res_ = Response{status, client_version_};
    res_.set(http::field::server, "corral-balancer");
    res_.set(http::field::content_type, "text/plain; charset=utf-8");
    res_.body() = text + "\n";
    res_.prepare_payload();
    res_.keep_alive(client_keep_alive_ && !close_after);
    write_response();
  }

  void write_response() {
    bool close_after = res_.need_eof();
    expect(Wait::kClientWrite, timeouts().clientSeconds);
    http::async_write(client_, res_, [self = shared_from_this(), close_after](error_code ec, size_t) {
      if (ec || close_after) return self->close();
      self->res_ = {};
      self->read_request();
    });
  }

  void close() {
    closed_ = true;
    wait_ = Wait::kNone;
    timer_.cancel();
    error_code ignored;
    client_.shutdown(tcp::socket::shutdown_send, ignored);
    client_.close(ignored);
  }

  std::shared_ptr<LoopBalancer> lb_;
  tcp::socket client_;
  beast::flat_buffer client_buf_;
  net::steady_timer timer_;
  bool timer_armed_ = false;
  Wait wait_ = Wait::kNone;
  bool timed_out_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point deadline_;
  ConnectionSlot slot_;
  ClientInfo info_;
  std::optional<http::request_parser<http::string_body>> req_parser_;
  std::optional<http::response_parser<http::string_body>> res_parser_;
  Request req_;
  Response res_;
  unsigned client_version_ = 11;
  bool client_keep_alive_ = false;
  bool head_ = false;
  std::shared_ptr<const InstalledSet> set_;
  int route_ = RouteTable::kDefaultRoute;
  int attempts_ = 0;
  const Backend* failed_ = nullptr;
  const Backend* backend_ = nullptr;
  ActiveGuard active_;
  std::unique_ptr<BackendConnection> conn_;
  bool reused_ = false;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

void start_http_session(tcp::socket client, std::shared_ptr<LoopBalancer> lb) {
  std::make_shared<HttpSession>(std::move(client), std::move(lb))->start();
}

}  // namespace corral::balancer
