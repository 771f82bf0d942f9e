// The etcd store (controller/store/etcd_store.h) beyond the Store contract,
// which etcd_store_conformance.cpp checks: several controllers on one etcd,
// fenced writes, a feed that lost its history, what etcd holds that we did
// not write. Real etcd on loopback, started and stopped by each test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "controller/store/batch_write.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd_maintenance.h"
#include "controller/store/etcd_store.h"
#include "tests/support/e2e_util.h"
#include "tests/support/etcd_process.h"

namespace corral::store {
namespace etcd_store_test {

using namespace std::chrono_literals;
using Clock_ = std::chrono::steady_clock;

Json vm(const std::string& name, Json spec = Json::object()) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "VM"},
          {"metadata", {{"name", name}}},
          {"spec", std::move(spec)}};
}

// Polls `done` every 5 ms until it holds or `timeout` passes (the feed is
// asynchronous).
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  return testing::wait_for(done, timeout, 5ms);
}

std::unique_ptr<EtcdStore> open_store(const std::vector<std::string>& endpoints,
                                      const Clock& clock, const std::string& prefix = "/t") {
  EtcdStoreOptions options;
  options.endpoints = endpoints;
  options.prefix = prefix;
  auto store = open_etcd_store(options, clock);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(*store) : nullptr;
}

class EtcdStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(etcd_.start(&error)) << error;
  }
  testing::EtcdProcess etcd_;
  FakeClock clock_;
};

TEST_F(EtcdStoreTest, TwoControllersOnOneEtcdSeeEachOthersWritesAndConflicts) {
  auto a = open_store({etcd_.endpoint()}, clock_);
  auto b = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(a && b);
  auto created = a->create("VM", vm("web-1", {{"cpu", "1"}}));
  ASSERT_TRUE(created.ok()) << created.error().message;
  // B's watch from A's revision waits for B's feed to reach it, then follows.
  auto w = b->watch("VM", (*created)->revision);
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_TRUE(eventually([&] { return b->get("VM", "web-1").ok(); }));
  EXPECT_EQ((*b->get("VM", "web-1"))->revision, (*created)->revision);

  // B updates from A's version: fine. A then updates from the same, now stale,
  // version: Conflict, judged by etcd even if A's cache has not caught up.
  Json from_b = (*created)->parse();
  from_b["spec"]["cpu"] = "2";
  auto updated = b->update("VM", from_b);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  Json stale = (*created)->parse();
  stale["spec"]["cpu"] = "3";
  auto refused = a->update("VM", stale);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kConflict);
  // Without a resourceVersion, A's update applies on top of B's.
  stale["metadata"].erase("resourceVersion");
  stale["status"] = {{"phase", "Running"}};
  auto applied = a->update_status("VM", stale);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_EQ((*applied)->parse()["spec"]["cpu"], "2") << "B's spec kept";
  EXPECT_GT((*applied)->revision, (*updated)->revision);
  auto e = (*w)->next(5s);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->object->revision, (*updated)->revision);
}

