#include "controller/store/etcd/etcd_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <mutex>
#include <string_view>

#include "base/line_splitter.h"

namespace corral::etcd {

namespace {

// curl_global_init is not thread-safe; once, before the first handle (as
// client/client.cpp does; a second call is counted, not repeated, by curl).
void etcd_curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EtcdHeaderList {
  curl_slist* list = nullptr;
  EtcdHeaderList() {
    list = curl_slist_append(list, "Content-Type: application/json");
    list = curl_slist_append(list, "Accept: application/json");
    list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  }
  ~EtcdHeaderList() { curl_slist_free_all(list); }
  EtcdHeaderList(const EtcdHeaderList&) = delete;
  EtcdHeaderList& operator=(const EtcdHeaderList&) = delete;
};

void etcd_prepare_post(CURL* c, const std::string& url, const std::string& body,
                       std::chrono::milliseconds connect_timeout, const EtcdHeaderList& headers,
                       char* errbuf) {
  curl_easy_reset(c);  // keeps the handle's open connections
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.list);
}

// True when the failed request provably never reached the server: no
// connection was made, or not one byte of the request was written to it.
bool etcd_not_sent(CURL* c, CURLcode rc) {
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
      rc == CURLE_COULDNT_RESOLVE_PROXY || rc == CURLE_UNSUPPORTED_PROTOCOL ||
      rc == CURLE_URL_MALFORMAT)
    return true;
  long sent = 0;
  return curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &sent) == CURLE_OK && sent == 0;
}

Error etcd_transport_error(CURLcode rc, const char* errbuf) {
  std::string detail = errbuf && *errbuf ? errbuf : curl_easy_strerror(rc);
  if (rc == CURLE_OPERATION_TIMEDOUT) return make_error(ErrorCode::kTimeout, "timed out: " + detail);
  return make_error(ErrorCode::kUnavailable, "cannot reach: " + detail);
}

struct EtcdBodyBuffer {
  std::string* body = nullptr;
  size_t max = 0;
  bool over = false;
};

size_t etcd_collect_body(char* data, size_t size, size_t n, void* user) {
  auto* b = static_cast<EtcdBodyBuffer*>(user);
  if (b->max > 0 && b->body->size() + size * n > b->max) {
    b->over = true;
    return 0;  // curl aborts with CURLE_WRITE_ERROR
  }
  b->body->append(data, size * n);
  return size * n;
}

}  // namespace

// ---- HttpPool ---------------------------------------------------------------------

HttpPool::HttpPool(std::chrono::milliseconds connect_timeout, size_t max_response_bytes)
    : connect_timeout_(connect_timeout), max_response_bytes_(max_response_bytes) {
  etcd_curl_init_once();
}

HttpPool::~HttpPool() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpPool::take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpPool::give_back(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_.push_back(handle);
}

PostOutcome HttpPool::post(const std::string& url, const std::string& body,
                           std::chrono::milliseconds timeout) {
  PostOutcome out;
  CURL* c = static_cast<CURL*>(take());
  if (!c) {
    out.error = make_error(ErrorCode::kInternal, "curl_easy_init failed");
    out.not_sent = true;
    return out;
  }
  EtcdHeaderList headers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  etcd_prepare_post(c, url, body, connect_timeout_, headers, errbuf);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  EtcdBodyBuffer buffer{&out.body, max_response_bytes_};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, etcd_collect_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &buffer);
  CURLcode rc = curl_easy_perform(c);
  if (buffer.over) {
    out.error = make_error(ErrorCode::kTooLarge, "answer longer than " + std::to_string(buffer.max) +
                                                     " bytes, the most this client takes");
  } else if (rc != CURLE_OK) {
    out.error = etcd_transport_error(rc, errbuf);
    out.not_sent = etcd_not_sent(c, rc);
  } else {
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    out.answered = true;
    out.status = static_cast<int>(code);
  }
  give_back(c);
  return out;
}

// ---- HttpStream -------------------------------------------------------------------

