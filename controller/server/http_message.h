// The server's own request and response types: what a handler reads and
// writes, whichever transport carried it (http_core.h). Shaped like the
// cpp-httplib types they replace (get_header_value, has_param, set_content)
// so that the handlers read the same; nothing here knows about sockets.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace corral::server {

// Where a streamed body goes (a LIST's records, a watch's events). Called on
// one thread at a time; each write blocks until its bytes are handed to the
// socket, so a slow reader slows its own writer and nobody else.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // False once the client cannot be written to (gone, write timeout, stop):
  // the writer should stop.
  virtual bool write(std::string chunk) = 0;
  // True once the client closed its side or the server is stopping; a
  // streamer that waits for something to send polls this.
  virtual bool client_gone() const = 0;
};

// A long-lived body made of events (a watch), sent without a thread of its
// own: the core pulls what is ready on its I/O thread whenever the source
// calls the `wake` it was given, and writes it as one chunk. Many such
// streams share the one I/O thread, so an event reaches a thousand watchers
// without a thousand thread wake-ups.
class EventSource {
 public:
  virtual ~EventSource() = default;
  // Called once, on the I/O thread, once the head is written. `wake` may be
  // called from any thread, any number of times; it only schedules a pull.
  virtual void start(std::function<void()> wake) = 0;
  enum class Pull {
    kDrained,  // all that was ready is in `out`: the next wake says when more is
    kMore,     // more is ready than one pull takes: pulled again once written
    kEnded,    // the stream is over; its last bytes, if any, are in `out`
  };
  // On the I/O thread: appends what is ready now to `out` — a bounded
  // amount, so that one stream does not hold the thread.
  virtual Pull pull(std::string& out) = 0;
};

struct HttpRequest {
  std::string method;  // as sent: "GET", "XMETHOD"
  std::string target;  // as sent: "/apis/corral/v1/vms?watch=1"
  std::string path;    // the target before '?', percent-decoded
  // Query parameters, percent-decoded ('+' is a space), in order.
  std::multimap<std::string, std::string> params;
  std::vector<std::pair<std::string, std::string>> headers;  // names as sent
  std::string body;
  std::string remote_addr;  // the peer's IP address as text
  // When its head had been read: a heartbeat renews its lease as of then, so
  // that a beat queued behind busy workers is not held against its agent.
  std::chrono::steady_clock::time_point received{};
  int version = 11;         // 10 or 11

  // Header lookups ignore the case of the name; the first value wins.
  bool has_header(std::string_view name) const;
  std::string get_header_value(std::string_view name) const;
  bool has_param(const std::string& name) const { return params.count(name) > 0; }
  std::string get_param_value(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type among them
  std::string body;
  // A body produced while it is sent, instead of `body`: with
  // `stream_length` it is sent with that Content-Length, without it chunked.
  // Returns false when a write failed (the connection is then closed).
  std::function<bool(BodySink&)> stream;
  std::optional<size_t> stream_length;
  // Instead of `stream`: a long-lived body of events (chunked; the
  // connection closes after it). It ends when the source says so, when the
  // client goes away, or `events_lifetime` after its head was written.
  std::shared_ptr<EventSource> events;
  std::chrono::milliseconds events_lifetime{0};

  void set_content(std::string content, std::string_view content_type);
  // Appends (a Warning may come several times); Content-Type replaces.
  void set_header(std::string_view name, std::string value);
  std::string get_header_value(std::string_view name) const;
};

// Case-insensitive ASCII comparison of header names.
bool header_name_equals(std::string_view a, std::string_view b);

// Percent-decoding of a path ("%2F" → "/") or, with plus_as_space, of a
// query component ("a+b" → "a b"). Malformed escapes are kept as they are.
std::string decode_url(std::string_view text, bool plus_as_space);

// "a=1&b=x%20y" → {a: 1, b: x y}.
std::multimap<std::string, std::string> parse_query(std::string_view query);

// Sets the target as sent and what is read from it: the percent-decoded
// path before '?' and the query parameters after it.
void set_target(HttpRequest& req, std::string target);

// "OK", "Not Found", ...; "" for codes it does not know.
const char* status_reason(int status);

}  // namespace corral::server
