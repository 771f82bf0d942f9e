// What only the SQLite backend has: durability across reopen and kill -9,
// commit failures (fatal: the store takes no write after one), unreadable
// files. Plus its throughput and scale numbers.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "api/json.h"
#include "controller/store/batch_write.h"
#include "base/clock.h"
#include "controller/store/cached_store.h"
#include "controller/store/fatal_commit.h"
#include "controller/store/record_builder.h"
#include "controller/store/sqlite_persistence.h"
#include "controller/store/store.h"
#include "tests/support/temp_dir.h"

namespace corral::store {
namespace store_sqlite_test {

using namespace std::chrono_literals;

Json vm(const std::string& name, Json spec = Json::object()) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "VM"},
          {"metadata", {{"name", name}, {"labels", {{"app", "web"}}}}},
          {"spec", std::move(spec)}};
}

std::unique_ptr<Store> open_or_die(const std::string& path, const Clock& clock,
                                   StoreOptions options = {}) {
  auto s = open_sqlite_store(path, clock, options);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.ok() ? std::move(s).value() : nullptr;
}

// Wraps the real persistence and fails commits on demand, as leveldb's
// EnvWrapper injects faults: before anything is written (a full disk), or
// after the batch went through (the write reached the log, the sync failed),
// which is the case that makes a rolled-back revision repeat after a restart.
class FaultyPersistence final : public Persistence {
 public:
  enum class Fault { kNone, kBeforeWrite, kAfterWrite };
  FaultyPersistence(std::unique_ptr<Persistence> inner, std::atomic<Fault>& fault,
                    std::atomic<int>& commits)
      : inner_(std::move(inner)), fault_(fault), commits_(commits) {}
  Result<Loaded> load() override { return inner_->load(); }
  Result<void> commit(const Batch& batch) override {
    ++commits_;
    Fault fault = fault_;
    if (fault == Fault::kBeforeWrite)
      return make_error(ErrorCode::kUnavailable,
                        "sqlite store test.db: write: database or disk is full");
    auto ok = inner_->commit(batch);
    if (ok && fault == Fault::kAfterWrite)
      return make_error(ErrorCode::kUnavailable, "sqlite store test.db: commit: disk I/O error");
    return ok;
  }

 private:
  std::unique_ptr<Persistence> inner_;
  std::atomic<Fault>& fault_;
  std::atomic<int>& commits_;
};
using Fault = FaultyPersistence::Fault;

// What a test's StoreOptions::on_commit_failure saw, instead of exiting.
struct RecordedFailures {
  std::mutex mu;
  std::vector<CommitFailure> calls;  // guarded by mu

  std::function<void(const CommitFailure&)> handler() {
    return [this](const CommitFailure& f) {
      std::lock_guard lock(mu);
      calls.push_back(f);
    };
  }
  std::vector<CommitFailure> seen() {
    std::lock_guard lock(mu);
    return calls;
  }
};

std::unique_ptr<Store> open_faulty(const std::string& path, const Clock& clock,
                                   std::atomic<Fault>& fault, std::atomic<int>& commits,
                                   StoreOptions options = {}) {
  auto inner = SqlitePersistence::open(path);
  EXPECT_TRUE(inner.ok()) << inner.error().message;
  if (!inner.ok()) return nullptr;
  auto opened = open_cached_store(
      std::make_unique<FaultyPersistence>(std::move(inner).value(), fault, commits), clock,
      std::move(options));
  EXPECT_TRUE(opened.ok()) << opened.error().message;
  return opened.ok() ? std::move(opened).value() : nullptr;
}

