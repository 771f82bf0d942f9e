#include "controller/server/http_core.h"

#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <future>
#include <limits>
#include <mutex>
#include <span>
#include <thread>
#include <unordered_map>

#include "base/listen_socket.h"
#include "base/log.h"
#include "controller/server/connection_limits.h"

namespace corral::server {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using boost::system::error_code;

const char* refusal_label(CoreRefusal reason) {
  switch (reason) {
    case CoreRefusal::kMaxConnections: return "max_connections";
    case CoreRefusal::kMaxConnectionsPerAddress: return "max_connections_per_address";
    case CoreRefusal::kHeadTimeout: return "request_head_timeout";
    case CoreRefusal::kHeaderTooLarge: return "header_too_large";
    case CoreRefusal::kMalformed: return "malformed";
    case CoreRefusal::kBodyTimeout: return "body_timeout";
  }
  return "malformed";
}

namespace {

constexpr size_t kReadBytes = 16 * 1024;
// A lingering close discards at most this much, for at most kLingerTime.
constexpr size_t kLingerBytes = 1024 * 1024;
constexpr std::chrono::seconds kLingerTime{1};
// After an accept error (EMFILE: out of descriptors) the next accept waits
// this long instead of spinning.
constexpr std::chrono::milliseconds kAcceptRetry{50};

using Parser = http::request_parser<http::string_body>;

// Beast hands the parser the buffered bytes until it needs more or is done.
void feed(beast::flat_buffer& buffer, Parser& parser, bool stop_at_header, error_code& ec) {
  while (buffer.size() > 0 && !parser.is_done()) {
    if (stop_at_header && parser.is_header_done()) return;
    const size_t n = parser.put(buffer.data(), ec);
    buffer.consume(n);
    if (ec == http::error::need_more) {
      ec = {};
      return;
    }
    if (ec) return;
    if (n == 0) return;
  }
}

// "<hex size>\r\n", the line before a chunk of `size` bytes, into `out`;
// returns its length.
size_t chunk_head(char (&out)[24], size_t size) {
  return static_cast<size_t>(std::snprintf(out, sizeof out, "%zx\r\n", size));
}

// One chunk of a chunked body (an empty piece would end the body: skipped).
void append_chunk(std::string& out, std::string_view piece) {
  if (piece.empty()) return;
  char head[24];
  out.append(head, chunk_head(head, piece.size()));
  out += piece;
  out += "\r\n";
}

std::string serialize_head(const HttpResponse& res, bool head_only_length_known, size_t length,
                           bool chunked, bool close) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(res.status);
  out += ' ';
  out += status_reason(res.status);
  out += "\r\n";
  for (const auto& [k, v] : res.headers) {
    if (header_name_equals(k, "Content-Length") || header_name_equals(k, "Transfer-Encoding"))
      continue;
    if (close && header_name_equals(k, "Connection")) continue;  // written below
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  const bool no_body = res.status / 100 == 1 || res.status == 204 || res.status == 304;
  if (!no_body) {
    if (chunked) {
      out += "Transfer-Encoding: chunked\r\n";
    } else if (head_only_length_known) {
      out += "Content-Length: ";
      out += std::to_string(length);
      out += "\r\n";
    }
  }
  if (close) out += "Connection: close\r\n";
  out += "\r\n";
  return out;
}

bool wants_close(const HttpResponse& res) {
  const std::string c = res.get_header_value("Connection");
  return header_name_equals(c, "close");
}

}  // namespace

// What a session needs from the core, and what stop() needs from a session.
struct SessionBase {
  virtual ~SessionBase() = default;
  virtual void close_now() = 0;    // on the I/O thread
  virtual void pump_events() = 0;  // on the I/O thread: write what its event source has
};

// One I/O thread and its io_context. A connection lives on one shard from
// accept to close: all its handlers run on that shard's thread, so a session
// needs no lock; the shards run side by side (a PUT's fan-out to a thousand
// watches is written by every core, not one).
struct IoShard {
  explicit IoShard(const std::atomic<bool>& core_stopping) : stopping(core_stopping) {}

