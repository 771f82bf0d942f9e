#include "controller/store/etcd/etcd_watch.h"

#include <algorithm>
#include <utility>

#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/etcd_http.h"
#include "controller/store/etcd/etcd_json.h"

namespace corral::etcd {

EtcdWatch::EtcdWatch(std::vector<std::string> endpoints, WatchOptions options, BatchHandler on_batch,
                     EndHandler on_end)
    : endpoints_(std::move(endpoints)),
      options_(std::move(options)),
      on_batch_(std::move(on_batch)),
      on_end_(std::move(on_end)),
      stream_(std::make_unique<HttpStream>()),
      thread_([this] { run(); }) {}

EtcdWatch::~EtcdWatch() {
  stream_->stop();
  if (thread_.joinable()) thread_.join();
}

std::string EtcdWatch::endpoint() const {
  int i = endpoint_index_.load();
  return i < 0 ? "" : endpoints_[static_cast<size_t>(i)];
}

void EtcdWatch::run() {
  std::string failures;
  ErrorCode last_code = ErrorCode::kUnavailable;
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    std::string endpoint = endpoints_[i];
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    Error error;
    int64_t compact_revision = 0;
    bool transport_failure = false;
    bool created = run_on(i, endpoint, &error, &compact_revision, &transport_failure);
    if (stream_->stopped()) return;  // the owner's doing: no on_end
    // Before etcd created the watch, a member that cannot be reached is
    // skipped (a watch is a read); anything etcd itself said is final.
    if (created || !transport_failure) {
      if (on_end_) on_end_(error, compact_revision);
      return;
    }
    last_code = error.code;
    if (!failures.empty()) failures += "; then ";
    failures += error.message;
  }
  if (on_end_) {
    on_end_(endpoints_.empty() ? make_error(ErrorCode::kUnavailable, "etcd: watch: no endpoints")
                               : make_error(last_code, failures),
            0);
  }
}

bool EtcdWatch::run_on(size_t index, const std::string& endpoint, Error* error, int64_t* compact_revision,
                       bool* transport_failure) {
  bool created = false;
  bool ended = false;  // an answer line ended the watch; *error says why
  const std::string what = "watch from revision " + std::to_string(options_.start_revision);
  auto on_line = [&](const std::string& line) -> bool {
    auto answer = decode_watch_line(line);
    if (!answer) {
      *error = etcd_error(endpoint, what, answer.take_error());
      ended = true;
      return false;
    }
    WatchResponse& w = *answer;
    if (w.revision > last_revision_.load()) last_revision_.store(w.revision);
    if (w.canceled) {
      ended = true;
      *compact_revision = w.compact_revision;
      if (w.compact_revision > 0) {
        *error = etcd_error(endpoint, what,
                            make_error(ErrorCode::kGone, "required revision has been compacted; the oldest "
                                                         "revision left is " +
                                                             std::to_string(w.compact_revision)));
      } else {
        *error = etcd_error(endpoint, what,
                            make_error(ErrorCode::kUnavailable,
                                       "canceled by etcd" + (w.cancel_reason.empty() ? std::string()
                                                                                     : ": " + w.cancel_reason)));
      }
      return false;
    }
    if (w.created) {
      created = true;
      endpoint_index_.store(static_cast<int>(index));
      WatchBatch batch;
      batch.revision = w.revision;
      batch.created = true;
      if (on_batch_) on_batch_(batch);
      return !stream_->stopped();
    }
    WatchBatch batch;
    batch.revision = w.revision;
    batch.progress = w.events.empty();
    batch.events = std::move(w.events);
    if (on_batch_) on_batch_(batch);
    return !stream_->stopped();
  };

  HttpStream::Options stream_options;
  stream_options.connect_timeout = options_.connect_timeout;
  stream_options.idle_timeout = options_.idle_timeout;
  stream_options.max_line_bytes = options_.max_line_bytes;
  std::string body = encode_watch_create(options_.key, options_.range_end, options_.start_revision,
                                         options_.prev_kv, options_.progress_notify) +
                     "\n";
  int status = 0;
  std::string error_body;
  bool not_sent = false;
  Result<void> r =
      stream_->run(endpoint + "/v3/watch", body, on_line, stream_options, &status, &error_body, &not_sent);
  if (ended) return created;
  if (!r.ok()) {
    if (status != 0 && (status < 200 || status >= 300)) {
      *error = etcd_error(endpoint, what, decode_error(status, error_body));
    } else {
      *error = etcd_error(endpoint, what, r.error());
      *transport_failure = r.error().code == ErrorCode::kUnavailable || r.error().code == ErrorCode::kTimeout;
    }
    return created;
  }
  // The server closed the stream (etcd stopping), or the owner stopped it.
  *error = etcd_error(endpoint, what, make_error(ErrorCode::kUnavailable, "the stream ended"));
  *transport_failure = true;
  return created;
}

}  // namespace corral::etcd