TEST(SqliteStore, ReopenKeepsObjectsAndRevisionContinues) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  int64_t last = 0;
  std::string uid;
  {
    auto store = open_or_die(path, clock);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->create("VM", vm("a", {{"nodeName", "n1"}})).ok());
    auto b = store->create("VM", vm("b"));
    ASSERT_TRUE(b.ok());
    uid = (*b)->uid;
    ASSERT_TRUE(store
                    ->create("Node", {{"apiVersion", "corral/v1"},
                                      {"kind", "Node"},
                                      {"metadata", {{"name", "n1"}}}})
                    .ok());
    ASSERT_TRUE(store->remove("VM", "a").ok());
    last = store->revision();
  }
  auto store = open_or_die(path, clock);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->revision(), last);
  EXPECT_EQ(store->get("VM", "a").error().code, ErrorCode::kNotFound);
  auto b = store->get("VM", "b");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)->uid, uid);
  EXPECT_EQ((*b)->labels, (Labels{{"app", "web"}}));
  EXPECT_TRUE(store->get("Node", "n1").ok());
  // Selectable fields are rebuilt at load.
  ListOptions opts;
  opts.labels = *Selector::parse("app=web");
  EXPECT_EQ(store->list("VM", opts)->items.size(), 1u);
  auto c = store->create("VM", vm("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->revision, last + 1);
}

TEST(SqliteStore, HistoryStartsEmptyAfterReopen) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  int64_t last = 0;
  {
    auto store = open_or_die(path, clock);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(store->create("VM", vm("vm-" + std::to_string(i))).ok());
    last = store->revision();
  }
  auto store = open_or_die(path, clock);
  auto old = store->watch("VM", last - 1);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kGone);
  EXPECT_EQ(old.error().message, "too old resource version: " + std::to_string(last - 1) + " (" +
                                     std::to_string(last) + ")");
  // From the current revision there is nothing to miss.
  auto w = store->watch("VM", last);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(store->create("VM", vm("new")).ok());
  auto e = (*w)->next(2000ms);
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((**e).object->name, "new");
}

TEST(SqliteStore, FailedCommitIsFatalAndNothingIsAcknowledgedAfterIt) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  std::atomic<Fault> fault{Fault::kNone};
  std::atomic<int> commits{0};
  RecordedFailures failures;
  int64_t rev = 0;
  {
    StoreOptions options;
    options.on_commit_failure = failures.handler();
    auto store = open_faulty(path, clock, fault, commits, options);
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->create("VM", vm("before")).ok());
    rev = store->revision();
    auto w = store->watch("VM", rev);
    ASSERT_TRUE(w.ok());
    EXPECT_TRUE(failures.seen().empty());

    fault = Fault::kBeforeWrite;
    auto lost = store->create("VM", vm("lost"));
    ASSERT_FALSE(lost.ok());
    EXPECT_EQ(lost.error().code, ErrorCode::kUnavailable);
    EXPECT_NE(lost.error().message.find("disk is full"), std::string::npos) << lost.error().message;
    // The handler heard of it once, with the failed revision and the cause.
    auto seen = failures.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].revision, rev + 1);
    EXPECT_NE(seen[0].error.message.find("test.db"), std::string::npos);
    EXPECT_NE(seen[0].error.message.find("disk is full"), std::string::npos);
    // Reads keep answering from what was published; nothing of the failed write.
    EXPECT_EQ(store->get("VM", "lost").error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(store->get("VM", "before").ok());
    EXPECT_EQ(store->list("VM", {})->items.size(), 1u);
    EXPECT_EQ(store->revision(), rev);
    auto health = store->healthy();
    ASSERT_FALSE(health.ok());
    EXPECT_EQ(health.error().code, ErrorCode::kUnavailable);

    // The fault clears, but the store takes no write any more: not a create,
    // an update, a batch or a delete. None reaches the persistence.
    fault = Fault::kNone;
    const int commits_at_failure = commits;
    auto again = store->create("VM", vm("lost"));
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kUnavailable);
    Json bound = (*store->get("VM", "before"))->parse();
    bound["spec"]["nodeName"] = "host-1";
    EXPECT_EQ(store->update("VM", bound).error().code, ErrorCode::kUnavailable);
    auto batch = store->write_batch({{BatchWrite::Part::kSpecAndStatus, "VM", bound},
                                     {BatchWrite::Part::kStatus, "VM", vm("absent")}});
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(batch[1].error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(store->remove("VM", "before").error().code, ErrorCode::kUnavailable);
    EXPECT_EQ(commits.load(), commits_at_failure);
    EXPECT_FALSE((*store->get("VM", "before"))->parse()["spec"].contains("nodeName"));
    EXPECT_EQ(store->revision(), rev);
    EXPECT_FALSE(store->healthy().ok());
    EXPECT_EQ(failures.seen().size(), 1u);  // once, not per rejected write
    auto none = (*w)->next(20ms);
    ASSERT_TRUE(none.ok());
    EXPECT_FALSE(none->has_value());
  }
  // The restart recovers what is on disk.
  auto reopened = open_or_die(path, clock);
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->revision(), rev);
  EXPECT_EQ(reopened->list("VM", {})->items.size(), 1u);
  EXPECT_TRUE(reopened->healthy().ok());
}

