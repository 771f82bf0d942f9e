// EtcdClient and EtcdWatch (controller/store/etcd) against a real etcd 3.4 on
// loopback (tests/support/etcd_process.h): each test starts its own
// single-member etcd (about half a second) and stops it.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/etcd_watch.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_process.h"

namespace corral::testing {
namespace etcd_client_test {

using namespace corral::etcd;  // NOLINT: the test reads the client's types throughout
using std::chrono::milliseconds;

// An endpoint nothing listens on: a port bound a moment ago, then closed.
std::string dead_endpoint() {
  std::string error;
  int port = free_loopback_port(&error);
  EXPECT_NE(port, 0) << error;
  return "http://127.0.0.1:" + std::to_string(port);
}

// Collects what a watch delivers; waits on it with a deadline (no sleeping).
class WatchRecorder {
 public:
  EtcdWatch::BatchHandler on_batch() {
    return [this](const WatchBatch& batch) {
      std::lock_guard<std::mutex> lock(mu_);
      batches_.push_back(batch);
      cv_.notify_all();
    };
  }
  EtcdWatch::EndHandler on_end() {
    return [this](const Error& error, int64_t compact_revision) {
      std::lock_guard<std::mutex> lock(mu_);
      end_ = error;
      compact_revision_ = compact_revision;
      cv_.notify_all();
    };
  }
  // Waits until `done` holds over the events seen so far.
  bool wait_events(const std::function<bool(const std::vector<WatchEvent>&)>& done,
                   milliseconds timeout = milliseconds(10'000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done(events_locked()) || end_.has_value(); }) &&
           done(events_locked());
  }
  bool wait_progress(milliseconds timeout = milliseconds(10'000)) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const WatchBatch& b : batches_)
        if (b.progress) return true;
      return false;
    });
  }
  std::optional<Error> wait_end(milliseconds timeout = milliseconds(10'000)) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return end_.has_value(); });
    return end_;
  }
  int64_t compact_revision() {
    std::lock_guard<std::mutex> lock(mu_);
    return compact_revision_;
  }
  std::vector<WatchEvent> events() {
    std::lock_guard<std::mutex> lock(mu_);
    return events_locked();
  }
  std::vector<WatchBatch> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }

 private:
  std::vector<WatchEvent> events_locked() const {
    std::vector<WatchEvent> out;
    for (const WatchBatch& b : batches_) out.insert(out.end(), b.events.begin(), b.events.end());
    return out;
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<WatchBatch> batches_;  // guarded by mu_
  std::optional<Error> end_;         // guarded by mu_
  int64_t compact_revision_ = 0;     // guarded by mu_
};

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(etcd_.start(&error)) << error;
    client_ = std::make_unique<EtcdClient>(options({etcd_.endpoint()}));
  }
  static EtcdOptions options(std::vector<std::string> endpoints) {
    EtcdOptions o;
    o.endpoints = std::move(endpoints);
    o.connect_timeout = milliseconds(1'000);
    o.request_timeout = milliseconds(5'000);
    return o;
  }
  int64_t put(const std::string& key, const std::string& value, int64_t lease = 0) {
    auto r = client_->put({key, value, lease, false});
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? r->revision : 0;
  }

  EtcdProcess etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, PutThenRangeReadsTheKeyBackWithItsRevisions) {
  int64_t rev = put("/a/one", std::string("v\0\xff", 3));  // values are bytes, base64 on the wire
  auto r = client_->range({"/a/one"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].key, "/a/one");
  EXPECT_EQ(r->kvs[0].value, std::string("v\0\xff", 3));
  EXPECT_EQ(r->kvs[0].create_revision, rev);
  EXPECT_EQ(r->kvs[0].mod_revision, rev);
  EXPECT_EQ(r->kvs[0].version, 1);
  EXPECT_EQ(r->count, 1);
  EXPECT_FALSE(r->more);
  EXPECT_EQ(r->revision, rev);

  auto missing = client_->range({"/a/none"});
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_TRUE(missing->kvs.empty());
  EXPECT_EQ(missing->count, 0);
}

TEST_F(EtcdClientTest, PrefixRangeWithALimitSaysThereIsMore) {
  put("/p/a", "1");
  put("/p/b", "2");
  put("/p/c", "3");
  put("/q/outside", "x");
  auto r = client_->range({"/p/", prefix_end("/p/"), 2});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kvs.size(), 2u);
  EXPECT_EQ(r->kvs[0].key, "/p/a");
  EXPECT_EQ(r->kvs[1].key, "/p/b");
  EXPECT_TRUE(r->more);
  EXPECT_EQ(r->count, 3);

  RangeRequest count{"/p/", prefix_end("/p/")};
  count.count_only = true;
  auto c = client_->range(count);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_TRUE(c->kvs.empty());
  EXPECT_EQ(c->count, 3);

  RangeRequest keys{"/p/", prefix_end("/p/")};
  keys.keys_only = true;
  auto k = client_->range(keys);
  ASSERT_TRUE(k.ok()) << k.error().message;
  ASSERT_EQ(k->kvs.size(), 3u);
  EXPECT_EQ(k->kvs[2].key, "/p/c");
  EXPECT_EQ(k->kvs[2].value, "");
}

TEST_F(EtcdClientTest, TxnCompareAndSwapOnModRevisionSucceedsThenFailsWithTheCurrentValue) {
  int64_t rev = put("/cas", "old");
  TxnRequest swap;
  swap.compare = {Compare::mod_revision("/cas", Compare::Op::kEqual, rev)};
  swap.success = {PutRequest{"/cas", "new"}};
  swap.failure = {RangeRequest{"/cas"}};
  auto first = client_->txn(swap);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->succeeded);
  EXPECT_EQ(first->revision, rev + 1);
  ASSERT_EQ(first->responses.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<PutResult>(first->responses[0]));

