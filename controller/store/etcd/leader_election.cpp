#include "controller/store/etcd/leader_election.h"

#include <algorithm>
#include <utility>
#include <variant>

#include "base/log.h"
#include "controller/store/etcd/etcd_client.h"

namespace corral::etcd {

namespace {

Logger* election_log() {
  return logger("election");
}

// The key as the failure branch of a campaign txn read it.
std::optional<KeyValue> election_ranged_key(const TxnResult& txn) {
  if (txn.responses.empty()) return std::nullopt;
  const auto* range = std::get_if<RangeResult>(&txn.responses[0]);
  if (range == nullptr || range->kvs.empty()) return std::nullopt;
  return range->kvs[0];
}

// What a follower reports about a leader key it saw (nullopt: absent).
Leadership election_follower_of(const std::optional<KeyValue>& kv) {
  Leadership l;
  if (kv) {
    l.leader_value = kv->value;
    l.term = kv->create_revision;
  }
  return l;
}

}  // namespace

LeaderElector::LeaderElector(EtcdClient& client, ElectionOptions options,
                             std::function<void(const Leadership&)> on_change)
    : client_(client), options_(std::move(options)), on_change_(std::move(on_change)) {}

LeaderElector::~LeaderElector() {
  stop();
}

void LeaderElector::start() {
  if (thread_.joinable()) return;
  const auto window = std::chrono::seconds(options_.lease_ttl_seconds) - options_.renew_interval;
  if (window <= options_.renew_interval) {
    election_log()->error(
        "{}: renew_interval {} ms leaves no room for a failed keepalive in a {} s lease",
        options_.key, options_.renew_interval.count(), options_.lease_ttl_seconds);
  }
  if (client_.options().request_timeout >= window) {
    election_log()->warn(
        "{}: etcd request_timeout {} ms is not under the {} ms renew window: a lost lease may be "
        "reported late (current() is still on time)",
        options_.key, client_.options().request_timeout.count(),
        std::chrono::duration_cast<std::chrono::milliseconds>(window).count());
  }
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Leadership LeaderElector::current() const {
  std::lock_guard<std::mutex> lock(mu_);
  // The thread may be blocked in a call past the deadline: the belief ends on
  // time here whatever it is doing (it reports the step-down once back).
  if (published_.leading && Clock::now() >= lead_deadline_) return Leadership{};
  return published_;
}

std::optional<Compare> LeaderElector::fence() const {
  Leadership l = current();
  if (!l.leading) return std::nullopt;
  return Compare::create_revision(options_.key, Compare::Op::kEqual, l.fence_revision);
}

void LeaderElector::run() {
  Clock::time_point next = Clock::now();
  while (wait_until(next)) next = state_.leading ? lead_once() : follow_once();
  resign();
}

bool LeaderElector::wait_until(Clock::time_point when) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, when, [this] { return stopping_; });
  return !stopping_;
}

LeaderElector::Clock::time_point LeaderElector::lead_deadline() const {
  return lease_refreshed_ + std::chrono::seconds(lease_ttl_) - options_.renew_interval;
}

LeaderElector::Clock::time_point LeaderElector::next_step() const {
  if (!state_.leading) return Clock::now() + options_.poll_interval;
  return std::min(lease_refreshed_ + options_.renew_interval, lead_deadline());
}

LeaderElector::Clock::time_point LeaderElector::retry_step() const {
  Clock::time_point retry = Clock::now() + options_.poll_interval;
  return state_.leading ? std::min(retry, lead_deadline()) : retry;
}

LeaderElector::Clock::time_point LeaderElector::follow_once() {
  auto r = client_.range(RangeRequest{options_.key});
  if (!r) {
    failed("range", r.error());
    return retry_step();
  }
  answered();
  if (r->kvs.empty()) {
    follow_key(std::nullopt);
    campaign();
  } else {
    follow_key(r->kvs[0]);
  }
  return next_step();
}

LeaderElector::Clock::time_point LeaderElector::lead_once() {
  // Past the deadline (the thread overslept, or the last keepalives failed):
  // the lease may be gone and someone else may lead. Stop believing first;
  // the lease is kept, so that if it did survive, the next follow_once finds
  // the key still under it and leads again with the same fence.
  if (Clock::now() >= lead_deadline()) {
    step_down("no keepalive succeeded within the lease", Leadership{});
    return Clock::now();
  }
  const Clock::time_point sent = Clock::now();
  auto ttl = client_.lease_keepalive(lease_id_);
  if (!ttl) {
    failed("lease keepalive", ttl.error());
    return retry_step();  // at the deadline at the latest, which steps down
  }
  answered();
  if (*ttl == 0) {
    lease_id_ = 0;  // expired or revoked: etcd deleted the key with it
    step_down("the lease expired or was revoked", Leadership{});
    return Clock::now();
  }
  lease_refreshed(sent, *ttl);

  auto r = client_.range(RangeRequest{options_.key});
  if (!r) {
    failed("range", r.error());
    return retry_step();
  }
  answered();
  std::optional<KeyValue> kv;
  if (!r->kvs.empty()) kv = r->kvs[0];
  if (!kv || kv->create_revision != state_.fence_revision) {
    // Deleted, or deleted and created again by another: no longer ours. Our
    // lease holds nothing now; the next campaign takes a new one.
    step_down(kv ? "the key was taken over" : "the key was deleted", election_follower_of(kv));
    drop_lease();
    return Clock::now();
  }
  if (kv->value != state_.leader_value) {
    state_.leader_value = kv->value;
    publish(state_);
  }
  return next_step();
}

