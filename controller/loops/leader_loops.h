// LeaderLoops: runs the control loops only while this controller leads
// (several controllers on one etcd store, issue 16).
//
//   LeaderElector ──on_change──► set_leading(true/false) ──► LeaderLoops' thread
//       gained: factory() builds a ControllerManager (over the fenced store, so
//               every loop write carries the leader key's revision in its
//               transaction) and starts it. Its init() lists everything and
//               gives every node one full grace from now — the calm start: a
//               new leader judges no node on its predecessor's silence.
//       lost:   stops and drops it. Writes in flight fail on the fence; moves
//               and drains carry on from the objects under the next leader.
//
// Why a thread of its own: starting lists the store and stopping joins the
// loop thread, while the elector's thread must keep renewing its lease.
// A start that fails (the store unreachable) is retried every retry_interval
// while still leading.
//
// Thread-safe: set_leading() from any thread (the elector's).
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "controller/loops/controller_manager.h"

namespace corral::loops {

class LeaderLoops {
 public:
  using Factory = std::function<std::unique_ptr<ControllerManager>()>;
  // Called on LeaderLoops' thread after the loops started (or stopped), with
  // the manager (null once stopped): for wiring (the scheduler's notifier).
  using Started = std::function<void(ControllerManager*)>;

  explicit LeaderLoops(Factory factory, Started started = {},
                       std::chrono::milliseconds retry_interval = std::chrono::milliseconds(500));
  ~LeaderLoops();  // stop()
  LeaderLoops(const LeaderLoops&) = delete;
  LeaderLoops& operator=(const LeaderLoops&) = delete;

  void set_leading(bool leading);
  // True while a started ControllerManager runs.
  bool running() const;
  // Stops the loops (if running) and the thread. Idempotent.
  void stop();

 private:
  void run();

  const Factory factory_;
  const Started started_;
  const std::chrono::milliseconds retry_interval_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool want_ = false;      // guarded by mu_: leading, as the elector last said
  bool stopping_ = false;  // guarded by mu_
  bool running_ = false;   // guarded by mu_
  std::unique_ptr<ControllerManager> manager_;  // the thread's
  std::thread thread_;
};

}  // namespace corral::loops