  // The same swap again: its revision is stale, the failure branch reads.
  auto second = client_->txn(swap);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_FALSE(second->succeeded);
  EXPECT_EQ(second->revision, rev + 1);
  ASSERT_EQ(second->responses.size(), 1u);
  const auto* read = std::get_if<RangeResult>(&second->responses[0]);
  ASSERT_NE(read, nullptr);
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "new");
  EXPECT_EQ(read->kvs[0].mod_revision, rev + 1);
  EXPECT_EQ(read->kvs[0].version, 2);
}

TEST_F(EtcdClientTest, TxnCreateIfAbsentCreatesOnceOnly) {
  TxnRequest create;
  create.compare = {Compare::absent("/once")};
  create.success = {PutRequest{"/once", "first"}};
  create.failure = {RangeRequest{"/once"}};
  auto first = client_->txn(create);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->succeeded);

  create.success = {PutRequest{"/once", "second"}};
  auto again = client_->txn(create);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_FALSE(again->succeeded);
  const auto* read = std::get_if<RangeResult>(&again->responses.at(0));
  ASSERT_NE(read, nullptr);
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].value, "first");
  EXPECT_EQ(read->kvs[0].create_revision, first->revision);
}

TEST_F(EtcdClientTest, DeleteRangeReturnsTheCountAndThePreviousPairs) {
  put("/d/a", "1");
  put("/d/b", "2");
  put("/e", "3");
  auto r = client_->delete_range({"/d/", prefix_end("/d/"), true});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->deleted, 2);
  ASSERT_EQ(r->prev_kvs.size(), 2u);
  EXPECT_EQ(r->prev_kvs[0].key, "/d/a");
  EXPECT_EQ(r->prev_kvs[0].value, "1");
  EXPECT_EQ(r->prev_kvs[1].value, "2");

  auto none = client_->delete_range({"/d/", prefix_end("/d/")});
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_EQ(none->deleted, 0);
  auto left = client_->range({"/e"});
  ASSERT_TRUE(left.ok()) << left.error().message;
  EXPECT_EQ(left->kvs.size(), 1u);
}

