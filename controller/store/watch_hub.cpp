#include "controller/store/watch_hub.h"

#include "controller/store/record_builder.h"

namespace corral::store {

struct WatchHub::Watcher {
  enum class State { kOpen, kOverflowed, kRestarted, kShutDown };
  std::string kind;  // "" = every kind
  ListOptions filter;
  int64_t from = 0;  // live events at or below it were already covered

  std::mutex mu;
  std::condition_variable cv;
  std::deque<WatchEvent> initial;  // guarded by mu: synthetic ADDED / replay, not bounded
  std::deque<WatchEvent> live;     // guarded by mu: bounded by watch_buffer
  State state = State::kOpen;      // guarded by mu
  std::function<void()> ready;     // guarded by mu: WatchImpl::on_ready's
  bool ready_armed = false;        // guarded by mu: ready is due at the next change

  // REQUIRES: mu held. Something changed for the reader: wake a next() that
  // waits, or call an event-driven reader that drained everything before.
  void signal() {
    cv.notify_all();
    if (ready_armed) {
      ready_armed = false;
      ready();
    }
  }
  bool has_answer() const {  // REQUIRES: mu held
    return !initial.empty() || !live.empty() || state != State::kOpen;
  }
};

class WatchHub::WatchImpl final : public Watch {
 public:
  WatchImpl(std::shared_ptr<WatchHub> hub, std::shared_ptr<Watcher> w, Snapshot snapshot)
      : hub_(std::move(hub)), w_(std::move(w)), snapshot_(snapshot) {}
  ~WatchImpl() override { hub_->unsubscribe(w_); }
  Snapshot snapshot() const override { return snapshot_; }

  Result<std::optional<WatchEvent>> next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(w_->mu);
    // No wait at all for a zero timeout (the event-driven reader's poll):
    // cv.wait_for(0) still makes a futex wait with a deadline already past,
    // ~80 µs of kernel timer per call on a VM — a thousand watches' fan-out
    // took 90 ms of it per event.
    const bool answered = timeout.count() <= 0
                              ? w_->has_answer()
                              : w_->cv.wait_for(lock, timeout, [&] { return w_->has_answer(); });
    if (!answered) {
      w_->ready_armed = static_cast<bool>(w_->ready);
      return std::optional<WatchEvent>();
    }
    if (w_->state == Watcher::State::kOverflowed) {
      return make_error(ErrorCode::kGone,
                        "watch closed: the watcher fell more than its buffer behind; re-list");
    }
    if (w_->state == Watcher::State::kRestarted) {
      return make_error(ErrorCode::kGone,
                        "watch closed: the store's feed lost history and re-listed; re-list");
    }
    auto& q = !w_->initial.empty() ? w_->initial : w_->live;
    if (q.empty()) return make_error(ErrorCode::kUnavailable, "the store shut down");
    WatchEvent e = std::move(q.front());
    q.pop_front();
    return std::optional<WatchEvent>(std::move(e));
  }

  void on_ready(std::function<void()> ready) override {
    std::lock_guard lock(w_->mu);
    w_->ready = std::move(ready);
    w_->ready_armed = true;
    if (w_->has_answer()) w_->signal();
  }

 private:
  std::shared_ptr<WatchHub> hub_;
  std::shared_ptr<Watcher> w_;
  const Snapshot snapshot_;
};

WatchHub::WatchHub(size_t history_events, size_t history_bytes, size_t watch_buffer,
                   int64_t compacted_revision)
    : history_events_(history_events),
      history_bytes_(history_bytes),
      watch_buffer_(watch_buffer),
      compacted_revision_(compacted_revision) {}

namespace {

// What the watcher sees of `e`: the event itself, a transition into or out of
// its filter, or nothing.
std::optional<WatchEvent> filtered(const std::string& kind, const ListOptions& filter,
                                   const HubEvent& e) {
  if (!kind.empty() && e.event.object->kind != kind) return std::nullopt;
  if (filter.labels.empty() && filter.fields.empty()) return e.event;
  bool now = matches(*e.event.object, filter);
  if (e.event.type != WatchEvent::Type::kModified || !e.previous) {
    if (!now) return std::nullopt;
    return e.event;
  }
  bool was = matches(*e.previous, filter);
  if (!now && !was) return std::nullopt;
  WatchEvent out = e.event;
  if (now && !was) out.type = WatchEvent::Type::kAdded;
  if (!now && was) out.type = WatchEvent::Type::kDeleted;
  return out;
}

}  // namespace