  const std::atomic<bool>& stopping;
  net::io_context io{1};
  // Keeps io.run() going while nothing is pending (after stop() closed the
  // listener, workers and streams still post their last writes to it).
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  std::thread thread;

  std::mutex sessions_mu;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions;  // guarded by sessions_mu

  // Event sources that have something to write: one wake of the I/O thread
  // for however many come (an event to a thousand watches is one post per
  // shard, not a thousand contending for the scheduler's lock).
  std::mutex wakes_mu;
  std::vector<std::weak_ptr<SessionBase>> wakes;  // guarded by wakes_mu
  void wake(std::weak_ptr<SessionBase> session);
  void pump_woken();
};

struct HttpCore::Impl {
  Impl(HttpHandler& h, HttpCoreOptions o)
      : handler(h),
        options(std::move(o)),
        limits(options.max_connections, options.max_connections_per_address) {}

  static std::vector<std::unique_ptr<IoShard>> make_shards(size_t io_threads,
                                                           const std::atomic<bool>& stopping) {
    const size_t cores = std::max(1u, std::thread::hardware_concurrency());
    const size_t n = io_threads > 0 ? io_threads : std::min<size_t>(cores, 4);
    std::vector<std::unique_ptr<IoShard>> out;
    for (size_t i = 0; i < n; ++i) out.push_back(std::make_unique<IoShard>(stopping));
    return out;
  }

  // Declared before the io_context: sessions still queued in it when it is
  // destroyed use these in their destructors.
  HttpHandler& handler;
  const HttpCoreOptions options;
  ConnectionLimits limits;
  std::unique_ptr<ssl::context> tls;
  std::atomic<int> port{0};
  std::atomic<bool> stopping{false};
  bool started = false;

  // Declared before the acceptor, which lives on shard 0's io_context and
  // must go first.
  std::vector<std::unique_ptr<IoShard>> shards = make_shards(options.io_threads, stopping);
  size_t next_shard = 0;  // on shard 0's thread: the next connection's shard
  tcp::acceptor acceptor{shards.front()->io};
  net::steady_timer accept_retry{shards.front()->io};
  std::unique_ptr<net::thread_pool> workers;

  Result<void> load_tls();
  void accept();
  template <class Stream>
  void serve_connection(IoShard& shard, std::shared_ptr<SessionBase> s);
};

namespace {

// One blocking write from a worker or stream thread, carried out on the I/O
// thread: the caller waits until its bytes are written, failed, or the wait
// passed the write timeout (then the bytes stay owned by the I/O side).
struct WriteWait {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;
  void finish(bool result) {
    std::lock_guard lock(mu);
    done = true;
    ok = result;
    cv.notify_all();
  }
  bool wait(std::chrono::milliseconds bound) {
    std::unique_lock lock(mu);
    if (!cv.wait_for(lock, bound, [&] { return done; })) return false;
    return ok;
  }
};

// The TCP socket under a stream: cancel, shut down, close, and the lingering
// reads that discard raw bytes.
inline tcp::socket& lowest(tcp::socket& s) { return s; }
inline tcp::socket& lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpCore::Impl& core, IoShard& shard, Stream stream, ConnectionLimits::Slot slot,
          std::string address)
      : core_(core),
        shard_(shard),
        stream_(std::move(stream)),
        timer_(shard.io),
        events_timer_(shard.io),
        events_progress_timer_(shard.io),
        slot_(std::move(slot)),
        address_(std::move(address)) {
    core_.handler.connections(+1);
  }
  ~Session() override {
    {
      std::lock_guard lock(shard_.sessions_mu);
      shard_.sessions.erase(this);
    }
    core_.handler.connections(-1);
  }

