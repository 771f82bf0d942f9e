#include "controller/server/log_follow.h"

#include <algorithm>
#include <utility>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/server/vm_log.h"

namespace corral::server {

namespace {

// The most one pull hands the I/O thread: a follow far behind shares it.
constexpr size_t kMaxFollowPull = 256 * 1024;

// The answer's body: the session's client side. Dropped by the core when the
// stream ends or the client goes; then the session is cancelled (the poller
// drops it at its next turn) and the slot is free at once.
class FollowStream final : public EventSource {
 public:
  FollowStream(std::shared_ptr<FollowSession> session, std::shared_ptr<void> slot)
      : session_(std::move(session)), slot_(std::move(slot)) {}
  ~FollowStream() override { session_->cancel(); }
  void start(std::function<void()> wake) override { session_->start(std::move(wake)); }
  Pull pull(std::string& out) override { return session_->pull(out); }

 private:
  std::shared_ptr<FollowSession> session_;
  std::shared_ptr<void> slot_;  // this identity's share of follows
};

}  // namespace

FollowSession::FollowSession(FollowTarget target, std::string first, int64_t offset,
                             FollowClock::time_point began, const LogFollowOptions& options)
    : options_(options), target_(std::move(target)), offset_(offset), deadline_(began + options.max_time) {
  deliver(std::move(first));
}

void FollowSession::deliver(std::string text) {
  if (text.empty()) return;
  std::lock_guard lock(mu_);
  if (cancelled_ || ended_) return;
  newline_ended_ = text.back() == '\n';
  pending_ += text;
  if (wake_) wake_();
}

void FollowSession::finish(const std::string& why) {
  logger("api")->info("log follow of vm/{} on node/{} ended: {}", target_.vm, target_.node, why);
  std::lock_guard lock(mu_);
  if (cancelled_ || ended_) return;
  if (!newline_ended_) pending_ += '\n';
  pending_ += "corral: follow ended: " + why + "\n";
  ended_ = true;
  if (wake_) wake_();
}

bool FollowSession::cancelled() const {
  std::lock_guard lock(mu_);
  return cancelled_ || ended_;
}

size_t FollowSession::buffered() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

void FollowSession::start(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  if (!cancelled_) wake_ = std::move(wake);
}

EventSource::Pull FollowSession::pull(std::string& out) {
  std::lock_guard lock(mu_);
  const size_t n = std::min(pending_.size(), kMaxFollowPull);
  out.append(pending_, 0, n);
  pending_.erase(0, n);
  if (!pending_.empty()) return EventSource::Pull::kMore;
  return ended_ ? EventSource::Pull::kEnded : EventSource::Pull::kDrained;
}

void FollowSession::cancel() {
  std::lock_guard lock(mu_);
  cancelled_ = true;
  wake_ = nullptr;
}

std::optional<std::string> FollowSession::read_agent(AgentLogReader& reader, bool* more) {
  // The name is a stored VM's, a DNS-1123 subdomain: nothing in it to escape.
  const std::string path = "/v1/logs/" + target_.vm + "?sinceBytes=" + std::to_string(offset_) +
                           "&limitBytes=" + std::to_string(options_.chunk_bytes);
  auto reply = reader.read_log(target_.node, target_.address, path);
  if (auto e = agent_read_error(target_.node, target_.address, reply)) return "error: " + e->message;
  const int64_t size = static_cast<int64_t>(reply->body.size());
  if (reply->start < 0 || reply->end != reply->start + size || size > options_.chunk_bytes) {
    fatal_ = true;
    return "error: agent of node/" + target_.node +
           " answered without its log's offsets: an agent older than this controller cannot be "
           "followed";
  }
  if (reply->start != offset_) {
    // Fewer bytes than we had read: the file was replaced (the VM started again).
    std::string note = "corral: the log of vm/" + target_.vm + " was replaced; following the new one\n";
    {
      std::lock_guard lock(mu_);
      if (!newline_ended_) note.insert(note.begin(), '\n');
    }
    deliver(std::move(note));
  }
  *more = size == options_.chunk_bytes;
  offset_ = reply->end;
  deliver(std::move(reply->body));
  return std::nullopt;
}

std::optional<std::string> FollowSession::left(store::Store& store) {
  auto record = store.get("VM", target_.vm);
  if (!record) {
    if (record.error().code == ErrorCode::kNotFound) return "vm/" + target_.vm + " was deleted";
    return std::nullopt;  // the store's trouble passes; the agent's log is still there
  }
  const std::string node = field_value((*record)->parse(), "spec.nodeName");
  if (node.empty()) return "vm/" + target_.vm + " is no longer bound to a node";
  if (node != target_.node)
    return "vm/" + target_.vm + " moved to node/" + node + "; follow it again to read its log there";
  if (auto node_record = store.get("Node", node)) {
    const std::string address = field_value((*node_record)->parse(), "status.address");
    if (!address.empty()) target_.address = address;  // the agent restarted on another port
  }
  return std::nullopt;
}

FollowSession::Next FollowSession::poll(store::Store& store, AgentLogReader& reader,
                                        FollowClock::time_point now) {
  if (cancelled()) return Next::kDone;
  if (now >= deadline_) {
    finish("the server ends a follow after " + std::to_string(options_.max_time.count()) +
           " s; run it again to go on");
    return Next::kDone;
  }
  bool more = false;
  std::optional<std::string> trouble;
  if (buffered() < options_.max_buffered) trouble = read_agent(reader, &more);
  // The store has the last word: a VM deleted or moved is why its agent
  // stopped answering, and says so better.
  if (auto why = left(store)) {
    finish(*why);
    return Next::kDone;
  }
  if (!trouble) {
    failing_since_.reset();
    return more ? Next::kSoon : Next::kLater;
  }
  if (!failing_since_) failing_since_ = now;
  if (fatal_ || now - *failing_since_ >= options_.agent_grace) {
    finish(*trouble);
    return Next::kDone;
  }
  return Next::kLater;
}

LogFollower::LogFollower(store::Store& store, const LogFollowOptions& options)
    : store_(store), options_(options), slots_(options.max_per_identity, options.max_total) {}

LogFollower::~LogFollower() { stop(); }

std::shared_ptr<void> LogFollower::acquire(const std::string& identity, bool* server_full) {
  return slots_.acquire(identity, server_full);
}

std::shared_ptr<EventSource> LogFollower::follow(std::shared_ptr<FollowSession> session,
                                                 AgentLogReader& reader, std::shared_ptr<void> slot) {
  auto stream = std::make_shared<FollowStream>(session, std::move(slot));
  {
    std::lock_guard lock(mu_);
    due_.push_back({FollowClock::now() + options_.interval, std::move(session), &reader});
    std::push_heap(due_.begin(), due_.end(), std::greater<>());
  }
  cv_.notify_one();
  return stream;
}

void LogFollower::start() {
  std::lock_guard lock(mu_);
  if (!threads_.empty()) return;
  stopping_ = false;
  for (size_t i = 0; i < std::max<size_t>(1, options_.threads); ++i) threads_.emplace_back([this] { run(); });
}

void LogFollower::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  std::lock_guard lock(mu_);
  due_.clear();  // their streams end with the core's stop
}

