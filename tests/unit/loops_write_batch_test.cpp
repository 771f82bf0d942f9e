// The loops' write helper: per-key exponential back-off (retry_backoff.h) and
// the batch that applies it to store writes (write_batch.h). Fixed instants
// and a FakeClock; nothing sleeps.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <vector>

#include "api/json.h"
#include "base/clock.h"
#include "controller/loops/retry_backoff.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/forwarding_store.h"

namespace corral::loops {
namespace loops_write_batch_test {

using namespace std::chrono_literals;
using SteadyTime = RetryBackoff::SteadyTime;

const SteadyTime kT0 = SteadyTime{} + 100s;

TEST(RetryBackoff, DefaultsAreFiveMillisecondsDoublingToThirtySeconds) {
  const RetryBackoff::Options o;
  EXPECT_EQ(o.base_delay, 5ms);
  EXPECT_EQ(o.max_delay, 30s);
}

TEST(RetryBackoff, DoublesFromTheBaseDelayWithEachConsecutiveFailure) {
  RetryBackoff b;
  SteadyTime now = kT0;
  for (auto expected : {5ms, 10ms, 20ms, 40ms, 80ms, 160ms}) {
    const RetryBackoff::Failure f = b.failed("vmset/web", "disk full", now);
    EXPECT_EQ(f.delay, expected);
    EXPECT_EQ(f.due, now + expected);
    now = f.due;
  }
  EXPECT_EQ(b.failures("vmset/web"), 6);
}

TEST(RetryBackoff, CapsAtTheMaxDelay) {
  RetryBackoff b;
  RetryBackoff::Failure f;
  for (int i = 0; i < 13; ++i) f = b.failed("k", "e", kT0);
  EXPECT_EQ(f.delay, 20480ms) << "the 13th failure: 5 ms × 2^12";
  f = b.failed("k", "e", kT0);
  EXPECT_EQ(f.delay, 30s) << "the 14th: 5 ms × 2^13 is past the cap";
  for (int i = 0; i < 100; ++i) f = b.failed("k", "e", kT0);
  EXPECT_EQ(f.delay, 30s);
  EXPECT_EQ(b.delay_for(1000), 30s) << "no overflow however long it fails";

  RetryBackoff small(RetryBackoff::Options{1ms, 4ms});
  EXPECT_EQ(small.delay_for(1), 1ms);
  EXPECT_EQ(small.delay_for(3), 4ms);
  EXPECT_EQ(small.delay_for(4), 4ms);
}

TEST(RetryBackoff, ABackedOffKeyIsNotDueUntilItsWaitIsOver) {
  RetryBackoff b;
  EXPECT_TRUE(b.due("k", kT0)) << "never failed";
  b.failed("k", "e", kT0);
  b.failed("k", "e", kT0);  // 10 ms
  EXPECT_FALSE(b.due("k", kT0 + 9ms));
  EXPECT_TRUE(b.due("k", kT0 + 10ms));
  EXPECT_EQ(b.due_at("k"), kT0 + 10ms);
  EXPECT_EQ(b.next_due(), kT0 + 10ms);
}

TEST(RetryBackoff, ResetsOnSuccess) {
  RetryBackoff b;
  for (int i = 0; i < 5; ++i) b.failed("k", "e", kT0);
  EXPECT_EQ(b.succeeded("k"), 5);
  EXPECT_TRUE(b.due("k", kT0));
  EXPECT_EQ(b.failures("k"), 0);
  EXPECT_FALSE(b.next_due().has_value());
  EXPECT_EQ(b.failed("k", "e", kT0).delay, 5ms) << "starts from the base again";
  EXPECT_EQ(b.succeeded("never-failed"), 0);
}

TEST(RetryBackoff, KeysAreIndependent) {
  RetryBackoff b;
  for (int i = 0; i < 4; ++i) b.failed("a", "e", kT0);  // 40 ms
  EXPECT_EQ(b.failed("b", "e", kT0).delay, 5ms);
  EXPECT_FALSE(b.due("a", kT0 + 5ms));
  EXPECT_TRUE(b.due("b", kT0 + 5ms));
  EXPECT_TRUE(b.due("c", kT0));
  EXPECT_EQ(b.next_due(), kT0 + 5ms);
  b.succeeded("b");
  EXPECT_EQ(b.failures("a"), 4);
  EXPECT_EQ(b.next_due(), kT0 + 40ms);
}

TEST(RetryBackoff, LogsTheFirstFailureAChangedErrorAndEachDoublingOfTheCount) {
  RetryBackoff b;
  std::vector<int> logged;
  for (int i = 1; i <= 20; ++i)
    if (b.failed("k", "disk full", kT0).log) logged.push_back(i);
  EXPECT_EQ(logged, (std::vector<int>{1, 2, 4, 8, 16}));
  EXPECT_TRUE(b.failed("k", "read-only file system", kT0).log) << "a new error is news";
  EXPECT_FALSE(b.failed("k", "read-only file system", kT0).log);
}

TEST(RetryBackoff, RetainForgetsTheOthers) {
  RetryBackoff b;
  b.failed("a", "e", kT0);
  b.failed("b", "e", kT0);
  b.retain([](const std::string& key) { return key == "a"; });
  EXPECT_EQ(b.size(), 1u);
  EXPECT_EQ(b.failures("a"), 1);
}

// A write whose answer the test sets, counting its attempts.
struct Scripted {
  std::atomic<int> attempts{0};
  ErrorCode fail_with = ErrorCode::kUnavailable;
  bool failing = true;

