// EtcdWatch: one etcd watch on etcd's bidirectional Watch stream (gRPC), on
// a thread of its own, handing batches of events to the owner's handler.
//
// The stream: the client sends one create request; etcd answers
// {created, header revision}, then one WatchResponse per batch of events.
// A canceled answer ends the watch (compact_revision > 0: the start revision
// was compacted away).
//
// Liveness: with idle_timeout set, the watch asks etcd for its progress
// (WatchProgressRequest) every idle_timeout / 3 and ends with kTimeout when
// nothing at all came back for idle_timeout — a quiet but healthy member
// answers, a frozen or cut-off one does not. Those answers carry no watch
// id (-1) and a header revision that etcd 3.4 does not promise all events up
// to were sent, so they are neither delivered nor counted in
// last_revision(); only progress_notify's own notifications are.
//
// Failover: the endpoints are tried in order until one creates the watch.
// Once created, a broken stream ends the watch with the error; the owner
// starts a new one from last_revision() + 1 (on_end says so).
//
// Thread-safety: the handlers run on the watch's thread, one at a time, never
// after the destructor returns; they must not destroy the EtcdWatch.
// last_revision() may be read from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace corral::etcd {


struct WatchOptions {
  std::string key;
  std::string range_end;       // empty: `key` only; prefix_end(key): the prefix
  int64_t start_revision = 0;  // 0: changes after now; older than the compaction: kGone
  bool prev_kv = false;        // each event carries the pair it replaced
  // Ask etcd for progress notifications (an empty batch with the revision all
  // events up to which have been sent), every
  // --experimental-watch-progress-notify-interval (etcd's default: 10 minutes).
  bool progress_notify = false;
  std::chrono::milliseconds connect_timeout{1'000};
  // Nothing from etcd for this long, though asked for progress every
  // idle_timeout / 3, ends the watch with kTimeout; 0: never (and no asking).
  std::chrono::milliseconds idle_timeout{0};
  // A longer answer (one batch of events) ends the watch with kTooLarge.
  size_t max_message_bytes = 64u << 20;
};

// The events of one watch answer, in revision order.
struct WatchBatch {
  int64_t revision = 0;  // the header's: etcd's revision when it sent the batch
  std::vector<WatchEvent> events;
  bool progress = false;  // a progress notification: no events, everything up to `revision` sent
  bool created = false;   // etcd created the watch (no events): the stream is live
};

class EtcdWatch {
 public:
  using BatchHandler = std::function<void(const WatchBatch&)>;
  // Called once when the watch ends on its own: kGone with compact_revision
  // > 0 when start_revision was compacted (restart from a fresh range at
  // compact_revision or later); kUnavailable when no endpoint created it, the
  // stream broke, or etcd canceled it; kTimeout after idle_timeout. Not called
  // when the owner destroys the watch.
  using EndHandler = std::function<void(const Error& error, int64_t compact_revision)>;

  // Starts the watch's thread at once.
  EtcdWatch(std::vector<std::string> endpoints, WatchOptions options, BatchHandler on_batch,
            EndHandler on_end);
  // Stops the stream (promptly: it wakes the transfer) and joins the thread.
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

  // The highest header revision seen (created, events or progress): every
  // event up to it in the range was delivered when it came with events or progress.
  int64_t last_revision() const { return last_revision_.load(); }
  // The endpoint the watch was created on; empty before then.
  std::string endpoint() const;

 private:
  void run();
  // One stream on one endpoint; true when etcd created the watch there.
  // `*transport_failure`: it ended without an answer from etcd saying why.
  bool run_on(size_t index, const std::string& endpoint, Error* error, int64_t* compact_revision,
              bool* transport_failure);
  // Waits for the endpoint's channel to connect, in slices, so that the
  // destructor is not kept waiting; false when it did not or when stopped.
  bool connect(grpc::Channel& channel);

  const std::vector<std::string> endpoints_;
  const WatchOptions options_;
  const BatchHandler on_batch_;
  const EndHandler on_end_;
  std::mutex mu_;
  bool stopping_ = false;                           // guarded by mu_
  grpc::ClientContext* live_call_ = nullptr;  // guarded by mu_: the stream to cancel on stop
  std::atomic<int64_t> last_revision_{0};
  std::atomic<int> endpoint_index_{-1};
  std::thread thread_;  // last: started after every member above exists
};

}  // namespace corral::etcd
