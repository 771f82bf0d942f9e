// LeaderElector (controller/store/etcd/leader_election.h) against a real etcd
// 3.4 on loopback (tests/support/etcd_process.h): each test starts its own
// single-member etcd and candidates with the default timings (TTL 2 s, renew
// 500 ms, poll 100 ms), each candidate with its own EtcdClient, as separate
// controllers would have. Waits poll with a deadline; nothing sleeps blind.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/leader_election.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_process.h"
#include "tests/support/tcp_proxy.h"

namespace corral::testing {
namespace leader_election_test {

using namespace corral::etcd;  // NOLINT: the test reads the elector's types throughout
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const char kKey[] = "/corral/leader";

// Short enough that a paused etcd fails a call well inside the 1.5 s renew
// window (TTL 2 s - renew 500 ms), so the elector reports a step-down on time.
EtcdOptions client_options(const std::string& endpoint) {
  EtcdOptions o;
  o.endpoints = {endpoint};
  o.connect_timeout = milliseconds(300);
  o.request_timeout = milliseconds(500);
  return o;
}

// Polls `done` every 5 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& done, milliseconds timeout) {
  return testing::wait_for(done, timeout, milliseconds(5));
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// One controller's elector, its own client, and what on_change told it, when.
class Candidate {
 public:
  struct Change {
    Clock::time_point at;
    Leadership leadership;
  };

  Candidate(const std::string& endpoint, const std::string& name)
      : value_("{\"name\":\"" + name + "\"}"),
        client_(client_options(endpoint)),
        elector_(client_, options(value_), [this](const Leadership& l) {
          std::lock_guard<std::mutex> lock(mu_);
          changes_.push_back({Clock::now(), l});
        }) {}

  static ElectionOptions options(const std::string& value) {
    ElectionOptions o;
    o.key = kKey;
    o.value = value;
    return o;
  }

  const std::string& value() const { return value_; }
  void start() { elector_.start(); }
  void stop() { elector_.stop(); }
  Leadership current() const { return elector_.current(); }
  std::optional<Compare> fence() const { return elector_.fence(); }
  bool leading() const { return current().leading; }

  std::vector<Change> changes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_;
  }
  // When on_change said this candidate leads with `fence`; nullopt: never.
  std::optional<Clock::time_point> gained(int64_t fence) const {
    for (const Change& c : changes())
      if (c.leadership.leading && c.leadership.fence_revision == fence) return c.at;
    return std::nullopt;
  }
  // When on_change first said it no longer leads after leading with `fence`.
  std::optional<Clock::time_point> lost(int64_t fence) const {
    bool led = false;
    for (const Change& c : changes()) {
      if (c.leadership.leading && c.leadership.fence_revision == fence) led = true;
      if (led && !c.leadership.leading) return c.at;
    }
    return std::nullopt;
  }

