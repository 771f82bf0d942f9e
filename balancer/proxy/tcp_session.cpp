#include "balancer/proxy/tcp_session.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>

#include "balancer/proxy/session_common.h"

namespace corral::balancer {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr size_t kBufferBytes = 8 * 1024;

class TcpSession : public std::enable_shared_from_this<TcpSession> {
 public:
  TcpSession(tcp::socket client, std::shared_ptr<LoopBalancer> lb)
      : lb_(std::move(lb)),
        client_(std::move(client)),
        server_(client_.get_executor()),
        timer_(client_.get_executor()),
        set_(lb_->current()) {}

  void start() {
    info_ = describe_client(client_);
    switch (slot_.take(lb_->shared_handle(), spec().maxConnections, info_.ip,
                       spec().maxConnectionsPerClient)) {
      case ConnectionSlot::Refused::kNone:
        break;
      case ConnectionSlot::Refused::kMaxConnections:
        lb_->shared().metrics.rejected_max_connections->inc();
        return;  // closing the socket refuses the client
      case ConnectionSlot::Refused::kMaxConnectionsPerClient:
        lb_->shared().metrics.rejected_max_connections_per_client->inc();
        return;
    }
    connect(nullptr);
  }

 private:
  const BalancerSpec& spec() const { return set_->set->spec; }

  void connect(const Backend* failed) {
    if (++attempts_ > kMaxAttempts) return close();
    PickContext ctx{info_.hash, failed, steady_now()};
    backend_ = lb_->pick(RouteTable::kDefaultRoute, ctx);
    if (!backend_ || (failed && backend_ == failed)) {
      if (attempts_ == 1) lb_->shared().metrics.rejected_no_endpoint->inc();
      return close();
    }
    if (failed) lb_->shared().metrics.retries->inc();
    started_ = std::chrono::steady_clock::now();
    arm_timer(std::chrono::seconds(spec().timeouts.connectSeconds));
    server_ = tcp::socket(client_.get_executor());
    server_.async_connect(set_->addresses[backend_->index],
                          [self = shared_from_this()](error_code ec) { self->on_connect(ec); });
  }

  void on_connect(error_code ec) {
    if (closed_) return;
    const BackendMetrics& m = set_->metrics[backend_->index];
    if (ec) {
      (ec == net::error::operation_aborted ? m.timeouts : m.connect_errors)->inc();
      record_connect_failure(*backend_->state, steady_now());
      error_code ignored;
      server_.close(ignored);
      return connect(backend_);
    }
    record_connect_success(*backend_->state);
    m.requests->inc();
    backend_->state->requests.fetch_add(1, std::memory_order_relaxed);
    observe_ewma(backend_->state->latency_ewma_us_bits,
                 std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started_).count(),
                 0.1);
    active_ = ActiveGuard(backend_->state);
    server_.set_option(tcp::no_delay(true), ec);
    client_.set_option(tcp::no_delay(true), ec);
    touch();
    arm_timer(std::chrono::seconds(spec().timeouts.clientSeconds));
    pump(client_, server_, up_, up_done_);
    pump(server_, client_, down_, down_done_);
  }

  void pump(tcp::socket& from, tcp::socket& to, std::array<char, kBufferBytes>& buf, bool& done) {
    from.async_read_some(
        net::buffer(buf), [self = shared_from_this(), &from, &to, &buf, &done](error_code ec, size_t n) {
          if (self->closed_) return;
          if (ec) {
            if (ec == net::error::eof) {
              // Half close: pass it on, keep the other direction going.
              done = true;
              error_code ignored;
              to.shutdown(tcp::socket::shutdown_send, ignored);
              if (self->up_done_ && self->down_done_) self->close();
              return;
            }
            if (&from == &self->server_) self->set_->metrics[self->backend_->index].resets->inc();
            return self->close();
          }
          self->touch();
          net::async_write(to, net::buffer(buf.data(), n),
                           [self, &from, &to, &buf, &done](error_code wec, size_t) {
                             if (self->closed_) return;
                             if (wec) return self->close();
                             self->touch();
                             self->pump(from, to, buf, done);
                           });
        });
  }

  void touch() { last_activity_ = std::chrono::steady_clock::now(); }

  // One timer serves the connect deadline and then the idle timeout: it
  // re-arms itself for whatever is left of the idle period after activity.
  void arm_timer(std::chrono::steady_clock::duration d) {
    timer_.expires_after(d);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      if (!self->active_connected()) {
        // Connect deadline: abort the attempt; on_connect sees operation_aborted.
        error_code ignored;
        self->server_.close(ignored);
        return;
      }
      auto idle = std::chrono::seconds(self->spec().timeouts.clientSeconds);
      auto since = std::chrono::steady_clock::now() - self->last_activity_;
      if (since >= idle) return self->close();
      self->arm_timer(idle - since);
    });
  }

  bool active_connected() const { return last_activity_ != std::chrono::steady_clock::time_point{}; }

  void close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    client_.close(ignored);
    server_.close(ignored);
    if (backend_ && active_connected()) {
      set_->metrics[backend_->index].duration->observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }
    active_.reset();
  }

  std::shared_ptr<LoopBalancer> lb_;
  tcp::socket client_;
  tcp::socket server_;
  net::steady_timer timer_;
  std::shared_ptr<const InstalledSet> set_;
  ConnectionSlot slot_;
  ClientInfo info_;
  const Backend* backend_ = nullptr;
  ActiveGuard active_;
  int attempts_ = 0;
  bool closed_ = false;
  bool up_done_ = false;
  bool down_done_ = false;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_activity_;
  std::array<char, kBufferBytes> up_;
  std::array<char, kBufferBytes> down_;
};

}  // namespace

void start_tcp_session(tcp::socket client, std::shared_ptr<LoopBalancer> lb) {
  std::make_shared<TcpSession>(std::move(client), std::move(lb))->start();
}

}  // namespace corral::balancer