TEST_F(EtcdClientTest, HeaderRevisionsIncreaseWithEveryWrite) {
  int64_t a = put("/r", "1");
  auto b = client_->put({"/r", "2", 0, true});
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_TRUE(b->prev_kv.has_value());
  EXPECT_EQ(b->prev_kv->value, "1");
  auto c = client_->delete_range({"/r"});
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_LT(a, b->revision);
  EXPECT_LT(b->revision, c->revision);
  auto read = client_->range({"/r"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->revision, c->revision);  // a read does not move the revision
}

TEST_F(EtcdClientTest, WatchFromARevisionSeesTheLaterEventsInOrderWithADelete) {
  int64_t before = put("/w/a", "0");
  put("/w/a", "1");
  put("/other", "ignored");
  put("/w/b", "2");
  ASSERT_TRUE(client_->delete_range({"/w/a"}).ok());

  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/w/";
  options.range_end = prefix_end("/w/");
  options.start_revision = before + 1;
  options.prev_kv = true;
  EtcdWatch watch({etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() >= 3; }));
  put("/w/c", "after the watch started");
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() >= 4; }));

  std::vector<WatchEvent> events = recorder.events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, WatchEvent::Type::kPut);
  EXPECT_EQ(events[0].kv.key, "/w/a");
  EXPECT_EQ(events[0].kv.value, "1");
  ASSERT_TRUE(events[0].prev_kv.has_value());
  EXPECT_EQ(events[0].prev_kv->value, "0");
  EXPECT_EQ(events[1].kv.key, "/w/b");
  EXPECT_FALSE(events[1].prev_kv.has_value());  // created: nothing before it
  EXPECT_EQ(events[2].type, WatchEvent::Type::kDelete);
  EXPECT_EQ(events[2].kv.key, "/w/a");
  ASSERT_TRUE(events[2].prev_kv.has_value());
  EXPECT_EQ(events[2].prev_kv->value, "1");
  EXPECT_EQ(events[3].kv.key, "/w/c");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_LT(events[i - 1].kv.mod_revision, events[i].kv.mod_revision);
  EXPECT_GE(watch.last_revision(), events[3].kv.mod_revision);
  EXPECT_EQ(watch.endpoint(), etcd_.endpoint());
}

TEST_F(EtcdClientTest, WatchFromACompactedRevisionIsGoneWithTheCompactedRevision) {
  int64_t first = put("/c/a", "1");
  put("/c/a", "2");
  int64_t last = put("/c/a", "3");
  auto compacted = client_->compact(last, true);
  ASSERT_TRUE(compacted.ok()) << compacted.error().message;

  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/c/";
  options.range_end = prefix_end("/c/");
  options.start_revision = first;
  EtcdWatch watch({etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  std::optional<Error> end = recorder.wait_end();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, ErrorCode::kGone) << end->message;
  EXPECT_EQ(recorder.compact_revision(), last);
  EXPECT_NE(end->message.find("etcd " + etcd_.endpoint() + ": watch from revision " + std::to_string(first)),
            std::string::npos)
      << end->message;
  EXPECT_TRUE(recorder.events().empty());
}

TEST_F(EtcdClientTest, RangeAtACompactedRevisionIsGoneAndAFutureOneIsBadRequest) {
  int64_t first = put("/k", "1");
  int64_t last = put("/k", "2");
  ASSERT_TRUE(client_->compact(last).ok());
  RangeRequest old{"/k"};
  old.revision = first;
  auto r = client_->range(old);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kGone);
  EXPECT_EQ(r.error().message,
            "etcd " + etcd_.endpoint() + ": range: etcdserver: mvcc: required revision has been compacted");

  RangeRequest future{"/k"};
  future.revision = last + 100;
  auto f = client_->range(future);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.error().code, ErrorCode::kBadRequest) << f.error().message;

  auto again = client_->compact(first);  // already compacted past it
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kGone) << again.error().message;
}

TEST_F(EtcdClientTest, AWatchStopsPromptlyWhenItsOwnerDropsIt) {
  // No events: the watch sits in a quiet stream until its owner drops it.
  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/quiet";
  options.start_revision = put("/quiet", "1");
  auto watch = std::make_unique<EtcdWatch>(std::vector<std::string>{etcd_.endpoint()}, options,
                                           recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() == 1; }));
  auto start = std::chrono::steady_clock::now();
  watch.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(500));
  EXPECT_FALSE(recorder.wait_end(milliseconds(0)).has_value());  // the owner's stop is not an end
}

