#include "balancer/proxy/http_session.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include <chrono>
#include <limits>
#include <optional>

#include "balancer/core/http_forwarder.h"
#include "balancer/proxy/session_common.h"

namespace corral::balancer {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;

namespace {

constexpr uint32_t kMaxRequestHeaderBytes = 16 * 1024;
constexpr uint32_t kMaxResponseHeaderBytes = 64 * 1024;
constexpr size_t kReadBytes = 16 * 1024;
// What of a request is kept after it was written to a backend, so that it can
// be sent again when that backend turns out to have failed before answering
// (a pooled connection it had closed). Once more than this was sent, the
// bytes are dropped as they go and a failure is a 502: memory per connection
// stays about this plus one read, whatever the body's size.
constexpr size_t kRetryPrefixBytes = 64 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_stale_connection_error(const error_code& ec) {
  return ec == net::error::eof || ec == net::error::connection_reset || ec == net::error::broken_pipe;
}

// Hands the buffered bytes to the parser until it needs more or is done.
template <class Parser>
void feed(beast::flat_buffer& buffer, Parser& parser, error_code& ec) {
  while (buffer.size() > 0 && !parser.is_done()) {
    size_t n = parser.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec == http::error::need_more) {
      ec = {};
      return;
    }
    if (ec || n == 0) return;
  }
}

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket client, std::shared_ptr<LoopBalancer> lb)
      : lb_(std::move(lb)),
        client_(std::move(client)),
        timer_(client_.get_executor()) {}

  void start() {
    info_ = describe_client(client_);
    const BalancerSpec& spec = lb_->current()->set->spec;
    switch (slot_.take(lb_->shared_handle(), spec.maxConnections, info_.ip,
                       spec.maxConnectionsPerClient)) {
      case ConnectionSlot::Refused::kNone:
        break;
      case ConnectionSlot::Refused::kMaxConnections:
        lb_->shared().metrics.rejected_max_connections->inc();
        return reply(503, "balancer " + lb_->shared().name + " is at spec.maxConnections", true);
      case ConnectionSlot::Refused::kMaxConnectionsPerClient:
        // Closed at once, without an answer: the one address already holds
        // its share, and writing to each connection of a flood costs more.
        lb_->shared().metrics.rejected_max_connections_per_client->inc();
        return close();
    }
    error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    read_request();
  }

 private:
  const BalancerTimeouts& timeouts() const { return lb_->current()->set->spec.timeouts; }

  // ---- the request: its head is read whole, then a backend is picked and the
  // body relayed to it as it arrives (relay_body), a read at a time.

  void read_request() {
    request_out_.clear();
    // A large body left its resend prefix's capacity behind: an idle
    // kept-alive connection does not keep it (small requests never grow it).
    if (request_out_.capacity() > kRetryPrefixBytes) std::string().swap(request_out_);
    sent_ = 0;
    retryable_ = true;
    request_.emplace(request_out_, scratch_, info_.ip);
    request_->header_limit(kMaxRequestHeaderBytes);
    // Streamed: no limit on a body's size (the proxy never holds it whole).
    request_->body_limit(std::numeric_limits<std::uint64_t>::max());
    request_->eager(true);
    sent_continue_ = false;
    // A new connection and a pipelined request start their head at once; a
    // kept-alive one may idle first.
    if (!served_one_ || client_buf_.size() > 0) {
      read_phase_ = ReadPhase::kHead;
      expect(Wait::kClientRead, timeouts().requestHeadSeconds);
    } else {
      read_phase_ = ReadPhase::kIdle;
      expect(Wait::kClientRead, timeouts().clientSeconds);
    }
    parse_request();
  }

  void parse_request() {
    error_code ec;
    // Parses what was read, the body too as far as it came (eager): a
    // request that arrived whole goes to the backend in one write.
    feed(client_buf_, *request_, ec);
    if (ec) return on_request_error(ec);
    if (request_->is_header_done()) return on_request_head();
    // Deadlines move only for a request that arrives in pieces (a whole one
    // read at once costs no clock read here): the head must be complete within
    // requestHeadSeconds of its first byte.
    if (read_phase_ == ReadPhase::kIdle && (request_->got_some() || client_buf_.size() > 0)) {
      read_phase_ = ReadPhase::kHead;
      expect(Wait::kClientRead, timeouts().requestHeadSeconds);
    }
    read_more_request();
  }

  void read_more_request() {
    client_.async_read_some(client_buf_.prepare(kReadBytes),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->client_buf_.commit(n);
                              if (ec) return self->on_request_error(ec);
                              self->parse_request();
                            });
  }

  void on_request_error(error_code ec) {
    // A body that fails half way leaves the backend with a partial request:
    // that connection is dropped, never pooled.
    conn_.reset();
    active_.reset();
    BalancerMetrics& bm = lb_->shared().metrics;
    bool started = request_->got_some() || client_buf_.size() > 0;
    if (timed_out_) {
      if (!started) return close();  // an idle keep-alive connection, or one that never spoke
      bm.rejected_header_timeout->inc();
      if (read_phase_ != ReadPhase::kBody)
        return reply(408, "request head not received within timeouts.requestHeadSeconds", true);
      return reply(408, "request body not received within timeouts.clientSeconds", true);
    }
    if (ec == http::error::header_limit) {
      bm.rejected_bad_request->inc();
      return reply(431, "request headers exceed 16 KiB", true);
    }
    if (ec.category() == http::make_error_code(http::error::need_more).category()) {
      bm.rejected_bad_request->inc();
      const std::string why =
          request_->rejection().empty() ? ec.message() : std::string(request_->rejection());
      return reply(400, "malformed HTTP request: " + why, true);
    }
    close();  // the client went away
  }

  void on_request_head() {
    read_phase_ = ReadPhase::kBody;
    client_version_ = request_->version();
    client_keep_alive_ = request_->keep_alive();
    head_ = request_->head();
    set_ = lb_->current();
    response_.reset();  // a 502's reason must not come from the previous answer
    route_ = set_->set->routes.match(request_->host(), request_->target());
    attempts_ = 0;
    failed_ = nullptr;
    dispatch();
  }

  // ---- a backend: pooled connection or a new one, retried elsewhere on failure.

  void dispatch() {
    BalancerMetrics& bm = lb_->shared().metrics;
    if (++attempts_ > kMaxAttempts)
      return reply(502,
                   "no endpoint of balancer " + set_->set->name + " could be reached in " +
                       std::to_string(kMaxAttempts) + " attempts",
                   false);
    backend_ = lb_->pick(route_, PickContext{info_.hash, failed_, steady_now()});
    if (!backend_ || backend_ == failed_) {
      if (attempts_ > 1)
        return reply(502,
                     "endpoint " + failed_->endpoint.vm + " could not be reached and no other is healthy",
                     false);
      bm.rejected_no_endpoint->inc();
      return reply(503,
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
    if (reused_) return on_backend_ready();
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
    on_backend_ready();
  }

  // A backend connection exists: only now may a client waiting on
  // `Expect: 100-continue` be told to send its body (the expectation itself
  // is not forwarded; RFC 9110 10.1.1 lets a proxy answer it). An HTTP/1.0
  // client, or one whose body is already in, gets no 100.
  void on_backend_ready() {
    if (request_->expects_continue() && request_->version() == 11 && !sent_continue_ &&
        !request_->is_done()) {
      sent_continue_ = true;
      expect(Wait::kClientWrite, timeouts().clientSeconds);
      net::async_write(client_, net::buffer(kContinue.data(), kContinue.size()),
                       [self = shared_from_this()](error_code ec, size_t) {
                         if (ec) return self->close();
                         self->send();
                       });
      return;
    }
    send();
  }

  // Writes what is not yet sent of request_out_ (after a retry: all of it).
  void send() {
    expect(Wait::kBackend, timeouts().serverSeconds);
    net::async_write(conn_->socket, net::buffer(request_out_.data() + sent_, request_out_.size() - sent_),
                     [self = shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->on_backend_error(ec, /*got_some=*/false);
                       self->on_request_sent();
                     });
  }

  void on_request_sent() {
    sent_ = request_out_.size();
    if (sent_ > kRetryPrefixBytes) {
      // Past the prefix: no retry from here on, and nothing is kept.
      retryable_ = false;
      request_out_.clear();
      sent_ = 0;
    }
    if (request_->is_done()) return read_response();
    relay_body();
  }

  // The body, a read at a time: parse what came, write it, read again. The
  // client is read only once the backend took the last piece (backpressure),
  // so a connection holds at most kRetryPrefixBytes plus one read.
  void relay_body() {
    error_code ec;
    feed(client_buf_, *request_, ec);
    if (ec) return on_request_error(ec);
    if (request_out_.size() > sent_) return send();
    if (request_->is_done()) return read_response();
    expect(Wait::kClientRead, timeouts().clientSeconds);
    client_.async_read_some(client_buf_.prepare(kReadBytes),
                            [self = shared_from_this()](error_code ec, size_t n) {
                              self->client_buf_.commit(n);
                              if (ec) return self->on_request_error(ec);
                              self->relay_body();
                            });
  }

  // The request may be sent again: what was sent is still held.
  bool can_resend() const { return retryable_ && request_out_.size() <= kRetryPrefixBytes; }

  // ---- the response: streamed to the client as it arrives.

  void read_response() {
    response_out_.clear();
    response_.emplace(response_out_, client_version_, client_keep_alive_);
    response_->header_limit(kMaxResponseHeaderBytes);
    response_->body_limit(std::numeric_limits<std::uint64_t>::max());  // streamed: no limit
    response_->eager(true);
    if (head_) response_->skip(true);
    parse_response();
  }

  void parse_response() {
    error_code ec;
    feed(conn_->buffer, *response_, ec);
    if (ec) return on_backend_error(ec, true);
    if (response_->is_done()) {
      int status = response_->status();
      if (status / 100 == 1) {
        if (status == 101) return on_backend_error(http::error::bad_version, true);
        // An interim answer (100 Continue): passed on to an HTTP/1.1 client,
        // then the final response follows on the same connection.
        if (client_version_ == 10) return read_response();
        return write_client(After::kNextResponse);
      }
      on_response_done();
      return write_client(response_->close_client() ? After::kClose : After::kNextRequest);
    }
    if (!response_out_.empty()) return write_client(After::kMoreResponse);
    read_more_response();
  }

  void read_more_response() {
    expect(Wait::kBackend, timeouts().serverSeconds);
    conn_->socket.async_read_some(conn_->buffer.prepare(kReadBytes),
                                  [self = shared_from_this()](error_code ec, size_t n) {
                                    self->on_backend_read(ec, n);
                                  });
  }

  void on_backend_read(error_code ec, size_t n) {
    conn_->buffer.commit(n);
    if (!ec) return parse_response();
    if (ec == net::error::eof && response_->is_header_done() && response_->need_eof()) {
      // The body ends with the backend's connection.
      error_code eof_ec;
      response_->put_eof(eof_ec);
      if (!eof_ec) {
        on_response_done();
        return write_client(After::kClose);
      }
    }
    on_backend_error(ec, response_->got_some() || conn_->buffer.size() > 0);
  }

  void on_response_done() {
    const BackendMetrics& m = set_->metrics[backend_->index];
    BackendState& st = *backend_->state;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    m.requests->inc();
    m.duration->observe(seconds);
    st.requests.fetch_add(1, std::memory_order_relaxed);
    observe_ewma(st.latency_ewma_us_bits, seconds * 1e6, 0.1);
    bool server_error = response_->status() >= 500;
    observe_ewma(st.error_ewma_bits, server_error ? 1.0 : 0.0, 0.1);
    if (server_error) {
      m.status_5xx->inc();
      st.errors.fetch_add(1, std::memory_order_relaxed);
    }
    // Bytes past the response would be a protocol error: such a connection
    // is not reused.
    if (response_->keep_alive() && conn_->buffer.size() == 0) lb_->give_idle(*backend_, std::move(conn_));
    conn_.reset();
    active_.reset();
  }

  void on_backend_error(error_code ec, bool got_some) {
    conn_.reset();
    if (reused_ && !got_some && !response_started_ && !timed_out_ && is_stale_connection_error(ec) &&
        can_resend()) {
      // The backend closed an idle pooled connection: nothing reached it.
      reused_ = false;
      sent_ = 0;
      return connect();
    }
    const BackendMetrics& m = set_->metrics[backend_->index];
    observe_ewma(backend_->state->error_ewma_bits, 1.0, 0.1);
    backend_->state->errors.fetch_add(1, std::memory_order_relaxed);
    active_.reset();
    (timed_out_ ? m.timeouts : m.resets)->inc();
    // Part of the answer went out already: the client can only learn of the
    // failure from its connection closing.
    if (response_started_) return close();
    if (timed_out_)
      return reply(504,
                   "endpoint " + backend_->endpoint.vm + " did not answer within timeouts.serverSeconds", false);
    std::string why = response_ && !response_->rejection().empty()
                          ? std::string(response_->rejection())
                          : ec.message();
    if (!retryable_) why += " (after more than 64 KiB of the request was sent: not retried)";
    reply(502, "endpoint " + backend_->endpoint.vm + " failed: " + why, false);
  }

  // ---- writing to the client.

  void reply(int status, const std::string& text, bool close_after) {
    response_out_.clear();
    // A request whose body is not read to its end leaves the connection in
    // the middle of a message: it must close.
    bool keep_alive = client_keep_alive_ && !close_after && (!request_ || request_->is_done());
    append_local_response(response_out_, status, client_version_, keep_alive, text + "\n");
    write_client(keep_alive ? After::kNextRequest : After::kClose);
  }

  enum class After { kNextRequest, kClose, kMoreResponse, kNextResponse };
  void write_client(After after) {
    expect(Wait::kClientWrite, timeouts().clientSeconds);
    response_started_ = true;
    net::async_write(client_, net::buffer(response_out_),
                     [self = shared_from_this(), after](error_code ec, size_t) {
                       self->response_out_.clear();
                       if (ec) return self->close();
                       switch (after) {
                         case After::kNextRequest:
                           self->response_started_ = false;
                           self->served_one_ = true;
                           return self->read_request();
                         case After::kClose:
                           return self->close();
                         case After::kMoreResponse:
                           return self->read_more_response();
                         case After::kNextResponse:
                           return self->read_response();
                       }
                     });
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

  void close() {
    closed_ = true;
    wait_ = Wait::kNone;
    timer_.cancel();
    conn_.reset();
    active_.reset();
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
  // Output strings and parse scratch keep their capacity across requests.
  RequestForwarder::Scratch scratch_;
  // The bytes for the backend; [0, sent_) were written and are kept for a
  // resend while can_resend().
  std::string request_out_;
  size_t sent_ = 0;
  bool retryable_ = true;
  std::string response_out_;
  std::optional<RequestForwarder> request_;
  std::optional<ResponseForwarder> response_;
  bool sent_continue_ = false;
  // Before the first request a connection has requestHeadSeconds; between
  // requests it may idle for clientSeconds.
  bool served_one_ = false;
  enum class ReadPhase { kIdle, kHead, kBody };
  ReadPhase read_phase_ = ReadPhase::kHead;
  bool response_started_ = false;
  int client_version_ = 11;
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
