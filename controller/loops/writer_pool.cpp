#include "controller/loops/writer_pool.h"

namespace corral::loops {

struct WriterPool::Batch {
  std::mutex mu;
  std::condition_variable done_cv;
  size_t remaining = 0;  // guarded by mu
};

WriterPool::WriterPool(size_t threads) {
  workers_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

WriterPool::~WriterPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void WriterPool::run(Task& task) {
  task.fn();
  std::lock_guard lock(task.batch->mu);
  if (--task.batch->remaining == 0) task.batch->done_cv.notify_all();
}

void WriterPool::run_all(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  if (workers_.empty() || tasks.size() == 1) {
    for (auto& fn : tasks) fn();
    return;
  }
  Batch batch;
  batch.remaining = tasks.size();
  {
    std::lock_guard lock(mu_);
    for (auto& fn : tasks) queue_.push_back(Task{std::move(fn), &batch});
  }
  cv_.notify_all();
  // Help with the queue (it may hold other callers' tasks too: any task
  // finished brings every batch closer to its end).
  for (;;) {
    Task task;
    {
      std::lock_guard lock(mu_);
      if (queue_.empty()) break;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    run(task);
  }
  std::unique_lock lock(batch.mu);
  batch.done_cv.wait(lock, [&] { return batch.remaining == 0; });
}

void WriterPool::worker_loop() {
  for (;;) {
    Task task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    run(task);
  }
}

}  // namespace corral::loops
