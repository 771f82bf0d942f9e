// WatchFeed: keeps an in-memory view of one kind up to date from the store,
// as client-go's reflector does: LIST, hand the items to the sink in one
// reset(), then WATCH from the list's revision and hand over every event.
// When the watch answers Gone (it fell behind), it lists again; the sink
// swaps its whole view at once, so readers never see a half-built one.
//
// Pumped either by its own background thread (start_background()) or by the
// owner calling sync() (unit tests: deterministic, nothing runs behind them).
//
// Thread-safe. The sink is called from one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/store.h"

namespace corral::heartbeat {

class FeedSink {
 public:
  virtual ~FeedSink() = default;
  // Replaces the whole view with `records` (every object of the kind).
  virtual void reset(const std::vector<store::RecordPtr>& records) = 0;
  virtual void apply(const store::WatchEvent& event) = 0;
};

class WatchFeed {
 public:
  // `store` and `sink` must outlive the feed. `poll`: how long the background
  // thread waits on the watch before looking at the stop flag (also the retry
  // interval after a store error).
  WatchFeed(store::Store& store, std::string kind, FeedSink& sink,
            std::chrono::milliseconds poll);
  ~WatchFeed();  // stops the thread
  WatchFeed(const WatchFeed&) = delete;
  WatchFeed& operator=(const WatchFeed&) = delete;

  // Applies every event the store published before the call (listing first
  // if there is no view yet). With the background thread running, waits for
  // its current poll to return (at most `poll`, at once when an event comes).
  // Errors: the store's, when it cannot list or watch.
  Result<void> sync();
  // True once a LIST reached the sink.
  bool ready() const { return ready_.load(); }
  void start_background();
  // Asks the thread to stop at its next poll; stop() also waits for it.
  // Call request_stop() on several feeds before stop() to wait for them at once.
  void request_stop();
  void stop();

 private:
  // REQUIRES: pump_mu_ held.
  Result<void> relist();
  Result<void> pump(std::chrono::milliseconds first_wait);

  store::Store& store_;
  const std::string kind_;
  FeedSink& sink_;
  const std::chrono::milliseconds poll_;

  std::mutex pump_mu_;                  // one pumper at a time
  std::unique_ptr<store::Watch> watch_; // guarded by pump_mu_
  std::atomic<bool> ready_{false};

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;               // guarded by stop_mu_
  std::thread thread_;
};

}  // namespace corral::heartbeat