  void start() {
    arm(core_.options.request_head_timeout);  // the handshake and the first head
    if constexpr (std::is_same_v<Stream, ssl::stream<tcp::socket>>) {
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) return self->close_now();
                                self->read_head();
                              });
    } else {
      read_head();
    }
  }

  void close_now() override {
    closed_ = true;
    gone_ = true;
    error_code ignored;
    timer_.cancel();
    events_timer_.cancel();
    events_progress_timer_.cancel();
    lowest(stream_).close(ignored);
  }

 private:
  enum class Phase { kIdle, kHead, kBody, kBusy, kLinger };
  using Self = Session<Stream>;

  std::shared_ptr<Self> self() { return this->shared_from_this(); }

  // One deadline at a time: when it passes, pending operations are cancelled
  // and their handlers see timed_out_.
  void arm(std::chrono::milliseconds d) {
    const uint64_t gen = ++timer_gen_;
    timer_.expires_after(d);
    timer_.async_wait([self = self(), gen](error_code ec) {
      if (ec || gen != self->timer_gen_) return;
      self->timed_out_ = true;
      error_code ignored;
      lowest(self->stream_).cancel(ignored);
    });
  }
  void disarm() {
    ++timer_gen_;
    timer_.cancel();
  }

  // ---- reading a request

  void read_head() {
    req_ = HttpRequest();
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(core_.options.max_header_bytes));
    // The body's cap is set once the head passed the gate: Beast would check
    // a Content-Length against it while parsing the head, before the gate
    // could answer 401 to a stranger.
    parser_->body_limit(std::numeric_limits<uint64_t>::max());
    parser_->eager(false);
    timed_out_ = false;
    if (requests_ == 0) {
      phase_ = Phase::kHead;  // armed since the connection started
    } else if (buffer_.size() > 0) {
      phase_ = Phase::kHead;  // pipelined
      arm(core_.options.request_head_timeout);
    } else {
      phase_ = Phase::kIdle;
      arm(core_.options.keep_alive_timeout);
    }
    parse_head();
  }

  void parse_head() {
    error_code ec;
    feed(buffer_, *parser_, true, ec);
    if (ec) return on_read_error(ec);
    if (parser_->is_header_done()) return on_head();
    if (buffer_.size() > core_.options.max_header_bytes + kReadBytes)
      return on_read_error(http::error::header_limit);
    if (phase_ == Phase::kIdle && buffer_.size() > 0) {
      // The first byte of a kept-alive connection's next request: the whole
      // head is due within the head deadline from now.
      phase_ = Phase::kHead;
      arm(core_.options.request_head_timeout);
    }
    read_more();
  }

  void read_more() {
    stream_.async_read_some(buffer_.prepare(kReadBytes),
                            [self = self()](error_code ec, size_t n) {
                              self->buffer_.commit(n);
                              if (ec) return self->on_read_error(ec);
                              if (self->phase_ == Phase::kBody) return self->parse_body();
                              self->parse_head();
                            });
  }

  void on_read_error(error_code ec) {
    if (closed_) return;
    HttpHandler& h = core_.handler;
    if (timed_out_) {
      if (phase_ == Phase::kIdle) return close_now();  // an idle keep-alive connection
      if (phase_ == Phase::kBody) {
        h.refused(CoreRefusal::kBodyTimeout);
        return reply_and_close(408, "the request body was not received within " +
                                        seconds_text(core_.options.read_timeout) + " of inactivity");
      }
      h.refused(CoreRefusal::kHeadTimeout);
      if (buffer_.size() == 0 && !parser_->got_some()) return close_now();  // never spoke
      return reply_and_close(408, "the request head was not received within " +
                                      seconds_text(core_.options.request_head_timeout));
    }
    if (ec == http::error::header_limit) {
      h.refused(CoreRefusal::kHeaderTooLarge);
      return reply_and_close(431, "the request head is larger than the limit of " +
                                      std::to_string(core_.options.max_header_bytes) + " bytes");
    }
    if (ec == http::error::body_limit) return reply_and_close(413, too_large_message());
    if (ec.category() == http::make_error_code(http::error::need_more).category()) {
      h.refused(CoreRefusal::kMalformed);
      return reply_and_close(400, "malformed HTTP request: " + ec.message());
    }
    close_now();  // the client went away
  }

  std::string too_large_message() const {
    return "the request body is larger than the limit of " +
           std::to_string(core_.options.max_body_bytes) + " bytes";
  }

  static std::string seconds_text(std::chrono::milliseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", static_cast<double>(d.count()) / 1000.0);
    return buf;
  }

  void on_head() {
    head_done_ = std::chrono::steady_clock::now();
    const auto& msg = parser_->get();
    req_ = HttpRequest();
    req_.method = std::string(msg.method_string());
    set_target(req_, std::string(msg.target()));
    req_.version = static_cast<int>(msg.version());
    req_.remote_addr = address_;
    req_.received = head_done_;
    req_.headers.reserve(16);
    for (const auto& f : msg)
      req_.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    const auto length = parser_->content_length();
    const bool has_body = parser_->chunked() || (length && *length > 0);
    keep_alive_ = msg.keep_alive();

    if (auto refusal = core_.handler.gate(req_)) {
      if (has_body) keep_alive_ = false;  // its body is never read
      return respond(std::move(*refusal));
    }
    if (length && *length > core_.options.max_body_bytes)
      return reply_and_close(413, too_large_message());
    if (!has_body) return dispatch();
    parser_->body_limit(core_.options.max_body_bytes);
    parser_->eager(true);
    phase_ = Phase::kBody;
    arm(core_.options.read_timeout);
    const auto expect = msg[http::field::expect];
    if (msg.version() == 11 &&
        header_name_equals(std::string_view(expect.data(), expect.size()), "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue), [self = self()](error_code ec, size_t) {
        if (ec) return self->close_now();
        self->parse_body();
      });
      return;
    }
    parse_body();
  }

  void parse_body() {
    error_code ec;
    feed(buffer_, *parser_, false, ec);
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return dispatch();
    arm(core_.options.read_timeout);  // inactivity: a body that moves keeps its time
    read_more();
  }

  // ---- serving

  void dispatch() {
    disarm();
    phase_ = Phase::kBusy;
    ++requests_;
    req_.body = std::move(parser_->get().body());
    if (requests_ >= core_.options.keep_alive_max_requests || core_.stopping) keep_alive_ = false;
    net::post(*core_.workers, [self = self(), req = std::move(req_)]() mutable {
      HttpResponse res;
      self->core_.handler.serve(req, res);
      self->after_serve(std::move(req), std::move(res));
    });
  }

  // On the worker that served the request.
  void after_serve(HttpRequest req, HttpResponse res) {
    const bool head_method = req.method == "HEAD";
    if (res.events && !head_method) {
      net::post(shard_.io, [self = self(), req = std::move(req), res = std::move(res)]() mutable {
        self->req_ = std::move(req);
        self->start_events(std::move(res));
      });
      return;
    }
    res.events = nullptr;  // HEAD: the head alone
    if (!res.stream || head_method) {
      if (res.stream && res.stream_length) res.body.clear();
      net::post(shard_.io, [self = self(), req = std::move(req), res = std::move(res)]() mutable {
        self->req_ = std::move(req);
        self->respond(std::move(res));
      });
      return;
    }
    run_stream(std::move(req), std::move(res));
  }

  // Blocks the calling (worker or stream) thread while `bytes` are written.
  bool write_blocking(std::string bytes) {
    auto wait = std::make_shared<WriteWait>();
    auto data = std::make_shared<std::string>(std::move(bytes));
    net::post(shard_.io, [self = self(), wait, data] {
      if (self->closed_) return wait->finish(false);
      self->arm(self->core_.options.write_timeout);
      net::async_write(self->stream_, net::buffer(*data),
                       [self, wait, data](error_code ec, size_t) {
                         self->disarm();
                         wait->finish(!ec);
                       });
    });
    return wait->wait(core_.options.write_timeout + std::chrono::seconds(2));
  }

  class Sink final : public BodySink {
   public:
    Sink(Self& s, bool chunked) : s_(s), chunked_(chunked) {}
    bool write(std::string chunk) override {
      if (chunk.empty()) return !client_gone();
      if (!chunked_) return s_.write_blocking(std::move(chunk));
      std::string framed;
      framed.reserve(chunk.size() + 24);
      append_chunk(framed, chunk);
      return s_.write_blocking(std::move(framed));
    }
    bool client_gone() const override { return s_.gone_ || s_.core_.stopping; }

   private:
    Self& s_;
    bool chunked_;
  };

  void run_stream(HttpRequest req, HttpResponse res) {
    const bool chunked = !res.stream_length && req.version == 11;
    const bool close = !keep_alive_ || wants_close(res) || (!res.stream_length && !chunked);
    if (close) keep_alive_ = false;
    std::string head =
        serialize_head(res, res.stream_length.has_value(), res.stream_length.value_or(0), chunked,
                       close);
    bool ok = write_blocking(std::move(head));
    if (ok) {
      Sink sink(*this, chunked);
      ok = res.stream(sink);
      if (ok && chunked) ok = write_blocking("0\r\n\r\n");
    }
    const int status = res.status;
    res.stream = nullptr;  // what it holds goes here
    net::post(shard_.io, [self = self(), req = std::move(req), ok, status]() mutable {
      self->req_ = std::move(req);
      self->finish(status, ok);
    });
  }

  // ---- a body of events (HttpResponse::events), all on the I/O thread

  void start_events(HttpResponse res) {
    if (closed_) return;
    keep_alive_ = false;
    events_ = std::move(res.events);
    events_status_ = res.status;
    events_chunked_ = req_.version == 11;
    out_ = serialize_head(res, false, 0, events_chunked_, true);
    phase_ = Phase::kBusy;
    watching_ = true;
    watch_for_close();
    events_writing_ = true;
    arm(core_.options.write_timeout);
    net::async_write(stream_, net::buffer(out_), [self = self(), lifetime = res.events_lifetime](
                                                     error_code ec, size_t) {
      self->disarm();
      self->events_writing_ = false;
      if (ec || !self->events_) return self->end_events(false);
      if (lifetime.count() > 0) {
        self->events_timer_.expires_after(lifetime);
        self->events_timer_.async_wait([weak = self->weak_from_this()](error_code timer_ec) {
          auto s = weak.lock();
          if (timer_ec || !s || !s->events_) return;
          s->events_expired_ = true;
          s->pump_events();
        });
      }
      self->check_events_progress();
      // Weak: the source (its watch) must not keep the session alive.
      self->events_->start([weak = std::weak_ptr<SessionBase>(self), &shard = self->shard_] {
        shard.wake(weak);
      });
      self->pump_events();
    });
  }

  // Writes what the source has ready: on each wake, and after a write when
  // a wake came meanwhile or the source had more than one pull's worth.
  void pump_events() override {
    if (!events_ || closed_) return;
    if (events_writing_) {
      events_wake_pending_ = true;
      return;
    }
    if (gone_) return end_events(false);
    events_wake_pending_ = false;
    events_body_.clear();
    const EventSource::Pull pulled =
        events_expired_ ? EventSource::Pull::kEnded : events_->pull(events_body_);
    events_more_ = pulled == EventSource::Pull::kMore;
    const bool ended = pulled == EventSource::Pull::kEnded;
    // The pulled lines go out as one chunk, framed by buffers around them
    // (no copy of the body).
    auto& buffers = events_buffers_;
    size_t count = 0;
    static constexpr std::string_view kCrlf = "\r\n", kLastChunk = "0\r\n\r\n";
    if (!events_chunked_) {
      if (!events_body_.empty()) buffers[count++] = net::buffer(events_body_);
    } else {
      if (!events_body_.empty()) {
        buffers[count++] =
            net::buffer(events_chunk_head_, chunk_head(events_chunk_head_, events_body_.size()));
        buffers[count++] = net::buffer(events_body_);
        buffers[count++] = net::buffer(kCrlf.data(), kCrlf.size());
      }
      if (ended) buffers[count++] = net::buffer(kLastChunk.data(), kLastChunk.size());
    }
    if (count == 0) {
      if (ended) end_events(true);
      return;
    }
    events_writing_ = true;
    ++events_writes_;
    net::async_write(stream_, std::span<const net::const_buffer>(buffers.data(), count),
                     [self = self(), ended](error_code ec, size_t) {
                       self->events_writing_ = false;
                       // A replay's large pulls do not stay reserved for the
                       // watch's life (a thousand watches).
                       if (self->events_body_.capacity() > 64 * 1024) std::string().swap(self->events_body_);
                       if (ec) return self->end_events(false);
                       if (ended) return self->end_events(true);
                       if (self->events_wake_pending_ || self->events_more_) self->pump_events();
                     });
  }

  // The write timeout of an event body, without a timer per write (two
  // cancelled waits per event, a thousand watches): every write_timeout,
  // a write still pending since the last look — no write completed in
  // between — is cut, and the stream ends.
  void check_events_progress() {
    events_progress_timer_.expires_after(core_.options.write_timeout);
    events_progress_timer_.async_wait([weak = this->weak_from_this(), seen = events_writes_,
                                       was_writing = events_writing_](error_code ec) {
      auto s = weak.lock();
      if (ec || !s || !s->events_) return;
      if (was_writing && s->events_writing_ && s->events_writes_ == seen) {
        error_code ignored;
        lowest(s->stream_).cancel(ignored);  // the write's handler ends the stream
        return;
      }
      s->check_events_progress();
    });
  }

  // The source goes (its watch, its slot); the connection closes.
  void end_events(bool ok) {
    if (!events_) return;
    events_timer_.cancel();
    events_progress_timer_.cancel();
    events_.reset();
    finish(events_status_, ok);
  }

  // While a long-lived stream runs, a read notices the client going away
  // (EOF or reset) without waiting for the next write to fail.
  void watch_for_close() {
    if (closed_) return;
    stream_.async_read_some(net::buffer(discard_), [self = self()](error_code ec, size_t) {
      if (ec) {
        self->gone_ = true;
        if (self->events_ && !self->events_writing_) self->end_events(false);
        return;
      }
      self->watch_for_close();  // bytes after a watch request are not a request: ignored
    });
  }

  void reply_and_close(int status, const std::string& message) {
    keep_alive_ = false;
    if (closed_) return;
    respond(core_.handler.error(status, message));
  }

  void respond(HttpResponse res) {
    if (closed_) return;
    if (wants_close(res)) keep_alive_ = false;
    const bool head_method = req_.method == "HEAD";
    out_ = serialize_head(res, true, res.stream_length.value_or(res.body.size()), false,
                          !keep_alive_);
    if (!head_method) out_ += res.body;
    const int status = res.status;
    phase_ = Phase::kBusy;
    arm(core_.options.write_timeout);
    net::async_write(stream_, net::buffer(out_), [self = self(), status](error_code ec, size_t) {
      self->disarm();
      self->finish(status, !ec);
    });
  }

  void finish(int status, bool ok) {
    if (!req_.method.empty()) {
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - head_done_;
      core_.handler.finished(req_, status, took.count());
    }
    out_.clear();
    out_.shrink_to_fit();
    // A long-lived stream's read for the client's close may still be
    // pending, so no lingering read: the client had nothing left to send.
    if (!ok || closed_ || watching_) return close_now();
    if (!keep_alive_ || core_.stopping) return linger_close();
    read_head();
  }

  // Shut down sending, then discard what the client still sends (bounded),
  // so that an unread body does not turn the close into a reset that loses
  // the answer on its way.
  void linger_close() {
    if (closed_) return;
    phase_ = Phase::kLinger;
    error_code ignored;
    lowest(stream_).shutdown(tcp::socket::shutdown_send, ignored);
    arm(std::chrono::duration_cast<std::chrono::milliseconds>(kLingerTime));
    linger_read();
  }

  void linger_read() {
    lowest(stream_).async_read_some(net::buffer(discard_), [self = self()](error_code ec, size_t n) {
      self->lingered_ += n;
      if (ec || self->lingered_ >= kLingerBytes) return self->close_now();
      self->linger_read();
    });
  }

  HttpCore::Impl& core_;
  IoShard& shard_;  // the thread every handler of this connection runs on
  Stream stream_;
  net::steady_timer timer_;
  net::steady_timer events_timer_;           // the lifetime of a body of events
  net::steady_timer events_progress_timer_;  // its write timeout (check_events_progress)
  uint64_t timer_gen_ = 0;
  bool timed_out_ = false;
  ConnectionLimits::Slot slot_;
  const std::string address_;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  HttpRequest req_;
  std::string out_;
  Phase phase_ = Phase::kHead;
  size_t requests_ = 0;
  bool keep_alive_ = true;
  bool closed_ = false;
  bool watching_ = false;  // a read for the client's close is pending
  // A body of events (start_events): its source while it runs.
  std::shared_ptr<EventSource> events_;
  int events_status_ = 200;
  bool events_chunked_ = true;
  bool events_writing_ = false;
  bool events_expired_ = false;
  bool events_wake_pending_ = false;  // woken while a write was pending
  bool events_more_ = false;          // the last pull left some behind
  uint64_t events_writes_ = 0;        // writes started
  std::string events_body_;           // the pulled lines being written
  std::array<net::const_buffer, 4> events_buffers_;  // the write: the body and its framing
  char events_chunk_head_[24];
  std::atomic<bool> gone_{false};
  std::chrono::steady_clock::time_point head_done_;
  size_t lingered_ = 0;
  char discard_[4096];
};

}  // namespace

