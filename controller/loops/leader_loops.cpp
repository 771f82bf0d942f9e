#include "controller/loops/leader_loops.h"

#include "base/log.h"

namespace corral::loops {

LeaderLoops::LeaderLoops(Factory factory, Started started,
                         std::chrono::milliseconds retry_interval)
    : factory_(std::move(factory)),
      started_(std::move(started)),
      retry_interval_(retry_interval),
      thread_([this] { run(); }) {}

LeaderLoops::~LeaderLoops() { stop(); }

void LeaderLoops::set_leading(bool leading) {
  std::lock_guard lock(mu_);
  want_ = leading;
  cv_.notify_all();
}

bool LeaderLoops::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

void LeaderLoops::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void LeaderLoops::run() {
  auto log = logger("leader");
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || want_ != (manager_ != nullptr); });
    const bool want = want_ && !stopping_;
    if (want && !manager_) {
      lock.unlock();
      auto manager = factory_();
      auto started = manager->start();
      if (started) {
        log->info("leading: control loops started (every node has one full grace from now)");
        if (started_) started_(manager.get());
      } else {
        log->warn("leading, but the control loops did not start (retrying in {} ms): {}",
                  retry_interval_.count(), started.error().message);
        manager.reset();
      }
      lock.lock();
      manager_ = std::move(manager);
      running_ = manager_ != nullptr;
      if (!manager_) cv_.wait_for(lock, retry_interval_, [&] { return stopping_ || !want_; });
    } else if (!want && manager_) {
      std::unique_ptr<ControllerManager> manager = std::move(manager_);
      running_ = false;
      lock.unlock();
      manager->stop();
      manager.reset();
      if (started_) started_(nullptr);
      log->info("not leading: control loops stopped");
      lock.lock();
    }
    if (stopping_ && !manager_) return;
  }
}

}  // namespace corral::loops
