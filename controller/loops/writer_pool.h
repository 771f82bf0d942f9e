// WriterPool: runs one batch of store writes concurrently and waits for all.
//
// Why: the store acknowledges a write only once it is durable, and it group
// commits — every write queued while one batch syncs goes into the next. One
// thread writing 10,000 bindings one by one pays 10,000 syncs; N threads
// writing them together pay about 10,000 / N (README.md: measurements).
//
// Thread safety: run_all() may be called from any thread; each call waits for
// its own tasks only. Tasks must not call run_all() (they would wait on the
// pool they occupy).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace corral::loops {

class WriterPool {
 public:
  // `threads` = 0 runs every task inline on the caller, in order.
  explicit WriterPool(size_t threads);
  ~WriterPool();
  WriterPool(const WriterPool&) = delete;
  WriterPool& operator=(const WriterPool&) = delete;

  // Runs every task (in queue order, concurrently) and returns when all are
  // done. The caller's thread helps, so a pool of N writes with N + 1 threads.
  void run_all(std::vector<std::function<void()>> tasks);

  size_t threads() const { return workers_.size(); }

 private:
  struct Batch;
  struct Task {
    std::function<void()> fn;
    Batch* batch = nullptr;
  };
  void worker_loop();
  static void run(Task& task);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;  // guarded by mu_
  bool stopping_ = false;   // guarded by mu_
  std::vector<std::thread> workers_;
};

}  // namespace corral::loops
