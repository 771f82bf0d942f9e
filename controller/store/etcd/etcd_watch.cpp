#include "controller/store/etcd/etcd_watch.h"

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <algorithm>
#include <condition_variable>
#include <utility>

#include "controller/store/etcd/etcd_channel.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/etcd_proto.h"
#include "controller/store/etcd/proto/rpc.grpc.pb.h"

namespace corral::etcd {

namespace {

// etcd's answer to a WatchProgressRequest names no watch (clientv3.InvalidWatchID).
constexpr int64_t kNoWatchId = -1;

// While a stream is read, asks etcd for progress every `every` and cancels
// the call when nothing came back for `idle` (EtcdWatch's liveness rule).
// Its own thread: the read blocks, so the watchdog cannot be the reader.
class IdleWatchdog {
 public:
  using Clock = std::chrono::steady_clock;
  using Ask = std::function<bool()>;  // writes one progress request; false: the stream is gone

  IdleWatchdog(grpc::ClientContext& call, std::chrono::milliseconds idle, Ask ask)
      : call_(call), idle_(idle), ask_(std::move(ask)), heard_(Clock::now()) {
    if (idle_.count() > 0) thread_ = std::thread([this] { run(); });
  }
  ~IdleWatchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }
  IdleWatchdog(const IdleWatchdog&) = delete;
  IdleWatchdog& operator=(const IdleWatchdog&) = delete;

  void heard() {
    std::lock_guard lock(mu_);
    heard_ = Clock::now();
  }
  bool expired() const {
    std::lock_guard lock(mu_);
    return expired_;
  }

 private:
  void run() {
    const auto every = std::max(idle_ / 3, std::chrono::milliseconds(1));
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every, [&] { return done_; })) {
      if (Clock::now() - heard_ >= idle_) {
        expired_ = true;
        call_.TryCancel();
        return;
      }
      lock.unlock();
      const bool asked = ask_();  // the only writer once the watch was created
      lock.lock();
      if (!asked) return;
    }
  }

  grpc::ClientContext& call_;
  const std::chrono::milliseconds idle_;
  const Ask ask_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Clock::time_point heard_;  // guarded by mu_
  bool expired_ = false;     // guarded by mu_
  bool done_ = false;        // guarded by mu_
  std::thread thread_;
};

}  // namespace

EtcdWatch::EtcdWatch(std::vector<std::string> endpoints, WatchOptions options, BatchHandler on_batch,
                     EndHandler on_end)
    : endpoints_(std::move(endpoints)),
      options_(std::move(options)),
      on_batch_(std::move(on_batch)),
      on_end_(std::move(on_end)),
      thread_([this] { run(); }) {}

EtcdWatch::~EtcdWatch() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (live_call_) live_call_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

std::string EtcdWatch::endpoint() const {
  int i = endpoint_index_.load();
  return i < 0 ? "" : endpoints_[static_cast<size_t>(i)];
}

bool EtcdWatch::connect(grpc::Channel& channel) {
  const auto deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (connected_within(channel, std::min(left, std::chrono::milliseconds(100)))) return true;
  }
}

void EtcdWatch::run() {
  std::string failures;
  ErrorCode last_code = ErrorCode::kUnavailable;
  auto stopped = [&] {
    std::lock_guard lock(mu_);
    return stopping_;
  };
  for (size_t i = 0; i < endpoints_.size(); ++i) {
    const std::string endpoint = normalized_endpoint(endpoints_[i]);
    Error error;
    int64_t compact_revision = 0;
    bool transport_failure = false;
    bool created = run_on(i, endpoint, &error, &compact_revision, &transport_failure);
    if (stopped()) return;  // the owner's doing: no on_end
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
  const std::string what = "watch from revision " + std::to_string(options_.start_revision);
  auto target = grpc_target(endpoint);
  if (!target) {
    *error = target.take_error();
    *transport_failure = true;
    return false;
  }
  auto channel = make_channel(endpoint, {options_.connect_timeout, options_.max_message_bytes});
  if (!connect(*channel)) {
    *error = etcd_error(endpoint, what, not_connected_within(options_.connect_timeout));
    *transport_failure = true;
    return false;
  }
  auto stub = pb::Watch::NewStub(channel);
  grpc::ClientContext call;
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    live_call_ = &call;
  }
  auto stream = stub->Watch(&call);

  pb::WatchRequest create;
  pb::WatchCreateRequest* c = create.mutable_create_request();
  c->set_key(options_.key);
  if (!options_.range_end.empty()) c->set_range_end(options_.range_end);
  c->set_start_revision(options_.start_revision);
  c->set_prev_kv(options_.prev_kv);
  c->set_progress_notify(options_.progress_notify);

  bool created = false;
  bool ended = false;  // an answer ended the watch; *error says why
  bool idle = false;
  if (stream->Write(create)) {
    pb::WatchRequest progress;
    progress.mutable_progress_request();
    IdleWatchdog watchdog(call, options_.idle_timeout, [&] { return stream->Write(progress); });
    pb::WatchResponse answer;
    while (!ended && stream->Read(&answer)) {
      watchdog.heard();
      WatchResponse w = from_proto(answer);
      if (w.watch_id == kNoWatchId && !w.created && !w.canceled && w.events.empty()) continue;  // our asking
      if (w.revision > last_revision_.load()) last_revision_.store(w.revision);
      if (w.canceled) {
        ended = true;
        *compact_revision = w.compact_revision;
        *error = etcd_error(
            endpoint, what,
            w.compact_revision > 0
                ? make_error(ErrorCode::kGone, "required revision has been compacted; the oldest revision left is " +
                                                   std::to_string(w.compact_revision))
                : make_error(ErrorCode::kUnavailable,
                             "canceled by etcd" + (w.cancel_reason.empty() ? std::string() : ": " + w.cancel_reason)));
        break;
      }
      WatchBatch batch;
      batch.revision = w.revision;
      if (w.created) {
        created = true;
        endpoint_index_.store(static_cast<int>(index));
        batch.created = true;
      } else {
        batch.progress = w.events.empty();
        batch.events = std::move(w.events);
      }
      if (on_batch_) on_batch_(batch);
    }
    // etcd canceled the watch but keeps the stream: end it (before the
    // watchdog is joined, so a write of its own cannot hold the join up).
    if (ended) call.TryCancel();
    idle = watchdog.expired();
  }
  const grpc::Status status = stream->Finish();
  bool stopped = false;
  {
    std::lock_guard lock(mu_);
    live_call_ = nullptr;
    stopped = stopping_;
  }
  if (ended || stopped) return created;
  if (idle) {
    *error = etcd_error(endpoint, what,
                        make_error(ErrorCode::kTimeout, "nothing from etcd for " +
                                                            std::to_string(options_.idle_timeout.count()) + " ms"));
    *transport_failure = true;
    return created;
  }
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    *error = etcd_error(endpoint, what, status_error(status));
    *transport_failure = error->code == ErrorCode::kUnavailable || error->code == ErrorCode::kTimeout;
    return created;
  }
  // etcd closed the stream (stopping).
  *error = etcd_error(endpoint, what, make_error(ErrorCode::kUnavailable, "the stream ended"));
  *transport_failure = true;
  return created;
}

}  // namespace corral::etcd