bool WatchHub::offer(Watcher& w, const HubEvent& e) {
  if (e.event.revision <= w.from) return true;
  auto out = filtered(w.kind, w.filter, e);
  if (!out) return true;
  std::lock_guard lock(w.mu);
  if (w.live.size() >= watch_buffer_) {
    w.state = Watcher::State::kOverflowed;
    w.initial.clear();
    w.live.clear();
    w.signal();
    return false;
  }
  w.live.push_back(std::move(*out));
  w.signal();
  return true;
}

void WatchHub::publish(const std::vector<HubEvent>& events) {
  std::lock_guard lock(mu_);
  for (const auto& e : events) {
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      // An overflowed watcher leaves the list at once so that it costs
      // nothing more and open_watches() stops counting it.
      it = offer(**it, e) ? std::next(it) : watchers_.erase(it);
    }
    if (history_events_ == 0) {
      compacted_revision_ = e.event.revision;
      continue;
    }
    history_.push_back(e);
    history_cost_ += history_cost(e);
    // The newest event stays even alone over the byte bound: a watch from
    // the revision before it can still be served.
    while (history_.size() > 1 &&
           (history_.size() > history_events_ || history_cost_ > history_bytes_)) {
      compacted_revision_ = history_.front().event.revision;
      history_cost_ -= history_cost(history_.front());
      history_.pop_front();
    }
  }
}

size_t WatchHub::history_cost(const HubEvent& e) {
  constexpr size_t kRecordOverhead = 256;  // Record's strings, maps and control block, roughly
  size_t cost = sizeof(HubEvent);
  if (e.event.object) cost += kRecordOverhead + e.event.object->json.size();
  if (e.previous) cost += kRecordOverhead + e.previous->json.size();
  return cost;
}

Result<std::unique_ptr<Watch>> WatchHub::subscribe(const std::string& kind,
                                                   const ListOptions& filter, int64_t from,
                                                   std::vector<WatchEvent> initial, bool replay) {
  auto w = std::make_shared<Watcher>();
  w->kind = kind;
  w->filter = filter;
  w->from = from;
  w->initial.assign(std::make_move_iterator(initial.begin()),
                    std::make_move_iterator(initial.end()));
  std::lock_guard lock(mu_);
  if (shut_down_) return make_error(ErrorCode::kUnavailable, "the store shut down");
  if (replay) {
    if (from < compacted_revision_) {
      return make_error(ErrorCode::kGone, "too old resource version: " + std::to_string(from) +
                                              " (" + std::to_string(compacted_revision_) + ")");
    }
    for (const auto& e : history_) {
      if (e.event.revision <= from) continue;
      if (auto out = filtered(kind, filter, e)) w->initial.push_back(std::move(*out));
    }
    if (!history_.empty()) w->from = std::max(from, history_.back().event.revision);
  }
  // Without replay, `initial` is a snapshot of the objects as of `from`.
  const Watch::Snapshot snapshot =
      replay ? Watch::Snapshot{} : Watch::Snapshot{w->initial.size(), from};
  watchers_.push_back(w);
  return std::unique_ptr<Watch>(new WatchImpl(shared_from_this(), std::move(w), snapshot));
}

void WatchHub::unsubscribe(const std::shared_ptr<Watcher>& watcher) {
  std::lock_guard lock(mu_);
  watchers_.remove(watcher);
}

size_t WatchHub::open_watches() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

void WatchHub::shutdown() {
  std::lock_guard lock(mu_);
  shut_down_ = true;
  for (auto& w : watchers_) {
    std::lock_guard wl(w->mu);
    w->state = Watcher::State::kShutDown;
    w->signal();
  }
  watchers_.clear();
}

void WatchHub::restart_at(int64_t revision) {
  std::lock_guard lock(mu_);
  for (auto& w : watchers_) {
    std::lock_guard wl(w->mu);
    w->state = Watcher::State::kRestarted;
    w->initial.clear();
    w->live.clear();
    w->signal();
  }
  watchers_.clear();
  history_.clear();
  history_cost_ = 0;
  compacted_revision_ = revision;
}

}  // namespace corral::store