void IoShard::wake(std::weak_ptr<SessionBase> session) {
  // Once stopping, nothing is posted: a watch the core still holds (in a
  // handler queued on the stopped loop) goes with the io_context, and a
  // publisher must not post into it while it is being destroyed.
  if (stopping) return;
  bool first = false;
  {
    std::lock_guard lock(wakes_mu);
    first = wakes.empty();
    wakes.push_back(std::move(session));
  }
  if (first) net::post(io, [this] { pump_woken(); });
}

void IoShard::pump_woken() {
  std::vector<std::weak_ptr<SessionBase>> woken;
  {
    std::lock_guard lock(wakes_mu);
    woken.swap(wakes);
  }
  for (const auto& weak : woken)
    if (auto s = weak.lock()) s->pump_events();
}

Result<void> HttpCore::Impl::load_tls() {
  if (options.tls_cert_file.empty() && options.tls_key_file.empty()) return Ok{};
  tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  error_code ec;
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                       ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                   ec);
  if (!ec) tls->use_certificate_chain_file(options.tls_cert_file, ec);
  if (!ec) tls->use_private_key_file(options.tls_key_file, ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(tls->native_handle()) != 1) {
    tls.reset();
    return make_error(ErrorCode::kUnavailable,
                      "cannot load the TLS certificate " + options.tls_cert_file + " with key " +
                          options.tls_key_file + " (not PEM, or they do not match)");
  }
  return Ok{};
}