void LeaderElector::campaign() {
  // A lease that lives: the one held, if a keepalive says it still does
  // (followers do not keep theirs alive), else a new one.
  if (lease_id_ != 0) {
    const Clock::time_point sent = Clock::now();
    auto ttl = client_.lease_keepalive(lease_id_);
    if (!ttl) return failed("lease keepalive", ttl.error());
    if (*ttl > 0) {
      lease_refreshed(sent, *ttl);
    } else {
      lease_id_ = 0;
    }
  }
  if (lease_id_ == 0) {
    const Clock::time_point sent = Clock::now();
    auto grant = client_.lease_grant(options_.lease_ttl_seconds);
    if (!grant) return failed("lease grant", grant.error());
    lease_id_ = grant->id;
    lease_refreshed(sent, grant->ttl);
  }
  TxnRequest txn;
  txn.compare.push_back(Compare::absent(options_.key));
  txn.success.emplace_back(PutRequest{options_.key, options_.value, lease_id_});
  txn.failure.emplace_back(RangeRequest{options_.key});
  auto r = client_.txn(txn);
  // A txn that timed out may still be applied: then the next range finds the
  // key under our lease, and follow_key adopts it.
  if (!r) return failed("campaign txn", r.error());
  answered();
  if (r->succeeded) {
    // The put is the txn's only write: the key's create_revision is the
    // header revision.
    become_leader(r->revision);
    return;
  }
  follow_key(election_ranged_key(*r));
}

void LeaderElector::follow_key(const std::optional<KeyValue>& kv) {
  if (kv && lease_id_ != 0 && kv->lease == lease_id_) return adopt(*kv);
  publish(election_follower_of(kv));
}

void LeaderElector::adopt(const KeyValue& kv) {
  const Clock::time_point sent = Clock::now();
  auto ttl = client_.lease_keepalive(lease_id_);
  if (!ttl) {
    failed("lease keepalive", ttl.error());
    return publish(election_follower_of(kv));
  }
  answered();
  if (*ttl == 0) {
    lease_id_ = 0;  // the key goes with it
    return publish(election_follower_of(kv));
  }
  lease_refreshed(sent, *ttl);
  election_log()->info("{}: the key is still under our lease {:x}", options_.key, lease_id_);
  become_leader(kv.create_revision);
}

void LeaderElector::lease_refreshed(Clock::time_point sent, int64_t ttl) {
  lease_refreshed_ = sent;
  lease_ttl_ = ttl;
  std::lock_guard<std::mutex> lock(mu_);
  lead_deadline_ = lead_deadline();
}

void LeaderElector::become_leader(int64_t fence) {
  state_.leading = true;
  state_.fence_revision = fence;
  state_.term = fence;
  state_.leader_value = options_.value;
  election_log()->info("{}: {} leads (term {}, lease {:x}, {} s)", options_.key, options_.value,
                       fence, lease_id_, lease_ttl_);
  publish(state_);
}

void LeaderElector::step_down(const char* why, Leadership next) {
  election_log()->warn("{}: {} stepped down from term {}: {}", options_.key, options_.value,
                       state_.term, why);
  state_ = std::move(next);
  publish(state_);
}

void LeaderElector::resign() {
  if (state_.leading) {
    const int64_t fence = state_.fence_revision;
    // Stop believing before letting anyone else win.
    state_ = Leadership{};
    publish(state_);
    // Delete only our key: the fence keeps a successor's key safe should our
    // lease have lapsed already.
    TxnRequest txn;
    txn.compare.push_back(Compare::create_revision(options_.key, Compare::Op::kEqual, fence));
    txn.success.emplace_back(DeleteRequest{options_.key});
    auto r = client_.txn(txn);
    if (!r) {
      // etcd does not answer: a revoke would only wait as long again, and the
      // lease expires on its own within the TTL. stop() stays prompt.
      election_log()->warn(
          "{}: {} resigned term {}, but could not delete the key (it goes with the "
          "lease within {} s): {}",
          options_.key, options_.value, fence, lease_ttl_, r.error().message);
      lease_id_ = 0;
    } else {
      election_log()->info("{}: {} resigned term {}{}", options_.key, options_.value, fence,
                           r->succeeded ? "" : " (the key was no longer ours)");
    }
  }
  if (lease_id_ != 0) drop_lease();
}

void LeaderElector::drop_lease() {
  auto revoked = client_.lease_revoke(lease_id_);
  // Not retried: a lease nobody keeps alive expires within its TTL anyway.
  if (!revoked && revoked.error().code != ErrorCode::kNotFound) {
    election_log()->warn("{}: could not revoke lease {:x} (it expires within {} s): {}",
                         options_.key, lease_id_, lease_ttl_, revoked.error().message);
  }
  lease_id_ = 0;
}

void LeaderElector::publish(Leadership next) {
  bool changed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changed = !(published_ == next);
    published_ = next;
  }
  if (changed && on_change_) on_change_(next);
}

void LeaderElector::failed(const char* what, const Error& error) {
  ++failures_;
  if (error.message == last_error_) return;
  last_error_ = error.message;
  election_log()->warn("{}: {} failed (retrying every {} ms): {}", options_.key, what,
                       options_.poll_interval.count(), error.message);
}

void LeaderElector::answered() {
  if (failures_ > 0) {
    election_log()->info("{}: etcd answers again after {} failed calls", options_.key, failures_);
  }
  failures_ = 0;
  last_error_.clear();
}

}  // namespace corral::etcd
