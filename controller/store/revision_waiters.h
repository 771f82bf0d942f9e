// RevisionWaiters: threads waiting until a revision is published, each woken
// only when its own revision is reached. A single condition variable would
// wake every waiting writer on every published batch to find, mostly, that
// its revision is still ahead: with 32 writers that was ~30 futile wake-ups
// per create on the etcd store, CPU the same two cores' etcd then lacked.
// Thread-safe.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

namespace corral::store {

class RevisionWaiters {
 public:
  // Blocks until published(r) was called with r >= `revision`, or `timeout`.
  // True when it was.
  bool wait(int64_t revision, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (published_ >= revision) return true;
    std::condition_variable cv;
    auto it = waiting_.emplace(revision, &cv);
    const bool reached = cv.wait_for(lock, timeout, [&] { return published_ >= revision; });
    waiting_.erase(it);
    return reached;
  }

  // Everything up to `revision` is visible: wakes the waiters it satisfies.
  void published(int64_t revision) {
    std::lock_guard lock(mu_);
    published_ = std::max(published_, revision);
    for (auto it = waiting_.begin(); it != waiting_.end() && it->first <= published_; ++it)
      it->second->notify_one();
  }

 private:
  std::mutex mu_;
  int64_t published_ = 0;                                     // guarded by mu_
  std::multimap<int64_t, std::condition_variable*> waiting_;  // guarded by mu_
};

}  // namespace corral::store