template <class Stream>
void HttpCore::Impl::serve_connection(IoShard& shard, std::shared_ptr<SessionBase> s) {
  {
    std::lock_guard lock(shard.sessions_mu);
    shard.sessions.emplace(s.get(), s);
  }
  // Started on its own shard's thread, like everything after.
  net::post(shard.io, [s = std::move(s)] { static_cast<Session<Stream>*>(s.get())->start(); });
}

void HttpCore::Impl::accept() {
  // The socket is made on the shard that will serve it (round robin).
  IoShard& shard = *shards[next_shard];
  next_shard = (next_shard + 1) % shards.size();
  acceptor.async_accept(shard.io, [this, &shard](error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted || stopping) return;
    if (ec) {
      logger("api")->warn("{}: accept: {}", options.listen_name, ec.message());
      accept_retry.expires_after(kAcceptRetry);
      accept_retry.async_wait([this](error_code e) {
        if (!e) accept();
      });
      return;
    }
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    std::string address = remote.address().to_string();
    ConnectionLimits::Slot slot;
    switch (limits.admit(address, &slot)) {
      case ConnectionRefusal::kNone:
        break;
      case ConnectionRefusal::kTotal:
        handler.refused(CoreRefusal::kMaxConnections);
        socket.close(ignored);
        return accept();
      case ConnectionRefusal::kPerAddress:
        // Closed at once, without an answer: writing to each connection of
        // a flood would cost more than the flood.
        handler.refused(CoreRefusal::kMaxConnectionsPerAddress);
        socket.close(ignored);
        return accept();
    }
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls) {
      auto s = std::make_shared<Session<ssl::stream<tcp::socket>>>(
          *this, shard, ssl::stream<tcp::socket>(std::move(socket), *tls), std::move(slot),
          std::move(address));
      serve_connection<ssl::stream<tcp::socket>>(shard, std::move(s));
    } else {
      auto s = std::make_shared<Session<tcp::socket>>(*this, shard, std::move(socket),
                                                      std::move(slot), std::move(address));
      serve_connection<tcp::socket>(shard, std::move(s));
    }
    accept();
  });
}