  KeyedWrite write(const std::string& key, WriteOp op = WriteOp::kUpdate) {
    KeyedWrite w;
    w.key = key;
    w.what = "write " + key;
    w.op = op;
    w.write = [this]() -> Result<store::RecordPtr> {
      ++attempts;
      if (failing) return make_error(fail_with, "scripted");
      return store::RecordPtr{};
    };
    return w;
  }
};

class WriteBatchTest : public ::testing::Test {
 protected:
  // One pass of the loop: the same write again, as a level-triggered loop does.
  WriteOutcome pass(Scripted& s, const std::string& key, WriteOp op = WriteOp::kUpdate) {
    std::vector<KeyedWrite> writes{s.write(key, op)};
    batch_.run(writes, WriteBatch::Unlisted::kForget);
    return writes[0].outcome;
  }

  FakeClock clock_;
  WriterPool pool_{2};
  WriteBatch batch_{pool_, clock_, "test"};
};

TEST_F(WriteBatchTest, ABackedOffKeyIsSkippedUntilItIsDue) {
  Scripted s;
  EXPECT_EQ(pass(s, "pool/web status"), WriteOutcome::kFailed);
  EXPECT_EQ(s.attempts, 1);
  EXPECT_EQ(batch_.next_due(), clock_.steady_now() + 5ms);
  EXPECT_EQ(pass(s, "pool/web status"), WriteOutcome::kDeferred) << "same instant: not due";
  EXPECT_EQ(s.attempts, 1);
  clock_.advance(5ms);
  EXPECT_EQ(pass(s, "pool/web status"), WriteOutcome::kFailed);
  EXPECT_EQ(s.attempts, 2);
  clock_.advance(9ms);
  EXPECT_EQ(pass(s, "pool/web status"), WriteOutcome::kDeferred) << "10 ms after the 2nd";
  clock_.advance(1ms);
  EXPECT_EQ(pass(s, "pool/web status"), WriteOutcome::kFailed);
  EXPECT_EQ(s.attempts, 3);
}

TEST_F(WriteBatchTest, AKeyFailingEveryPassIsTriedLogarithmicallyOftenNotEveryPass) {
  Scripted s;
  // A 100 ms loop for a minute: 600 passes.
  for (int i = 0; i < 600; ++i) {
    (void)pass(s, "lb/front status");
    clock_.advance(100ms);
  }
  // 5 ms … 30 s: a try in each of the first passes, then ever fewer, then one per 30 s.
  EXPECT_LE(s.attempts, 16);
  EXPECT_GE(s.attempts, 10);
}

TEST_F(WriteBatchTest, SuccessResetsTheKey) {
  Scripted s;
  for (int i = 0; i < 4; ++i) {
    (void)pass(s, "k");
    clock_.advance(1s);
  }
  EXPECT_EQ(batch_.backoff().failures("k"), 4);
  s.failing = false;
  EXPECT_EQ(pass(s, "k"), WriteOutcome::kWritten);
  EXPECT_EQ(batch_.backoff().failures("k"), 0);
  EXPECT_FALSE(batch_.next_due().has_value());
  s.failing = true;
  (void)pass(s, "k");
  EXPECT_EQ(batch_.due_at("k"), clock_.steady_now() + 5ms) << "from the base delay again";
}

TEST_F(WriteBatchTest, KeysAreIndependent) {
  Scripted bad, good;
  good.failing = false;
  std::vector<KeyedWrite> writes{bad.write("bad"), good.write("good")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kFailed);
  EXPECT_EQ(writes[1].outcome, WriteOutcome::kWritten);
  writes = {bad.write("bad"), good.write("good")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kDeferred);
  EXPECT_EQ(writes[1].outcome, WriteOutcome::kWritten) << "not held back by the other key";
  EXPECT_EQ(good.attempts, 2);
}

TEST_F(WriteBatchTest, OneFailedWriteBacksOffEveryWriteOfItsKey) {
  Scripted bad, good;
  good.failing = false;
  std::vector<KeyedWrite> writes{good.write("vmset/web"), bad.write("vmset/web")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kWritten);
  EXPECT_EQ(writes[1].outcome, WriteOutcome::kFailed);
  writes = {good.write("vmset/web"), bad.write("vmset/web")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kDeferred);
  EXPECT_EQ(writes[1].outcome, WriteOutcome::kDeferred);
}

TEST_F(WriteBatchTest, AConflictIsRetriedNextPassWithoutBackingOff) {
  Scripted s;
  s.fail_with = ErrorCode::kConflict;
  EXPECT_EQ(pass(s, "k"), WriteOutcome::kRetry);
  EXPECT_EQ(pass(s, "k"), WriteOutcome::kRetry) << "no wait, same instant";
  EXPECT_EQ(s.attempts, 2);
  EXPECT_EQ(batch_.backoff().failures("k"), 0);
}

TEST_F(WriteBatchTest, AlreadyExistsIsARetryOnlyForACreate) {
  Scripted s;
  s.fail_with = ErrorCode::kAlreadyExists;
  EXPECT_EQ(pass(s, "create", WriteOp::kCreate), WriteOutcome::kRetry);
  EXPECT_EQ(pass(s, "update", WriteOp::kUpdate), WriteOutcome::kFailed);
}

TEST_F(WriteBatchTest, NotFoundOnADeleteIsDoneAndResetsTheKey) {
  Scripted s;
  (void)pass(s, "k", WriteOp::kDelete);  // Unavailable: backs off
  clock_.advance(1s);
  s.fail_with = ErrorCode::kNotFound;
  EXPECT_EQ(pass(s, "k", WriteOp::kDelete), WriteOutcome::kGone);
  EXPECT_EQ(batch_.backoff().failures("k"), 0);
  EXPECT_EQ(pass(s, "u", WriteOp::kUpdate), WriteOutcome::kFailed) << "an update's NotFound is not";
  std::vector<KeyedWrite> writes{s.write("v")};
  writes[0].not_found_is_done = true;
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kGone);
}

TEST_F(WriteBatchTest, OnlyTheWritesThatLandedHaveTheirEventsRecorded) {
  Scripted s;
  auto with_event = [](KeyedWrite w, const std::string& reason) {
    w.event = events::EventWrite{{"VMSet", "web", "u1"}, "Normal", reason, "m", ""};
    return w;
  };
  std::vector<KeyedWrite> writes{with_event(s.write("k"), "Failed")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  EXPECT_TRUE(landed_events(writes).empty()) << "the write failed";
  s.failing = false;
  clock_.advance(5ms);
  writes = {with_event(s.write("k"), "First"), s.write("k"), with_event(s.write("k"), "Third")};
  batch_.run(writes, WriteBatch::Unlisted::kForget);
  auto landed = landed_events(writes);
  ASSERT_EQ(landed.size(), 2u);
  EXPECT_EQ(landed[0].reason, "First");
  EXPECT_EQ(landed[1].reason, "Third");
  EXPECT_TRUE(landed_events(writes).empty()) << "handed over once";
}

TEST_F(WriteBatchTest, UnlistedKeysAreForgottenOrKeptAsThePassSays) {
  Scripted s;
  (void)pass(s, "a");
  std::vector<KeyedWrite> none;
  batch_.run(none, WriteBatch::Unlisted::kKeep);
  EXPECT_EQ(batch_.backoff().failures("a"), 1) << "the pass did not look at a";
  batch_.run(none, WriteBatch::Unlisted::kForget);
  EXPECT_EQ(batch_.backoff().failures("a"), 0) << "a needs no write any more";
  (void)pass(s, "b");
  batch_.forget("b");
  EXPECT_TRUE(batch_.backoff().due("b", clock_.steady_now()));
}

// Counts write_batch calls; an entry named "taken" is refused as a name
// already in use, the others are written.
class BatchCountingStore final : public store::ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::vector<Result<store::RecordPtr>> write_batch(std::vector<store::BatchWrite> writes) override {
    sizes.push_back(writes.size());
    std::vector<Result<store::RecordPtr>> out;
    for (store::BatchWrite& w : writes) {
      if (w.object["metadata"]["name"] == "taken") {
        out.emplace_back(make_error(ErrorCode::kAlreadyExists, "vms \"taken\" already exists"));
      } else {
        out.push_back(ForwardingStore::write_batch({std::move(w)})[0]);
      }
    }
    return out;
  }
  std::vector<size_t> sizes;
};

TEST(WriteBatchEntries, GoToTheStoreStoreBatchToACallEachWithItsOwnOutcome) {
  FakeClock clock;
  auto inner = store::open_memory_store(clock);
  BatchCountingStore store(*inner);
  WriterPool pool{0};
  WriteBatchOptions options;
  options.store_batch = 2;
  WriteBatch batch(pool, clock, "test", options);
  std::vector<KeyedWrite> writes;
  for (const char* name : {"a", "taken", "b", "c", "bad"}) {
    KeyedWrite& w = writes.emplace_back();
    w.key = "vmset/web";
    w.what = std::string("create vm/") + name;
    w.op = WriteOp::kCreate;
    const std::string n = name;
    w.batch_entry = [n]() -> Result<store::BatchWrite> {
      if (n == "bad") return make_error(ErrorCode::kInvalid, "spec.resources.cpu: must be positive");
      Json vm = {{"apiVersion", "corral/v1"}, {"kind", "VM"}, {"metadata", {{"name", n}}}, {"spec", Json::object()}};
      return store::BatchWrite{store::BatchWrite::Part::kCreate, "VM", std::move(vm)};
    };
  }
  batch.run(writes, WriteBatch::Unlisted::kForget, &store);
  EXPECT_EQ(store.sizes, (std::vector<size_t>{2, 2})) << "a + taken, b + c; bad never reached the store";
  EXPECT_EQ(writes[0].outcome, WriteOutcome::kWritten);
  ASSERT_TRUE(writes[0].record);
  EXPECT_EQ(writes[0].record->name, "a");
  EXPECT_EQ(writes[1].outcome, WriteOutcome::kRetry) << "AlreadyExists: a new name next pass";
  EXPECT_EQ(writes[2].outcome, WriteOutcome::kWritten);
  EXPECT_EQ(writes[3].outcome, WriteOutcome::kWritten);
  EXPECT_EQ(writes[4].outcome, WriteOutcome::kFailed);
  EXPECT_TRUE(inner->get("VM", "c").ok());

  // Without a store to send them to, batch entries fail (a bug), none is dropped silently.
  std::vector<KeyedWrite> orphan{writes[0]};
  orphan[0].key = "vmset/other";  // vmset/web is backed off after `bad`
  batch.run(orphan, WriteBatch::Unlisted::kKeep);
  EXPECT_EQ(orphan[0].outcome, WriteOutcome::kFailed);
  ASSERT_TRUE(orphan[0].error);
  EXPECT_NE(orphan[0].error->message.find("without a store"), std::string::npos);
}

}  // namespace loops_write_batch_test
}  // namespace corral::loops
