// GET vms/<name>/log?follow=true (vm_log.h): the log as it grows, as
// `kubectl logs -f`, without a thread per follow.
//
//   worker (vm_log.cpp)   cap (LogFollower::acquire: per identity, in all → 429)
//                         → the first read, as a plain read (tailLines; bounded,
//                           counted among max_log_reads) → its end offset
//   I/O thread            the answer is an event source (FollowStream): chunked
//                         text/plain, written as the poller hands it parts
//   poller threads        every `interval`, one poll per follow (FollowSession::poll):
//   (LogFollowOptions::     GET /v1/logs/<vm>?sinceBytes=<offset>&limitBytes=<chunk>
//    threads)               from the agent, then the VM and its Node from the store.
//                           At most one poll per node at a time: an agent that
//                           answers slowly (or a hostile one) holds one poller.
//
// A follow ends, with a last line "corral: follow ended: <why>" when it can say
// why, when: the client goes (the core drops the stream); the VM is deleted or
// bound to another node (or none); the agent cannot be read (unreachable, an
// error answer, no offsets: an older agent) for `agent_grace` in a row; `max_time`
// passed since it began; the server stops (no line: the core closes the stream).
// A client that reads slower than the log grows stops the polls (at most
// `max_buffered` bytes wait for it) until it catches up; nothing is dropped.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/server/agent_log_reader.h"
#include "controller/server/http_message.h"
#include "controller/server/watch_limiter.h"
#include "controller/store/store.h"

namespace corral::server {

struct LogFollowOptions {
  // Follows one identity, and everyone together, may hold open: past either,
  // 429 with Retry-After. Each costs a connection and a poll per interval.
  size_t max_per_identity = 8;
  size_t max_total = 128;
  // How often each follow asks its agent for what was written since (500 ms):
  // 128 follows are 256 small signed reads a second across the agents.
  std::chrono::milliseconds interval{500};
  // The most read from the agent per poll (256 KiB); a full part is followed
  // by the next poll at once.
  int64_t chunk_bytes = 256 * 1024;
  // Log waiting for a slow client (1 MiB): past it the follow skips its reads.
  size_t max_buffered = 1 << 20;
  // An agent that cannot be read for this long in a row (5 s) ends the follow
  // with an error line: an agent restarting is back well within it.
  std::chrono::milliseconds agent_grace{5000};
  // A follow ends after this (1 h), as a watch ends at its timeout; corralctl
  // users run it again.
  std::chrono::seconds max_time{3600};
  // Threads that poll agents (4). A poll waits for its agent (the reader's
  // bounds: 2 s to connect, 10 s in all); one node is polled by one at a time.
  size_t threads = 4;
};

// Which log a follow reads: the VM, the node it is bound to, its agent.
struct FollowTarget {
  std::string vm;
  std::string node;
  std::string address;  // the node's status.address, updated when it changes
};

using FollowClock = std::chrono::steady_clock;

// One follow: what the poller learns (poll) and what the client has not yet
// been sent (pull). poll() runs on one poller thread at a time; pull(),
// start() and cancel() on the connection's I/O thread. Thread-safe between
// the two sides (guarded by mu_).
class FollowSession {
 public:
  // `first`: the log read so far (vm_log.cpp's first read), up to `offset`.
  FollowSession(FollowTarget target, std::string first, int64_t offset, FollowClock::time_point began,
                const LogFollowOptions& options);

  enum class Next {
    kLater,  // poll again after the interval
    kSoon,   // the agent had more than one part: poll again at once
    kDone,   // ended (its last line is buffered) or cancelled: poll no more
  };
  // One round at `now`: read what the agent has past the offset (unless the
  // client is behind), then check the VM in `store`.
  Next poll(store::Store& store, AgentLogReader& reader, FollowClock::time_point now);

  // The stream's side (FollowStream): see EventSource.
  void start(std::function<void()> wake);
  EventSource::Pull pull(std::string& out);
  // The stream is gone (the client left, or the stream ended): wakes no more.
  void cancel();

  const FollowTarget& target() const { return target_; }  // the poller's side only

 private:
  // Appends to what waits for the client, and wakes its I/O thread.
  void deliver(std::string text);
  // The last line, "corral: follow ended: <why>", then the end.
  void finish(const std::string& why);
  bool cancelled() const;
  size_t buffered() const;
  // Reads the agent; nullopt when it answered with the next part.
  std::optional<std::string> read_agent(AgentLogReader& reader, bool* more);
  // Why the VM's log can no longer be followed here, from the store; nullopt
  // when it still can (the node's address is refreshed on the way).
  std::optional<std::string> left(store::Store& store);

  const LogFollowOptions& options_;
  // The poller's side (one poll at a time).
  FollowTarget target_;
  int64_t offset_;  // the log's byte offset the next poll asks from
  const FollowClock::time_point deadline_;
  std::optional<FollowClock::time_point> failing_since_;  // the first failed read in a row
  bool fatal_ = false;  // the last failure cannot pass (the agent cannot follow)

  mutable std::mutex mu_;
  std::string pending_;          // guarded by mu_: not yet pulled
  bool ended_ = false;           // guarded by mu_: pending_ holds the last of it
  bool cancelled_ = false;       // guarded by mu_
  bool newline_ended_ = true;    // guarded by mu_: the text delivered so far ends a line
  std::function<void()> wake_;   // guarded by mu_; called under it, so none after cancel()
};

// Runs the polls of every open follow on its own few threads: no API worker
// is held while a follow lasts. start()/stop() from one thread (the server's).
class LogFollower {
 public:
  LogFollower(store::Store& store, const LogFollowOptions& options);
  ~LogFollower();  // stops
  LogFollower(const LogFollower&) = delete;
  LogFollower& operator=(const LogFollower&) = delete;

  // A slot for one more follow of `identity` (released when the handle
  // goes); null past the caps (*server_full set when it is the total's).
  std::shared_ptr<void> acquire(const std::string& identity, bool* server_full);
  // Polls `session` with `reader` (not owned; must outlive this) until it
  // ends; the returned source is the answer's body and holds `slot`.
  std::shared_ptr<EventSource> follow(std::shared_ptr<FollowSession> session, AgentLogReader& reader,
                                      std::shared_ptr<void> slot);
  // Idempotent. stop() ends polling (open streams end with the core's stop).
  void start();
  void stop();
  size_t open() const;  // follows being polled now (for tests)

 private:
  struct Entry {
    FollowClock::time_point due;
    std::shared_ptr<FollowSession> session;
    AgentLogReader* reader;
    bool operator>(const Entry& other) const { return due > other.due; }
  };
  void run();

  store::Store& store_;
  const LogFollowOptions& options_;
  WatchLimiter slots_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Entry> due_;            // guarded by mu_: a min-heap on `due`
  std::set<std::string> busy_nodes_;  // guarded by mu_: nodes with a poll in flight
  size_t polling_ = 0;                // guarded by mu_: entries taken out of due_
  bool stopping_ = false;             // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace corral::server