HttpCore::HttpCore(HttpHandler& handler, HttpCoreOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

HttpCore::~HttpCore() { stop(); }

Result<int> HttpCore::start() {
  Impl& m = *impl_;
  if (m.started) return make_error(ErrorCode::kBadRequest, "the server was already started");
  if (auto t = m.load_tls(); !t) return t.take_error();
  const std::string host = m.options.host == "localhost" ? "127.0.0.1" : m.options.host;
  std::string bare = host;
  if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']')
    bare = bare.substr(1, bare.size() - 2);
  error_code ec;
  const net::ip::address address = net::ip::make_address(bare, ec);
  auto cannot = [&](const std::string& why) {
    return make_error(ErrorCode::kUnavailable,
                      listen_error(m.options.listen_name, bare, m.options.port, why));
  };
  if (ec) return cannot("not an IP address");
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(m.options.port));
  // Exclusive (base/listen_socket.h): SO_REUSEADDR, never SO_REUSEPORT.
  m.acceptor.open(endpoint.protocol(), ec);
  if (!ec) m.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) m.acceptor.bind(endpoint, ec);
  if (!ec) m.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    m.acceptor.close(ignored);
    return cannot(ec.category() == boost::system::system_category() ? bind_error_text(ec.value())
                                                                    : ec.message());
  }
  m.port = m.acceptor.local_endpoint().port();
  m.stopping = false;
  m.workers = std::make_unique<net::thread_pool>(std::max<size_t>(1, m.options.worker_threads));
  m.accept();
  for (auto& shard : m.shards) {
    shard->work.emplace(shard->io.get_executor());
    shard->thread = std::thread([&io = shard->io] { io.run(); });
  }
  m.started = true;
  return m.port.load();
}

