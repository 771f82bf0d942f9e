#include "controller/store/etcd_maintenance.h"

#include <algorithm>

#include "base/log.h"

namespace corral::store {

EtcdMaintenance::EtcdMaintenance(EtcdStore& store, EtcdMaintenanceOptions options,
                                 std::function<bool()> leading, FenceSource fence)
    : store_(store),
      options_(options),
      leading_(std::move(leading)),
      fence_(std::move(fence)),
      thread_([this] { run(); }) {}

EtcdMaintenance::~EtcdMaintenance() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int64_t EtcdMaintenance::compacted() const {
  std::lock_guard lock(mu_);
  return compacted_;
}

size_t EtcdMaintenance::orphans_removed() const {
  std::lock_guard lock(mu_);
  return orphans_removed_;
}

void EtcdMaintenance::run() {
  using Clock = std::chrono::steady_clock;
  auto next_compaction = Clock::now() + options_.compaction_interval;
  auto next_sweep = Clock::now() + options_.orphan_interval;
  // The revision seen at the last compaction tick: compacting to it at the
  // next keeps one interval of history.
  int64_t seen = 0;
  std::unique_lock lock(mu_);
  for (;;) {
    if (cv_.wait_until(lock, std::min(next_compaction, next_sweep), [&] { return stopping_; }))
      return;
    const auto now = Clock::now();
    lock.unlock();
    if (now >= next_compaction) {
      next_compaction = now + options_.compaction_interval;
      const int64_t target = seen;
      seen = store_.revision();
      if (target > compacted() && leading_()) compact(target);
    }
    if (now >= next_sweep) {
      next_sweep = now + options_.orphan_interval;
      if (leading_()) sweep();
    }
    lock.lock();
  }
}

void EtcdMaintenance::compact(int64_t target) {
  auto done = store_.compact(target);
  if (!done && done.error().code != ErrorCode::kGone) {
    logger("store")->warn("etcd compaction to revision {} failed (retried next interval): {}",
                          target, done.error().message);
    return;
  }
  if (done) logger("store")->info("etcd history compacted up to revision {}", target);
  std::lock_guard lock(mu_);
  compacted_ = std::max(compacted_, target);
}

void EtcdMaintenance::sweep() {
  auto removed = store_.remove_orphans(fence_);
  if (!removed) {
    logger("store")->warn("orphan sweep failed (retried next interval): {}",
                          removed.error().message);
    return;
  }
  std::lock_guard lock(mu_);
  orphans_removed_ += *removed;
}

}  // namespace corral::store
