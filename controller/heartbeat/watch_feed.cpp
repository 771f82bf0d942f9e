#include "controller/heartbeat/watch_feed.h"

#include "base/log.h"

namespace corral::heartbeat {

WatchFeed::WatchFeed(store::Store& store, std::string kind, FeedSink& sink,
                     std::chrono::milliseconds poll)
    : store_(store), kind_(std::move(kind)), sink_(sink), poll_(poll) {}

WatchFeed::~WatchFeed() { stop(); }

Result<void> WatchFeed::relist() {
  watch_.reset();
  auto list = store_.list(kind_, {});
  if (!list) return list.take_error();
  // Watching from the list's revision replays whatever was written between
  // the two calls, so nothing falls in the gap.
  auto watch = store_.watch(kind_, list->revision);
  if (!watch) return watch.take_error();
  sink_.reset(list->items);
  watch_ = std::move(*watch);
  ready_ = true;
  logger("heartbeat")->debug("{}: listed {} object(s) at revision {}", kind_, list->items.size(),
                             list->revision);
  return Ok{};
}

Result<void> WatchFeed::pump(std::chrono::milliseconds first_wait) {
  std::lock_guard lock(pump_mu_);
  if (!watch_) {
    if (auto r = relist(); !r) return r;
  }
  auto wait = first_wait;
  for (;;) {
    auto next = watch_->next(wait);
    if (!next) {
      if (next.error().code == ErrorCode::kGone) {
        logger("heartbeat")->info("{}: watch fell behind ({}); listing again", kind_,
                                  next.error().message);
        return relist();
      }
      watch_.reset();
      return next.take_error();
    }
    if (!next->has_value()) return Ok{};
    sink_.apply(**next);
    wait = std::chrono::milliseconds(0);
  }
}

Result<void> WatchFeed::sync() { return pump(std::chrono::milliseconds(0)); }

void WatchFeed::start_background() {
  std::lock_guard lock(stop_mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    for (;;) {
      {
        std::lock_guard l(stop_mu_);
        if (stopping_) return;
      }
      auto r = pump(poll_);
      if (r) continue;
      logger("heartbeat")->warn("{}: watch failed: {}; retrying", kind_, r.error().message);
      std::unique_lock l(stop_mu_);
      stop_cv_.wait_for(l, poll_, [this] { return stopping_; });
    }
  });
}

void WatchFeed::request_stop() {
  {
    std::lock_guard lock(stop_mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
}

void WatchFeed::stop() {
  request_stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace corral::heartbeat