TEST_F(EtcdClientTest, AWatchAnswerOverTheCapEndsTheWatchInsteadOfGrowing) {
  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/big";
  options.max_message_bytes = 1'000;
  // From a revision, not from "now": a put racing the watch's creation is still seen.
  options.start_revision = put("/big", "small");
  EtcdWatch watch({etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() == 1; }));
  put("/big", std::string(10'000, 'x'));
  std::optional<Error> end = recorder.wait_end();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, ErrorCode::kTooLarge) << end->message;
  EXPECT_EQ(recorder.events().size(), 1u);
}

TEST_F(EtcdClientTest, AWatchOnAPausedEtcdEndsAfterItsIdleTimeout) {
  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/idle";
  options.idle_timeout = milliseconds(300);
  put("/idle", "0");
  EtcdWatch watch({etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(wait_for([&] { return !watch.endpoint().empty(); }, milliseconds(5'000)));  // created
  ASSERT_TRUE(etcd_.pause());  // the stream stays open; nothing answers its progress requests
  std::optional<Error> end = recorder.wait_end();
  ASSERT_TRUE(etcd_.resume());
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, ErrorCode::kTimeout) << end->message;
}

// The idle timeout is about a member that stopped answering, not about a key
// nobody writes: a quiet watch asks etcd for progress and stays up.
TEST_F(EtcdClientTest, AQuietWatchOnAHealthyEtcdOutlivesItsIdleTimeout) {
  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/quiet";
  options.idle_timeout = milliseconds(300);
  options.start_revision = put("/quiet", "0");
  EtcdWatch watch({etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() == 1; }));
  put("/elsewhere", "x");  // etcd's revision moves past the watch's last event
  EXPECT_FALSE(recorder.wait_end(milliseconds(1'500)).has_value());  // five idle timeouts of silence
  // The progress answers were not taken for "every event up to here was sent".
  EXPECT_EQ(recorder.events().size(), 1u);
  put("/quiet", "1");
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() == 2; }));
}

TEST_F(EtcdClientTest, AValueOverEtcdsRequestLimitIsTooLarge) {
  auto r = client_->put({"/huge", std::string(2u << 20, 'x')});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kTooLarge) << r.error().message;
  EXPECT_EQ(r.error().message.rfind("etcd " + etcd_.endpoint() + ": put: ", 0), 0u) << r.error().message;
}

TEST(EtcdClientProgress, WatchDeliversProgressNotificationsWhenAsked) {
  EtcdProcessOptions etcd_options;
  etcd_options.extra_args = {"--experimental-watch-progress-notify-interval=100ms"};
  EtcdProcess etcd(etcd_options);
  std::string error;
  ASSERT_TRUE(etcd.start(&error)) << error;
  EtcdClient client({{etcd.endpoint()}});
  auto rev = client.put({"/elsewhere", "x"});
  ASSERT_TRUE(rev.ok()) << rev.error().message;

  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/quiet/";
  options.range_end = prefix_end("/quiet/");
  options.progress_notify = true;
  EtcdWatch watch({etcd.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_progress());
  for (const WatchBatch& b : recorder.batches()) {
    EXPECT_TRUE(b.events.empty());
    EXPECT_GE(b.revision, rev->revision);
  }
}

TEST_F(EtcdClientTest, LeaseGrantKeepaliveRevokeAndTheKeyGoesWithTheLease) {
  auto lease = client_->lease_grant(30);
  ASSERT_TRUE(lease.ok()) << lease.error().message;
  EXPECT_NE(lease->id, 0);
  EXPECT_EQ(lease->ttl, 30);
  put("/leased", "v", lease->id);
  auto read = client_->range({"/leased"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  ASSERT_EQ(read->kvs.size(), 1u);
  EXPECT_EQ(read->kvs[0].lease, lease->id);

  auto ttl = client_->lease_keepalive(lease->id);
  ASSERT_TRUE(ttl.ok()) << ttl.error().message;
  EXPECT_EQ(*ttl, 30);

  ASSERT_TRUE(client_->lease_revoke(lease->id).ok());
  auto gone = client_->range({"/leased"});
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_TRUE(gone->kvs.empty());

  auto expired = client_->lease_keepalive(lease->id);
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_EQ(*expired, 0);  // a keepalive of a revoked lease: TTL 0, not an error
  auto again = client_->lease_revoke(lease->id);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(again.error().message,
            "etcd " + etcd_.endpoint() + ": lease_revoke: etcdserver: requested lease not found");
}

TEST_F(EtcdClientTest, StatusReportsVersion34AndTheLeader) {
  put("/s", "1");
  auto s = client_->status();
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->version.rfind("3.4.", 0), 0u) << s->version;
  EXPECT_GT(s->db_size, 0);
  EXPECT_NE(s->leader, 0u);
  EXPECT_EQ(s->leader, s->member_id);  // one member: it leads
  EXPECT_GT(s->raft_term, 0u);
  EXPECT_GE(s->revision, 2);
}

TEST_F(EtcdClientTest, AnUnreachableEndpointIsUnavailableAndNamed) {
  std::string dead = dead_endpoint();
  EtcdClient client(options({dead}));
  auto r = client.range({"/x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.rfind("etcd " + dead + ": range: ", 0), 0u) << r.error().message;
  auto p = client.put({"/x", "1"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(p.error().message.rfind("etcd " + dead + ": put: ", 0), 0u) << p.error().message;

  WatchRecorder recorder;
  EtcdWatch watch({dead}, WatchOptions{"/x"}, recorder.on_batch(), recorder.on_end());
  std::optional<Error> end = recorder.wait_end();
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->code, ErrorCode::kUnavailable);
  EXPECT_NE(end->message.find("etcd " + dead + ": watch"), std::string::npos) << end->message;
}

TEST_F(EtcdClientTest, ADeadFirstEndpointFailsOverToTheSecondForReadsWritesAndWatches) {
  std::string dead = dead_endpoint();
  EtcdClient client(options({dead, etcd_.endpoint()}));
  // Connection refused: the write provably never reached etcd, so it moves on.
  auto p = client.put({"/f", "1"});
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(client.current_endpoint(), etcd_.endpoint());
  auto r = client.range({"/f"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kvs.size(), 1u);

  WatchRecorder recorder;
  WatchOptions options;
  options.key = "/f";
  options.start_revision = p->revision;
  EtcdWatch watch({dead, etcd_.endpoint()}, options, recorder.on_batch(), recorder.on_end());
  ASSERT_TRUE(recorder.wait_events([](const auto& events) { return events.size() == 1; }));
  EXPECT_EQ(watch.endpoint(), etcd_.endpoint());
}

TEST_F(EtcdClientTest, APausedEtcdTimesOutAReadMovesOnAndASentWriteDoesNot) {
  // Two separate single-member etcds, so that where a request went shows.
  EtcdProcess other;
  std::string error;
  ASSERT_TRUE(other.start(&error)) << error;
  EtcdOptions o = options({etcd_.endpoint(), other.endpoint()});
  o.request_timeout = milliseconds(300);
  EtcdClient client(o);
  ASSERT_TRUE(client.put({"/t", "first"}).ok());  // on the first endpoint, which answers
  EXPECT_EQ(client.current_endpoint(), etcd_.endpoint());
  ASSERT_TRUE(etcd_.pause());  // connections open, nothing answers

  // The write reached the paused etcd's socket before the deadline: it may
  // yet be applied there, so it is not sent to the next endpoint.
  auto p = client.put({"/t", "during"});
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kTimeout) << p.error().message;
  EXPECT_EQ(p.error().message.rfind("etcd " + etcd_.endpoint() + ": put: timed out", 0), 0u)
      << p.error().message;
  EtcdClient other_only(options({other.endpoint()}));
  auto on_other = other_only.range({"/t"});
  ASSERT_TRUE(on_other.ok()) << on_other.error().message;
  EXPECT_TRUE(on_other->kvs.empty());

  // A read times out on the paused one and is asked again of the next.
  auto r = client.range({"/t"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->kvs.empty());  // the other etcd's answer
  EXPECT_EQ(client.current_endpoint(), other.endpoint());

  // A new client cannot even connect to the paused one (its HTTP/2 handshake
  // needs the process): nothing is sent, and that is kUnavailable naming it.
  EtcdOptions paused_only = options({etcd_.endpoint()});
  paused_only.connect_timeout = milliseconds(300);
  auto unreachable = EtcdClient(paused_only).range({"/t"});
  ASSERT_FALSE(unreachable.ok());
  EXPECT_EQ(unreachable.error().code, ErrorCode::kUnavailable) << unreachable.error().message;
  EXPECT_EQ(unreachable.error().message.rfind("etcd " + etcd_.endpoint() + ": range: cannot connect", 0), 0u)
      << unreachable.error().message;
  ASSERT_TRUE(etcd_.resume());
}

TEST(EtcdClientCluster, ThreeMembersServeOneKeySpaceAndFailOverWhenAFollowerDies) {
  EtcdCluster cluster(3);
  std::string error;
  ASSERT_TRUE(cluster.start(&error)) << error;
  std::vector<std::string> endpoints = cluster.endpoints();
  EtcdClient first({{endpoints[0]}});
  auto p = first.put({"/shared", "1"});
  ASSERT_TRUE(p.ok()) << p.error().message;

  // Kill a follower, not the leader: a lost leader means an election, which
  // is not what this test is about. The client lists the dead member first.
  const int follower = cluster.follower();
  ASSERT_GE(follower, 0);
  const std::vector<std::string> ordered = cluster.endpoints_from(follower);
  ASSERT_TRUE(cluster.member(follower).kill());

  EtcdClient all({ordered});
  auto r = all.range({"/shared"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->kvs.size(), 1u);
  EXPECT_EQ(r->kvs[0].value, "1");
  EXPECT_NE(all.current_endpoint(), ordered[0]);
  auto w = all.put({"/shared", "2"});  // two of three: still a quorum
  ASSERT_TRUE(w.ok()) << w.error().message;
  EXPECT_GT(w->revision, p->revision);
}

// A frozen member (SIGSTOP) takes a write and never answers: that write
// fails (it may yet be applied, so it is not sent again), and the next write
// starts at the next member instead of waiting on the frozen one again.
TEST(EtcdClientCluster, AfterAWriteTimedOutOnAFrozenMemberTheNextGoesElsewhere) {
  EtcdCluster cluster(3);
  std::string error;
  ASSERT_TRUE(cluster.start(&error)) << error;
  const int follower = cluster.follower();
  ASSERT_GE(follower, 0);
  const std::vector<std::string> ordered = cluster.endpoints_from(follower);
  EtcdOptions options{ordered};
  options.request_timeout = milliseconds(500);
  options.connect_timeout = milliseconds(500);
  EtcdClient client(options);
  ASSERT_TRUE(client.range({"/k"}).ok());  // connected to the follower, which answered
  EXPECT_EQ(client.current_endpoint(), ordered[0]);
  ASSERT_TRUE(cluster.member(follower).pause());
  auto lost = client.put({"/k", "1"});
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kTimeout) << lost.error().message;
  auto next = client.put({"/k", "2"});
  EXPECT_TRUE(next.ok()) << next.error().message;
  EXPECT_NE(client.current_endpoint(), ordered[0]);

  // A client that never reached the frozen member skips it at once: its
  // first write goes to the next member, since nothing was sent.
  EtcdClient fresh(options);
  auto first = fresh.put({"/k", "3"});
  EXPECT_TRUE(first.ok()) << first.error().message;
  EXPECT_NE(fresh.current_endpoint(), ordered[0]);
  ASSERT_TRUE(cluster.member(follower).resume());
}

}  // namespace etcd_client_test
}  // namespace corral::testing