// The commit's sync fails after its write reached the log: a restart finds
// the batch. The store must not have handed out its revision again.
TEST(SqliteStore, RevisionOfACommitThatFailedAfterWritingIsNeverReused) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  std::atomic<Fault> fault{Fault::kNone};
  std::atomic<int> commits{0};
  int64_t acked = 0;
  {
    // No handler: the store only logs, and stays failed.
    auto store = open_faulty(path, clock, fault, commits);
    ASSERT_TRUE(store);
    auto a = store->create("VM", vm("a"));
    ASSERT_TRUE(a.ok());
    acked = (*a)->revision;
    fault = Fault::kAfterWrite;
    EXPECT_EQ(store->create("VM", vm("maybe")).error().code, ErrorCode::kUnavailable);
    fault = Fault::kNone;
    // Rolled back, this would be acknowledged with revision acked + 1, the
    // revision "maybe" has on disk.
    auto next = store->create("VM", vm("next"));
    ASSERT_FALSE(next.ok()) << "acknowledged at revision " << (*next)->revision;
    EXPECT_EQ(next.error().code, ErrorCode::kUnavailable);
  }
  auto reopened = open_or_die(path, clock);
  ASSERT_TRUE(reopened);
  // The unacknowledged write may be there (it is: it reached the log).
  EXPECT_EQ(reopened->revision(), acked + 1);
  EXPECT_TRUE(reopened->get("VM", "maybe").ok());
  EXPECT_EQ(reopened->get("VM", "next").error().code, ErrorCode::kNotFound);
  // A watcher resuming from the last acknowledged revision misses nothing:
  // the history before the restart is gone, so it is told to re-list.
  auto w = reopened->watch("VM", acked);
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code, ErrorCode::kGone);
  auto c = reopened->create("VM", vm("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->revision, acked + 2);
}

// Writers queued while the failing batch was being committed fail with it
// (they were checked against state that included it), whenever they came.
TEST(SqliteStore, WritesBehindAFailedCommitFailToo) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  std::atomic<Fault> fault{Fault::kBeforeWrite};
  std::atomic<int> commits{0};
  RecordedFailures failures;
  StoreOptions options;
  options.on_commit_failure = failures.handler();
  auto store = open_faulty(path, clock, fault, commits, options);
  ASSERT_TRUE(store);
  constexpr int kWriters = 8;
  std::vector<std::thread> writers;
  std::atomic<int> acknowledged{0};
  std::atomic<int> unavailable{0};
  for (int i = 0; i < kWriters; ++i) {
    writers.emplace_back([&, i] {
      auto r = store->create("VM", vm("w-" + std::to_string(i)));
      if (r.ok()) ++acknowledged;
      if (!r.ok() && r.error().code == ErrorCode::kUnavailable) ++unavailable;
    });
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(acknowledged.load(), 0);
  EXPECT_EQ(unavailable.load(), kWriters);
  EXPECT_EQ(commits.load(), 1);  // the first failure ended all committing
  EXPECT_EQ(failures.seen().size(), 1u);
  EXPECT_EQ(store->revision(), 0);
}

TEST(SqliteStore, ExitOnCommitFailureLogsTheFileAndTheCauseAndExits74) {
  auto handler = exit_on_commit_failure("/var/lib/corral/corral.db");
  CommitFailure failure{812, make_error(ErrorCode::kUnavailable,
                                        "sqlite store /var/lib/corral/corral.db: commit: "
                                        "database or disk is full (No space left on device)")};
  EXPECT_EXIT(handler(failure), ::testing::ExitedWithCode(kExitCommitFailed),
              "store: commit of revision 812 to /var/lib/corral/corral.db failed: .*database or "
              "disk is full \\(No space left on device\\); exiting with code 74 so that a "
              "restart recovers what is on disk");
  EXPECT_EQ(kExitCommitFailed, 74);
}

TEST(SqliteStore, NonDatabaseFileIsUnavailableNamingThePath) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("garbage.db");
  {
    std::ofstream out(path);
    for (int i = 0; i < 200; ++i) out << "this is not an SQLite database, just text\n";
  }
  auto s = open_sqlite_store(path, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
}

TEST(SqliteStore, UnopenablePathIsUnavailableNamingThePath) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("no/such/dir/corral.db");
  auto s = open_sqlite_store(path, clock);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(s.error().message.find(path), std::string::npos) << s.error().message;
}