 private:
  const std::string value_;
  mutable std::mutex mu_;
  std::vector<Change> changes_;  // guarded by mu_
  EtcdClient client_;
  LeaderElector elector_;  // last: stopped before the rest goes
};

using Candidates = std::vector<std::unique_ptr<Candidate>>;

// The one candidate whose current() leads; nullptr when none or several do.
Candidate* sole_leader(const Candidates& candidates) {
  Candidate* leader = nullptr;
  for (const auto& c : candidates) {
    if (!c->leading()) continue;
    if (leader != nullptr) return nullptr;
    leader = c.get();
  }
  return leader;
}

int count_leaders(const Candidates& candidates) {
  return static_cast<int>(std::count_if(candidates.begin(), candidates.end(),
                                        [](const auto& c) { return c->leading(); }));
}

// One leader, and every candidate names it with the same term.
bool settled(const Candidates& candidates) {
  Candidate* leader = sole_leader(candidates);
  if (leader == nullptr) return false;
  const Leadership l = leader->current();
  for (const auto& c : candidates) {
    const Leadership seen = c->current();
    if (seen.leader_value != leader->value() || seen.term != l.term) return false;
  }
  return true;
}

class LeaderElectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(etcd_.start(&error)) << error;
    admin_ = std::make_unique<EtcdClient>(client_options(etcd_.endpoint()));
  }
  void TearDown() override { etcd_.resume(); }  // a test that failed while etcd was paused

  std::unique_ptr<Candidate> candidate(const std::string& name, std::string endpoint = "") {
    return std::make_unique<Candidate>(endpoint.empty() ? etcd_.endpoint() : endpoint, name);
  }
  // Starts `first`, waits until it leads, then starts the others and waits
  // until they all follow it: a known leader for the test to act on.
  void start_led_by_first(const Candidates& candidates) {
    candidates[0]->start();
    ASSERT_TRUE(eventually([&] { return candidates[0]->leading(); }, milliseconds(5'000)));
    for (size_t i = 1; i < candidates.size(); ++i) candidates[i]->start();
    ASSERT_TRUE(eventually([&] { return settled(candidates); }, milliseconds(5'000)));
  }
  std::optional<KeyValue> leader_key() {
    auto r = admin_->range({kKey});
    EXPECT_TRUE(r.ok()) << r.error().message;
    if (!r.ok() || r->kvs.empty()) return std::nullopt;
    return r->kvs[0];
  }
  // A write fenced by create_revision(key) == fence: did etcd apply it?
  bool fenced_put_succeeds(const Compare& fence) {
    TxnRequest txn;
    txn.compare.push_back(fence);
    txn.success.emplace_back(PutRequest{"/corral/fenced", "written under the fence"});
    auto r = admin_->txn(txn);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() && r->succeeded;
  }
  static Compare fence_of(int64_t revision) {
    return Compare::create_revision(kKey, Compare::Op::kEqual, revision);
  }

  EtcdProcess etcd_;
  std::unique_ptr<EtcdClient> admin_;
};

TEST_F(LeaderElectionTest, OneCandidateLeadsAndItsFenceHoldsInATxn) {
  auto a = candidate("a");
  EXPECT_FALSE(a->fence().has_value());
  a->start();
  ASSERT_TRUE(eventually([&] { return a->leading(); }, milliseconds(5'000)));

  const Leadership l = a->current();
  EXPECT_GT(l.fence_revision, 0);
  EXPECT_EQ(l.term, l.fence_revision);
  EXPECT_EQ(l.leader_value, a->value());
  auto kv = leader_key();
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, a->value());
  EXPECT_EQ(kv->create_revision, l.fence_revision);
  EXPECT_NE(kv->lease, 0);  // the key goes with the lease

  auto fence = a->fence();
  ASSERT_TRUE(fence.has_value());
  EXPECT_EQ(fence->target, Compare::Target::kCreate);
  EXPECT_EQ(fence->number, l.fence_revision);
  EXPECT_TRUE(fenced_put_succeeds(*fence));

  const auto changes = a->changes();
  ASSERT_FALSE(changes.empty());
  EXPECT_TRUE(changes.back().leadership.leading);

  a->stop();
  EXPECT_FALSE(a->leading());
  EXPECT_FALSE(a->fence().has_value());
  EXPECT_FALSE(a->changes().back().leadership.leading);  // the resignation was reported
  EXPECT_FALSE(leader_key().has_value());                // and the key deleted
}

TEST_F(LeaderElectionTest, ThreeCandidatesElectExactlyOneLeaderAndAgreeOnIt) {
  Candidates all;
  for (const char* name : {"a", "b", "c"}) all.push_back(candidate(name));
  for (auto& c : all) c->start();  // all at once: they race for the key
  ASSERT_TRUE(eventually([&] { return settled(all); }, milliseconds(5'000)));
  Candidate* leader = sole_leader(all);
  ASSERT_NE(leader, nullptr);
  const int64_t term = leader->current().term;
  auto kv = leader_key();
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->value, leader->value());
  EXPECT_EQ(kv->create_revision, term);

  // Across three keepalive rounds: always the same single leader, everyone agreeing.
  const Clock::time_point until = Clock::now() + milliseconds(1'600);
  int samples = 0;
  while (Clock::now() < until) {
    ASSERT_EQ(count_leaders(all), 1) << "sample " << samples;
    ASSERT_TRUE(leader->leading());
    for (const auto& c : all) {
      ASSERT_EQ(c->current().leader_value, leader->value());
      ASSERT_EQ(c->current().term, term);
    }
    ++samples;
    std::this_thread::sleep_for(milliseconds(20));
  }
  // Only the leader ever led: nobody else's on_change said leading.
  for (const auto& c : all) {
    if (c.get() == leader) continue;
    for (const Candidate::Change& change : c->changes()) EXPECT_FALSE(change.leadership.leading);
  }
}

TEST_F(LeaderElectionTest, GracefulStopHandsOverWithinASecond) {
  Candidates all;
  for (const char* name : {"a", "b", "c"}) all.push_back(candidate(name));
  start_led_by_first(all);
  const int64_t old_term = all[0]->current().term;

  const Clock::time_point t0 = Clock::now();
  all[0]->stop();
  const double stop_took = seconds_since(t0);
  Candidates rest;
  rest.push_back(std::move(all[1]));
  rest.push_back(std::move(all[2]));
  ASSERT_TRUE(
      eventually([&] { return settled(rest) && sole_leader(rest)->current().term != old_term; },
                 milliseconds(1'000)))
      << "no successor within 1 s of stop()";
  const double handover = seconds_since(t0);
  RecordProperty("handover_ms", static_cast<int>(handover * 1000));
  EXPECT_LT(stop_took, 0.5);
  EXPECT_FALSE(all[0]->leading());
  EXPECT_FALSE(all[0]->changes().back().leadership.leading);
  auto kv = leader_key();
  ASSERT_TRUE(kv.has_value());
  EXPECT_EQ(kv->create_revision, sole_leader(rest)->current().fence_revision);
  EXPECT_FALSE(fenced_put_succeeds(fence_of(old_term)));
}

// The lease revoked behind the leader's back (an operator, or etcd expiring
// it): the key goes with it, a follower takes over at its next poll, the old
// leader steps down at its next keepalive (answered with TTL 0), and a write
// fenced by its old term is refused.
TEST_F(LeaderElectionTest, RevokedLeaseStepsTheLeaderDownAndItsOldFenceFails) {
  Candidates all;
  for (const char* name : {"a", "b", "c"}) all.push_back(candidate(name));
  start_led_by_first(all);
  Candidate& old_leader = *all[0];
  const int64_t old_term = old_leader.current().fence_revision;
  auto kv = leader_key();
  ASSERT_TRUE(kv.has_value());
  ASSERT_NE(kv->lease, 0);

  const Clock::time_point t0 = Clock::now();
  auto revoked = admin_->lease_revoke(kv->lease);
  ASSERT_TRUE(revoked.ok()) << revoked.error().message;
  ASSERT_TRUE(
      eventually([&] { return settled(all) && sole_leader(all)->current().term != old_term; },
                 milliseconds(3'000)))
      << "nobody leads within TTL + 1 s of the revoke";
  const double takeover = seconds_since(t0);
  RecordProperty("takeover_ms", static_cast<int>(takeover * 1000));
  ASSERT_TRUE(
      eventually([&] { return old_leader.lost(old_term).has_value(); }, milliseconds(1'000)))
      << "the old leader never reported losing its term";
  EXPECT_LT(*old_leader.lost(old_term) - t0, milliseconds(1'000));  // at its next keepalive
  // The successor began at its next poll; until the old leader's next
  // keepalive both believed they led: the window the fence below covers.
  Candidate* successor = sole_leader(all);
  auto gained = successor->gained(successor->current().fence_revision);
  ASSERT_TRUE(gained.has_value());
  RecordProperty("successor_ms",
                 static_cast<int>(std::chrono::duration_cast<milliseconds>(*gained - t0).count()));
  RecordProperty(
      "old_leader_lost_ms",
      static_cast<int>(
          std::chrono::duration_cast<milliseconds>(*old_leader.lost(old_term) - t0).count()));

  EXPECT_FALSE(fenced_put_succeeds(fence_of(old_term)));
  auto fence = sole_leader(all)->fence();
  ASSERT_TRUE(fence.has_value());
  EXPECT_TRUE(fenced_put_succeeds(*fence));
}

// The key deleted under a leader whose lease lives: the leader sees it at its
// next range, steps down, and revokes the lease that now holds nothing.
TEST_F(LeaderElectionTest, DeletedKeyStepsTheLeaderDown) {
  Candidates all;
  for (const char* name : {"a", "b"}) all.push_back(candidate(name));
  start_led_by_first(all);
  const int64_t old_term = all[0]->current().fence_revision;
  auto kv = leader_key();
  ASSERT_TRUE(kv.has_value());

  auto deleted = admin_->delete_range({kKey});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  ASSERT_TRUE(
      eventually([&] { return settled(all) && sole_leader(all)->current().term != old_term; },
                 milliseconds(2'000)));
  ASSERT_TRUE(eventually([&] { return all[0]->lost(old_term).has_value(); }, milliseconds(1'000)));
  EXPECT_FALSE(fenced_put_succeeds(fence_of(old_term)));
  // The old lease was revoked, unless the old leader won again and still holds it.
  if (sole_leader(all) != all[0].get()) {
    ASSERT_TRUE(eventually(
        [&] {
          auto ttl = admin_->lease_keepalive(kv->lease);
          return ttl.ok() && *ttl == 0;
        },
        milliseconds(1'000)));
  }
}

// etcd stops answering (SIGSTOP: connections hang, nothing answers). The
// leader stops believing 1.5 s after its last keepalive's send (current() on
// time; on_change once its call in flight times out), nobody leads while etcd
// is silent, nothing crashes, and after SIGCONT someone leads with a new term.
TEST_F(LeaderElectionTest, EtcdPausedThenBackLeaderStepsDownAndSomeoneLeadsAgain) {
  Candidates all;
  for (const char* name : {"a", "b"}) all.push_back(candidate(name));
  start_led_by_first(all);
  Candidate& old_leader = *all[0];
  const int64_t old_term = old_leader.current().fence_revision;

  const Clock::time_point t0 = Clock::now();
  ASSERT_TRUE(etcd_.pause());
  ASSERT_TRUE(eventually([&] { return !old_leader.leading(); }, milliseconds(2'000)));
  const double belief_ended = seconds_since(t0);
  // At most 1.5 s (TTL - renew) after the last keepalive sent before the
  // pause, plus this thread's 5 ms polling and scheduling slack.
  EXPECT_LE(belief_ended, 1.75);
  ASSERT_TRUE(
      eventually([&] { return old_leader.lost(old_term).has_value(); }, milliseconds(2'000)));
  EXPECT_LT(*old_leader.lost(old_term) - t0, milliseconds(2'500));  // + one request_timeout
  // Silence for a while longer than the TTL: nobody claims to lead.
  const Clock::time_point quiet_until = t0 + milliseconds(2'500);
  while (Clock::now() < quiet_until) {
    ASSERT_EQ(count_leaders(all), 0);
    std::this_thread::sleep_for(milliseconds(20));
  }

  ASSERT_TRUE(etcd_.resume());
  const Clock::time_point t1 = Clock::now();
  ASSERT_TRUE(
      eventually([&] { return settled(all) && sole_leader(all)->current().term > old_term; },
                 milliseconds(5'000)))
      << "nobody leads after etcd came back";
  RecordProperty("leader_after_resume_ms", static_cast<int>(seconds_since(t1) * 1000));
  EXPECT_FALSE(fenced_put_succeeds(fence_of(old_term)));
}

// stop() while etcd hangs: at most the call in flight and one resign txn,
// each bounded by request_timeout (500 ms here).
TEST_F(LeaderElectionTest, StopReturnsPromptlyWhileEtcdHangs) {
  Candidates all;
  for (const char* name : {"a", "b"}) all.push_back(candidate(name));
  start_led_by_first(all);
  ASSERT_TRUE(etcd_.pause());
  for (auto& c : all) {
    const Clock::time_point t0 = Clock::now();
    c->stop();
    EXPECT_LT(seconds_since(t0), 1.3);
    EXPECT_FALSE(c->leading());
  }
  ASSERT_TRUE(etcd_.resume());
}

// The kill-equivalent: the leader cut off from etcd (its client goes through a
// TcpProxy that is cut), so its keepalives stop as if it had died. Another
// leads within TTL + 1 s, and the cut-off leader stepped down (on_change)
// before the new one began: the two beliefs never overlapped.
TEST_F(LeaderElectionTest, CutOffLeaderIsReplacedWithinTheTtlAndStepsDownFirst) {
  TcpProxy proxy;
  std::string error;
  ASSERT_TRUE(proxy.start(&error)) << error;
  proxy.set_target("127.0.0.1", etcd_.member().client_port());
  Candidates all;
  all.push_back(candidate("a", proxy.url()));
  all.push_back(candidate("b"));
  all.push_back(candidate("c"));
  start_led_by_first(all);
  Candidate& old_leader = *all[0];
  const int64_t old_term = old_leader.current().fence_revision;

  const Clock::time_point t0 = Clock::now();
  proxy.cut();
  Candidates rest;
  rest.push_back(std::move(all[1]));
  rest.push_back(std::move(all[2]));
  ASSERT_TRUE(
      eventually([&] { return settled(rest) && sole_leader(rest)->current().term != old_term; },
                 milliseconds(3'000)))
      << "nobody took over within TTL + 1 s";
  const double takeover = seconds_since(t0);
  RecordProperty("takeover_ms", static_cast<int>(takeover * 1000));
  Candidate* successor = sole_leader(rest);
  auto gained = successor->gained(successor->current().fence_revision);
  auto lost = old_leader.lost(old_term);
  ASSERT_TRUE(gained.has_value());
  ASSERT_TRUE(lost.has_value()) << "the cut-off leader still reports leading";
  RecordProperty(
      "step_down_before_successor_ms",
      static_cast<int>(std::chrono::duration_cast<milliseconds>(*gained - *lost).count()));
  EXPECT_LT(*lost, *gained) << "the old leader stepped down "
                            << std::chrono::duration<double>(*lost - *gained).count()
                            << " s after the new one began";
  EXPECT_FALSE(old_leader.leading());
  EXPECT_FALSE(fenced_put_succeeds(fence_of(old_term)));
}

}  // namespace leader_election_test
}  // namespace corral::testing