size_t LogFollower::open() const {
  std::lock_guard lock(mu_);
  return due_.size() + polling_;
}

void LogFollower::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (due_.empty()) {
      cv_.wait(lock);
      continue;
    }
    const auto now = FollowClock::now();
    if (due_.front().due > now) {
      // A copy: wait_until reads its deadline again after waking, when a
      // follow() may have moved the heap's storage.
      const FollowClock::time_point next = due_.front().due;
      cv_.wait_until(lock, next);
      continue;
    }
    std::pop_heap(due_.begin(), due_.end(), std::greater<>());
    Entry entry = std::move(due_.back());
    due_.pop_back();
    const std::string node = entry.session->target().node;
    if (!busy_nodes_.insert(node).second) {
      // Another follow of this node is being polled: its agent is slow, or
      // many follow it. This one waits its turn rather than hold a thread.
      entry.due = now + options_.interval;
      due_.push_back(std::move(entry));
      std::push_heap(due_.begin(), due_.end(), std::greater<>());
      continue;
    }
    ++polling_;
    lock.unlock();
    const FollowSession::Next next = entry.session->poll(store_, *entry.reader, now);
    lock.lock();
    --polling_;
    busy_nodes_.erase(node);
    if (next != FollowSession::Next::kDone) {
      entry.due = next == FollowSession::Next::kSoon ? now : FollowClock::now() + options_.interval;
      due_.push_back(std::move(entry));
      std::push_heap(due_.begin(), due_.end(), std::greater<>());
    }
    cv_.notify_one();  // a node freed, or an entry due at once
  }
}

}  // namespace corral::server