TEST(SqliteStore, SecondStoreOnTheSameFileIsRefused) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  auto first = open_or_die(path, clock);
  ASSERT_TRUE(first);
  auto second = open_sqlite_store(path, clock);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(second.error().message.find(path), std::string::npos) << second.error().message;
  // The first one is unaffected.
  EXPECT_TRUE(first->create("VM", vm("a")).ok());
}

TEST(SqliteStore, AcknowledgedWritesSurviveKill9) {
  testing::TempDir dir;
  FakeClock clock;
  std::string path = dir.file("corral.db");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child writes as fast as it can and reports each acknowledgement.
    close(fds[0]);
    auto s = open_sqlite_store(path, clock);
    if (!s.ok()) _exit(2);
    for (int i = 0;; ++i) {
      if (!(*s)->create("VM", vm("vm-" + std::to_string(i))).ok()) _exit(3);
      char c = 'k';
      if (write(fds[1], &c, 1) != 1) _exit(4);
    }
  }
  close(fds[1]);
  int acked = 0;
  char buf[64];
  while (acked < 300) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    acked += static_cast<int>(n);
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  close(fds[0]);
  ASSERT_GE(acked, 300) << "child exited early, status " << status;

  auto store = open_or_die(path, clock);
  ASSERT_TRUE(store);
  for (int i = 0; i < acked; ++i) {
    EXPECT_TRUE(store->get("VM", "vm-" + std::to_string(i)).ok()) << "lost acknowledged vm-" << i;
  }
  EXPECT_GE(store->revision(), acked);
}

// Numbers, not pass/fail thresholds (the machine varies): printed and
// recorded as test properties.
TEST(SqliteStore, GroupCommitThroughput) {
  testing::TempDir dir;
  RealClock clock;
  auto store = open_or_die(dir.file("corral.db"), clock);
  constexpr int kThreads = 32;
  constexpr int kPerThread = 200;
  std::atomic<int> failures{0};
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Json spec = {{"nodeName", "node-" + std::to_string(i % 50)},
                     {"resources", {{"cpu", "2"}, {"memory", "4Gi"}}},
                     {"runtime", {{"driver", "process"}, {"command", {"/bin/sleep", "1000"}}}}};
        if (!store->create("VM", vm("vm-" + std::to_string(t) + "-" + std::to_string(i), spec))
                 .ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(failures.load(), 0);
  double rate = kThreads * kPerThread / secs;
  std::cout << "acknowledged creates/s (" << kThreads
            << " clients, synchronous=FULL): " << static_cast<int>(rate) << "\n";
  RecordProperty("creates_per_second", static_cast<int>(rate));
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Slow (≈ a minute); run with --gtest_also_run_disabled_tests.
TEST(SqliteStore, DISABLED_Scale100kVmsAnd5kNodes) {
  testing::TempDir dir;
  RealClock clock;
  std::string path = dir.file("corral.db");
  long rss_before = rss_kib();
  {
    auto store = open_or_die(path, clock);
    std::vector<std::thread> threads;
    for (int t = 0; t < 32; ++t) {
      threads.emplace_back([&, t] {
        for (int i = t; i < 5000; i += 32) {
          Json node = {
              {"apiVersion", "corral/v1"},
              {"kind", "Node"},
              {"metadata",
               {{"name", "node-" + std::to_string(i)},
                {"labels", {{"zone", "z" + std::to_string(i % 3)}}}}},
              {"spec", Json::object()},
              {"status", {{"capacity", {{"cpu", "64"}, {"memory", "256Gi"}}}, {"phase", "Ready"}}}};
          ASSERT_TRUE(store->create("Node", node).ok());
        }
        for (int i = t; i < 100000; i += 32) {
          Json spec = {{"nodeName", "node-" + std::to_string(i % 5000)},
                       {"resources", {{"cpu", "2"}, {"memory", "4Gi"}}},
                       {"runtime", {{"driver", "process"}, {"command", {"/bin/sleep", "1000"}}}}};
          ASSERT_TRUE(store->create("VM", vm("vm-" + std::to_string(i), spec)).ok());
        }
      });
    }
    for (auto& t : threads) t.join();
    std::cout << "RSS after 105k creates: " << (rss_kib() - rss_before) / 1024 << " MiB\n";
    ListOptions opts;
    opts.fields = *parse_field_selector("spec.nodeName=node-7");
    auto start = std::chrono::steady_clock::now();
    auto list = store->list("VM", opts);
    auto ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    EXPECT_EQ(list->items.size(), 20u);
    std::cout << "list of 100k VMs by spec.nodeName: " << ms << " ms\n";
    start = std::chrono::steady_clock::now();
    auto all = store->list("VM", {});
    ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::cout << "list of all 100k VMs: " << ms << " ms\n";
  }
  long rss_mid = rss_kib();
  auto start = std::chrono::steady_clock::now();
  auto store = open_or_die(path, clock);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "reopen (load 105k): " << secs << " s, RSS " << (rss_kib() - rss_mid) / 1024
            << " MiB\n";
  EXPECT_EQ(store->list("VM", {})->items.size(), 100000u);
}

}  // namespace store_sqlite_test
}  // namespace corral::store