TEST_F(EtcdStoreTest, CompareAndSwapIncrementsFromTwoControllersLoseNone) {
  auto a = open_store({etcd_.endpoint()}, clock_);
  auto b = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(a && b);
  ASSERT_TRUE(a->create("VM", vm("counter", {{"count", 0}})).ok());
  ASSERT_TRUE(eventually([&] { return b->get("VM", "counter").ok(); }));
  constexpr int kThreads = 4;  // two per controller
  constexpr int kEach = 25;
  std::atomic<int> conflicts{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    Store& store = t % 2 == 0 ? static_cast<Store&>(*a) : static_cast<Store&>(*b);
    threads.emplace_back([&store, &conflicts, &failures] {
      const auto deadline = Clock_::now() + 30s;
      for (int done = 0; done < kEach && Clock_::now() < deadline;) {
        auto current = store.get("VM", "counter");
        if (!current.ok()) {
          ++failures;
          return;
        }
        Json o = (*current)->parse();  // carries its resourceVersion: a compare-and-swap
        o["spec"]["count"] = o["spec"]["count"].get<int>() + 1;
        auto r = store.update("VM", o);
        if (r.ok()) {
          ++done;
        } else if (r.error().code == ErrorCode::kConflict) {
          ++conflicts;
        } else {
          ++failures;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  // Reads are served from each controller's feed, which may trail the other
  // controller's last write by a moment: wait until both feeds show the same
  // revision, then that value must hold every acknowledged increment.
  int64_t revision_a = 0;
  int64_t revision_b = -1;
  ASSERT_TRUE(eventually([&] {
    auto ra = a->get("VM", "counter");
    auto rb = b->get("VM", "counter");
    if (!ra.ok() || !rb.ok()) return false;
    revision_a = (*ra)->revision;
    revision_b = (*rb)->revision;
    return revision_a == revision_b && (*ra)->parse()["spec"]["count"] == kThreads * kEach;
  })) << "feeds at revisions " << revision_a << " and " << revision_b << ", " << conflicts.load()
      << " conflicts on the way";
  auto final_a = a->get("VM", "counter");
  ASSERT_TRUE(final_a.ok());
  EXPECT_EQ((*final_a)->parse()["spec"]["count"], kThreads * kEach);
}

TEST_F(EtcdStoreTest, FencedWritesLandOnlyWhileTheFenceKeyIsTheSame) {
  auto store = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(store);
  etcd::EtcdClient& client = store->client();
  auto leader = client.put({"/t/leader", "me"});
  ASSERT_TRUE(leader.ok()) << leader.error().message;
  const int64_t term = leader->revision;  // the key's create_revision
  bool leading = true;
  auto fenced = store->fenced([&]() -> std::optional<etcd::Compare> {
    if (!leading) return std::nullopt;
    return etcd::Compare::create_revision("/t/leader", etcd::Compare::Op::kEqual, term);
  });
  auto kept = fenced->create("VM", vm("placed-by-leader"));
  ASSERT_TRUE(kept.ok()) << kept.error().message;

  // Another controller took over: the key was deleted and created again.
  ASSERT_TRUE(client.delete_range({"/t/leader"}).ok());
  ASSERT_TRUE(client.put({"/t/leader", "other"}).ok());
  for (int i = 0; i < 2; ++i) {
    auto refused = i == 0 ? fenced->create("VM", vm("placed-by-old-leader"))
                          : fenced->update("VM", [&] {
                              Json o = (*kept)->parse();
                              o["spec"]["cpu"] = "2";
                              return o;
                            }());
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(refused.error().message.find("not the leader"), std::string::npos)
        << refused.error().message;
  }
  auto removed = fenced->remove("VM", "placed-by-leader", {});
  ASSERT_FALSE(removed.ok());
  auto batch = fenced->write_batch({{BatchWrite::Part::kCreate, "VM", vm("batched")}});
  ASSERT_FALSE(batch[0].ok());
  // Nothing of it reached etcd.
  auto objects = client.range({"/t/objects/", etcd::prefix_end("/t/objects/")});
  ASSERT_TRUE(objects.ok());
  ASSERT_EQ(objects->kvs.size(), 1u);
  EXPECT_EQ(objects->kvs[0].key, "/t/objects/VM/placed-by-leader");
  EXPECT_EQ(objects->kvs[0].mod_revision, (*kept)->revision) << "the update did not land";
  // A fence that says "not leading" fails before asking etcd.
  leading = false;
  auto early = fenced->create("VM", vm("x"));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kUnavailable);
  // The unfenced store (the API's) still writes.
  EXPECT_TRUE(store->create("VM", vm("by-a-person")).ok());
}

TEST_F(EtcdStoreTest, CascadingDeleteReachesDependentsWrittenByAnotherController) {
  auto a = open_store({etcd_.endpoint()}, clock_);
  auto b = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(a && b);
  Json set = {{"apiVersion", "corral/v1"},
              {"kind", "VMSet"},
              {"metadata", {{"name", "web"}}},
              {"spec", Json::object()}};
  auto owner = a->create("VMSet", set);
  ASSERT_TRUE(owner.ok());
  ASSERT_TRUE(eventually([&] { return b->get("VMSet", "web").ok(); }));
  Json child = vm("web-1");
  child["metadata"]["ownerReferences"] = Json::array(
      {{{"apiVersion", "corral/v1"}, {"kind", "VMSet"}, {"name", "web"}, {"uid", (*owner)->uid}}});
  auto dependent = b->create("VM", child);
  ASSERT_TRUE(dependent.ok());
  ASSERT_TRUE(eventually([&] { return a->get("VM", "web-1").ok(); }));
  auto removed = a->remove("VMSet", "web", {});
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(a->get("VM", "web-1").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(eventually([&] { return !b->get("VM", "web-1").ok(); }));
}

TEST_F(EtcdStoreTest, ValuesThatAreNotObjectsAreSkippedAndTheFeedGoesOn) {
  etcd::EtcdClient client({{etcd_.endpoint()}});
  ASSERT_TRUE(client.put({"/t/objects/VM/garbage", "not json"}).ok());
  ASSERT_TRUE(client.put({"/t/objects/VM", "a key without a name"}).ok());
  auto store = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->list("VM", {})->items.empty());
  ASSERT_TRUE(client.put({"/t/objects/VM/garbage2", "[1,2]"}).ok());
  auto good = store->create("VM", vm("good"));
  ASSERT_TRUE(good.ok()) << good.error().message;
  auto listed = store->list("VM", {});
  ASSERT_EQ(listed->items.size(), 1u);
  EXPECT_EQ(listed->items[0]->name, "good");
  EXPECT_TRUE(store->healthy().ok());
}

TEST_F(EtcdStoreTest, TheLeaderCompactsHistoryOneIntervalBehind) {
  auto store = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(store);
  std::atomic<bool> leading{false};
  EtcdMaintenance maintenance(*store, {100ms, 1h}, [&] { return leading.load(); },
                              [] { return std::nullopt; });
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->create("VM", vm("vm-" + std::to_string(i))).ok());
  const int64_t written = store->revision();
  std::this_thread::sleep_for(350ms);  // three ticks, not leading: nothing compacted
  EXPECT_EQ(maintenance.compacted(), 0);
  leading = true;
  ASSERT_TRUE(eventually([&] { return maintenance.compacted() >= written; }, 5s));
  auto old = store->client().range({"/t/objects/", etcd::prefix_end("/t/objects/"), 0, 1});
  ASSERT_FALSE(old.ok()) << "history before the compaction is gone";
  EXPECT_EQ(old.error().code, ErrorCode::kGone);
  // The store keeps serving and writing.
  EXPECT_EQ(store->list("VM", {})->items.size(), 5u);
  EXPECT_TRUE(store->create("VM", vm("after")).ok());
}

// A cascade cut short (here: the dependents' owner deleted straight from
// etcd, as if the controller died after the first delete) leaves orphans;
// the leader's sweep deletes them, and nothing that still has an owner —
// not even an owner its cache has not seen yet.
TEST_F(EtcdStoreTest, TheOrphanSweepDeletesWhatACutShortCascadeLeft) {
  auto store = open_store({etcd_.endpoint()}, clock_);
  ASSERT_TRUE(store);
  auto owner_of = [](const Record& owner, Json o) {
    o["metadata"]["ownerReferences"] = Json::array(
        {{{"apiVersion", "corral/v1"}, {"kind", owner.kind}, {"name", owner.name}, {"uid", owner.uid}}});
    return o;
  };
  Json set = {{"apiVersion", "corral/v1"}, {"kind", "VMSet"}, {"metadata", {{"name", "web"}}},
              {"spec", Json::object()}};
  auto web = store->create("VMSet", set);
  set["metadata"]["name"] = "db";
  auto db = store->create("VMSet", set);
  ASSERT_TRUE(web.ok() && db.ok());
  auto orphan = store->create("VM", owner_of(**web, vm("web-1")));
  auto grandchild = store->create("VM", owner_of(**orphan, vm("web-1-helper")));
  auto kept = store->create("VM", owner_of(**db, vm("db-1")));
  ASSERT_TRUE(orphan.ok() && grandchild.ok() && kept.ok());
  ASSERT_TRUE(store->client().delete_range({"/t/objects/VMSet/web"}).ok());
  ASSERT_TRUE(eventually([&] { return !store->get("VMSet", "web").ok(); }));

  const int64_t term = store->client().put({"/t/leader", "me"})->revision;
  auto removed = store->remove_orphans(
      [&] { return etcd::Compare::create_revision("/t/leader", etcd::Compare::Op::kEqual, term); });
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_EQ(*removed, 1u) << "web-1, whose delete took its helper with it";
  EXPECT_FALSE(store->get("VM", "web-1").ok());
  EXPECT_FALSE(store->get("VM", "web-1-helper").ok());
  EXPECT_TRUE(store->get("VM", "db-1").ok());
  EXPECT_TRUE(store->get("VMSet", "db").ok());
}

TEST(EtcdStoreOpen, NoEtcdIsAClearErrorAtOnce) {
  std::string error;
  int port = testing::free_loopback_port(&error);
  ASSERT_NE(port, 0) << error;
  FakeClock clock;
  EtcdStoreOptions options;
  options.endpoints = {"http://127.0.0.1:" + std::to_string(port)};
  const auto start = Clock_::now();
  auto store = open_etcd_store(options, clock);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(store.error().message.find(options.endpoints[0]), std::string::npos)
      << store.error().message;
  EXPECT_LT(Clock_::now() - start, 5s);
}

// A controller whose etcd member was gone while the others wrote and
// compacted: its feed cannot resume from its revision, so it re-lists and
// closes its watches with Gone (their clients re-list too).
TEST(EtcdStoreCluster, AFeedThatMissedCompactedHistoryRelistsAndClosesItsWatches) {
  testing::EtcdCluster cluster(3);
  std::string error;
  ASSERT_TRUE(cluster.start(&error)) << error;
  auto endpoints = cluster.endpoints();
  // The member to lose is a raft follower: losing the leader would add an
  // election, during which writes may time out — not what this is about.
  const int gone = cluster.follower();
  ASSERT_GE(gone, 0);
  std::vector<std::string> others;
  for (int i = 0; i < cluster.size(); ++i)
    if (i != gone) others.push_back(endpoints[static_cast<size_t>(i)]);
  FakeClock clock;
  auto lonely = open_store({endpoints[static_cast<size_t>(gone)]}, clock);  // that member only
  auto other = open_store(others, clock);
  ASSERT_TRUE(lonely && other);
  ASSERT_TRUE(other->create("VM", vm("before")).ok());
  ASSERT_TRUE(eventually([&] { return lonely->get("VM", "before").ok(); }));
  auto watch = lonely->watch("VM", lonely->revision());
  ASSERT_TRUE(watch.ok());

  ASSERT_TRUE(cluster.member(gone).kill());
  std::vector<int64_t> revisions;
  for (int i = 0; i < 5; ++i) {
    auto r = other->create("VM", vm("while-away-" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error().message;
    revisions.push_back((*r)->revision);
  }
  ASSERT_TRUE(other->remove("VM", "before", {}).ok());
  ASSERT_TRUE(other->compact(other->revision()).ok());
  ASSERT_TRUE(eventually([&] { return !lonely->healthy().ok(); })) << "the feed noticed";

  ASSERT_TRUE(cluster.member(gone).restart(&error)) << error;
  ASSERT_TRUE(eventually(
      [&] {
        auto listed = lonely->list("VM", {});
        return listed.ok() && listed->items.size() == 5 && !lonely->get("VM", "before").ok();
      },
      30s));
  EXPECT_TRUE(eventually([&] { return lonely->healthy().ok(); }));
  auto e = (*watch)->next(5s);
  ASSERT_FALSE(e.ok()) << "a watch that missed events must not go on silently";
  EXPECT_EQ(e.error().code, ErrorCode::kGone);
  // And the re-listed store follows new writes.
  ASSERT_TRUE(other->create("VM", vm("after")).ok());
  EXPECT_TRUE(eventually([&] { return lonely->get("VM", "after").ok(); }));
}

// A member frozen with the feed on it keeps the TCP connection open and says
// nothing: past feed_idle_timeout the feed moves to the next member and
// catches up, and the store's reads are fresh again.
TEST(EtcdStoreCluster, AFeedOnAFrozenMemberMovesToTheNextOne) {
  testing::EtcdCluster cluster(3);
  std::string error;
  ASSERT_TRUE(cluster.start(&error)) << error;
  const int frozen = cluster.follower();
  ASSERT_GE(frozen, 0);
  const std::vector<std::string> ordered = cluster.endpoints_from(frozen);
  const std::vector<std::string> others(ordered.begin() + 1, ordered.end());
  FakeClock clock;
  EtcdStoreOptions options;
  options.endpoints = ordered;  // the feed starts on the member about to freeze
  options.prefix = "/t";
  options.feed_idle_timeout = 1s;
  auto reader = open_etcd_store(options, clock);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto writer = open_store(others, clock);
  ASSERT_TRUE(writer);

  ASSERT_TRUE(cluster.member(frozen).pause());
  auto written = writer->create("VM", vm("while-frozen"));
  ASSERT_TRUE(written.ok()) << written.error().message;
  const auto start = Clock_::now();
  EXPECT_TRUE(eventually([&] { return (*reader)->get("VM", "while-frozen").ok(); }, 10s));
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock_::now() - start);
  EXPECT_LT(took, 5s) << "one idle timeout, then the next member";
  ASSERT_TRUE(cluster.member(frozen).resume());
}

// A write whose answer is lost may or may not have been applied. The store
// re-reads the key and either acknowledges what it finds (its own value) or
// sends the compare-guarded write again: each object is written once, and
// none of these writes fails.
TEST(EtcdStoreCluster, WritesWhoseMemberDiesOrFreezesUnderThemAreAcknowledgedOnce) {
  testing::EtcdCluster cluster(3);
  std::string error;
  ASSERT_TRUE(cluster.start(&error)) << error;
  const int follower = cluster.follower();
  ASSERT_GE(follower, 0);
  const std::vector<std::string> ordered = cluster.endpoints_from(follower);
  FakeClock clock;
  EtcdStoreOptions options;
  options.endpoints = ordered;  // every write goes to the follower first
  options.prefix = "/t";
  options.request_timeout = 500ms;
  auto store = open_etcd_store(options, clock);
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->create("VM", vm("warm")).ok());  // connected to the follower
  ASSERT_EQ((*store)->client().current_endpoint(), ordered[0]);

  // Frozen: the create reaches its socket and is never answered; the store
  // reads on another member, finds nothing, and creates it there.
  ASSERT_TRUE(cluster.member(follower).pause());
  auto frozen = (*store)->create("VM", vm("while-frozen"));
  ASSERT_TRUE(frozen.ok()) << frozen.error().message;
  const int64_t created_at = (*frozen)->revision;
  // Woken, the frozen member passes the first copy on: its compare (absent)
  // fails, and the object keeps the one version it has.
  ASSERT_TRUE(cluster.member(follower).resume());
  auto update = (*store)->update_status("VM", [] {
    Json v = vm("warm");
    v["status"] = {{"phase", "Pending"}};
    return v;
  }());
  ASSERT_TRUE(update.ok()) << update.error().message;
  etcd::EtcdClient reader({{ordered[1]}});
  const auto settled = Clock_::now() + 2s;
  while (Clock_::now() < settled) {
    auto read = reader.range({"/t/objects/VM/while-frozen"});
    ASSERT_TRUE(read.ok()) << read.error().message;
    ASSERT_EQ(read->kvs.size(), 1u);
    ASSERT_EQ(read->kvs[0].version, 1) << "written twice";
    ASSERT_EQ(read->kvs[0].mod_revision, created_at);
    std::this_thread::sleep_for(100ms);
  }

  // Killed: the connection breaks under the next write (a second store:
  // the first moved on to the next member after its timeout).
  auto second = open_etcd_store(options, clock);
  ASSERT_TRUE(second.ok()) << second.error().message;
  ASSERT_TRUE((*second)->create("VM", vm("warm-again")).ok());
  ASSERT_EQ((*second)->client().current_endpoint(), ordered[0]);
  ASSERT_TRUE(cluster.member(follower).kill());
  for (int i = 0; i < 5; ++i) {
    auto r = (*second)->create("VM", vm("after-kill-" + std::to_string(i)));
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  ASSERT_TRUE((*second)->remove("VM", "warm", {}).ok());
  auto listed = (*second)->list("VM", {});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->items.size(), 7u);  // while-frozen, warm-again, after-kill-0..4
}

}  // namespace etcd_store_test
}  // namespace corral::store