namespace {

struct EtcdStreamState {
  CURL* curl = nullptr;
  const HttpStream::LineHandler* on_line = nullptr;
  LineSplitter lines;
  std::string error_body;  // a non-2xx answer's body (its first 64 KiB)
  bool ended_by_handler = false;
  bool line_too_long = false;
  std::chrono::steady_clock::time_point last_byte;
};

constexpr size_t kEtcdMaxErrorBody = 64u << 10;

size_t etcd_stream_write(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<EtcdStreamState*>(user);
  size_t bytes = size * n;
  s->last_byte = std::chrono::steady_clock::now();
  long code = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300) {
    size_t room = kEtcdMaxErrorBody - std::min(kEtcdMaxErrorBody, s->error_body.size());
    s->error_body.append(data, std::min(room, bytes));
    return bytes;
  }
  switch (s->lines.feed(std::string_view(data, bytes), *s->on_line)) {
    case LineSplitter::Outcome::kMore:
      return bytes;
    case LineSplitter::Outcome::kStopped:
      s->ended_by_handler = true;
      return 0;  // curl aborts with CURLE_WRITE_ERROR
    case LineSplitter::Outcome::kTooLong:
      s->line_too_long = true;
      return 0;
  }
  return 0;
}

}  // namespace

HttpStream::HttpStream() {
  etcd_curl_init_once();
  multi_ = curl_multi_init();
}

HttpStream::~HttpStream() {
  if (multi_) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpStream::stop() {
  stop_.store(true);
  if (multi_) curl_multi_wakeup(static_cast<CURLM*>(multi_));  // thread-safe by curl's contract
}

Result<void> HttpStream::run(const std::string& url, const std::string& body, const LineHandler& on_line,
                             const Options& options, int* status, std::string* error_body,
                             bool* not_sent) {
  *status = 0;
  *not_sent = false;
  CURLM* m = static_cast<CURLM*>(multi_);
  CURL* c = curl_easy_init();
  if (!m || !c) {
    if (c) curl_easy_cleanup(c);
    *not_sent = true;
    return make_error(ErrorCode::kInternal, "curl_multi_init or curl_easy_init failed");
  }
  EtcdHeaderList headers;
  char errbuf[CURL_ERROR_SIZE] = {0};
  etcd_prepare_post(c, url, body, options.connect_timeout, headers, errbuf);
  EtcdStreamState state{.curl = c, .on_line = &on_line, .lines = LineSplitter(options.max_line_bytes)};
  state.last_byte = std::chrono::steady_clock::now();
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, etcd_stream_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  curl_multi_add_handle(m, c);

  // The longest one poll waits: stop() wakes it sooner; the idle check needs a tick.
  constexpr int kPollTickMs = 200;
  bool idle_expired = false;
  bool done = false;
  CURLcode rc = CURLE_OK;
  while (!stop_.load()) {
    int running = 0;
    curl_multi_perform(m, &running);
    int queued = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &queued)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    if (options.idle_timeout.count() > 0 &&
        std::chrono::steady_clock::now() - state.last_byte >= options.idle_timeout) {
      idle_expired = true;
      break;
    }
    curl_multi_poll(m, nullptr, 0, kPollTickMs, nullptr);
  }
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  *status = static_cast<int>(code);
  bool unsent = done && rc != CURLE_OK && etcd_not_sent(c, rc);
  curl_multi_remove_handle(m, c);
  curl_easy_cleanup(c);

  if (stop_.load() || state.ended_by_handler) return Ok{};
  if (state.line_too_long)
    return make_error(ErrorCode::kTooLarge, "an answer line longer than " +
                                                std::to_string(options.max_line_bytes) +
                                                " bytes, the most this client takes");
  if (idle_expired)
    return make_error(ErrorCode::kTimeout, "no byte for " + std::to_string(options.idle_timeout.count()) +
                                               " ms");
  if (code != 0 && (code < 200 || code >= 300)) {
    *error_body = state.error_body;
    return make_error(ErrorCode::kUnavailable, "HTTP " + std::to_string(code));
  }
  if (done && rc != CURLE_OK) {
    *not_sent = unsent;
    return etcd_transport_error(rc, errbuf);
  }
  // The server ended the stream; a last line without its newline still counts.
  if (!state.lines.rest().empty()) on_line(state.lines.rest());
  return Ok{};
}

}  // namespace corral::etcd