namespace corral::store {
namespace store_sqlite_test {

// 2,000 objects of 4 KB written, then deleted, then a trickle of small
// commits: the freed pages go back to the file system instead of staying in
// the file.
void churn_and_expect_compact(SqlitePersistence& p) {
  Batch batch;
  int64_t revision = 0;
  auto commit = [&] {
    batch.revision = ++revision;
    ASSERT_TRUE(p.commit(batch).ok());
    batch.mutations.clear();
  };
  auto record = [&](const std::string& name, size_t bytes) {
    return build_record("VM", vm(name, {{"note", std::string(bytes, 'x')}}), revision + 1);
  };
  for (int b = 0; b < 20; ++b) {
    for (int i = 0; i < 100; ++i) batch.mutations.push_back({record("big-" + std::to_string(b * 100 + i), 4'000)});
    commit();
  }
  auto full = p.file_stats();
  ASSERT_TRUE(full.ok()) << full.error().message;
  EXPECT_GT(full->bytes, 8'000'000);
  for (int b = 0; b < 20; ++b) {
    for (int i = 0; i < 100; ++i)
      batch.mutations.push_back({record("big-" + std::to_string(b * 100 + i), 0), true});
    commit();
  }
  auto emptied = p.file_stats();
  ASSERT_TRUE(emptied.ok());
  EXPECT_GT(emptied->free_bytes, emptied->bytes / 2) << "deletes free pages; nothing reclaimed yet";
  for (int i = 0; i < SqlitePersistence::kReclaimEvery; ++i) {
    batch.mutations.push_back({record("small-" + std::to_string(i % 10), 10)});
    commit();
  }
  auto after = p.file_stats();
  ASSERT_TRUE(after.ok());
  EXPECT_LT(after->bytes, full->bytes / 4) << "the free pages went back to the file system";
  EXPECT_LT(after->free_bytes, after->bytes / 4);
}

TEST(SqliteStore, DeletedObjectsDoNotKeepTheFileLarge) {
  testing::TempDir dir;
  auto p = SqlitePersistence::open(dir.file("c.db"));
  ASSERT_TRUE(p.ok()) << p.error().message;
  churn_and_expect_compact(**p);
}

TEST(SqliteStore, AFileMadeBeforeIncrementalVacuumIsConvertedAtOpen) {
  testing::TempDir dir;
  const std::string path = dir.file("old.db");
  {  // The schema as earlier versions made it, without auto-vacuum, and one object.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "PRAGMA journal_mode=WAL;"
                           "CREATE TABLE objects(kind TEXT NOT NULL, name TEXT NOT NULL, revision INTEGER NOT NULL, "
                           "json TEXT NOT NULL, PRIMARY KEY(kind, name)) WITHOUT ROWID;"
                           "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
                           "INSERT INTO meta(key, value) VALUES('revision', 7);"
                           "INSERT INTO objects VALUES('VM', 'kept', 7, '{\"kind\":\"VM\"}');",
                           nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }
  auto p = SqlitePersistence::open(path);
  ASSERT_TRUE(p.ok()) << p.error().message;
  auto loaded = (*p)->load();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->revision, 7);
  ASSERT_EQ(loaded->objects.size(), 1u);  // nothing lost by the conversion
  churn_and_expect_compact(**p);
}

}  // namespace store_sqlite_test
}  // namespace corral::store