void HttpCore::stop() {
  Impl& m = *impl_;
  if (!m.started) return;
  m.started = false;
  m.stopping = true;
  // Close the listener (on shard 0, the acceptor's), then every connection
  // on its own shard's thread, which keeps running until the handlers and
  // streams are done: their last writes fail there instead of waiting on a
  // stopped loop.
  std::promise<void> listener_closed;
  net::post(m.shards.front()->io, [&m, &listener_closed] {
    error_code ignored;
    m.acceptor.close(ignored);
    m.accept_retry.cancel();
    listener_closed.set_value();
  });
  listener_closed.get_future().wait();
  std::vector<std::promise<void>> closed(m.shards.size());
  for (size_t i = 0; i < m.shards.size(); ++i) {
    net::post(m.shards[i]->io, [&shard = *m.shards[i], &done = closed[i]] {
      std::vector<std::shared_ptr<SessionBase>> open;
      {
        std::lock_guard lock(shard.sessions_mu);
        for (auto& [raw, weak] : shard.sessions)
          if (auto s = weak.lock()) open.push_back(std::move(s));
      }
      for (auto& s : open) s->close_now();
      done.set_value();
    });
  }
  for (auto& c : closed) c.get_future().wait();
  m.workers->join();
  for (auto& shard : m.shards) {
    shard->work.reset();
    shard->io.stop();
    if (shard->thread.joinable()) shard->thread.join();
  }
  for (auto& shard : m.shards) {
    {
      std::lock_guard lock(shard->sessions_mu);
      shard->sessions.clear();
    }
    shard->io.restart();
  }
}

int HttpCore::port() const { return impl_->port; }

bool HttpCore::tls() const { return impl_->tls != nullptr; }

size_t HttpCore::open_connections() const { return impl_->limits.open(); }

}  // namespace corral::server
