// WriteBatch: runs a loop's writes of one pass concurrently on the WriterPool
// and backs off, per key, the ones that keep failing (retry_backoff.h) — the
// one way the VMSet, moves, endpoints and pool status loops write. (Not
// Store::write_batch, which commits many writes in one call: the scheduler's.)
//
//   loop builds KeyedWrites (key = the object reconciled, stable across passes)
//     ─► run(): a key backing off → kDeferred, not attempted
//               the rest concurrently
//     ─► landed_events(): the Events of the writes that landed, for the loop
//          to record with record_events() (a few store commits)
//     ─► per write: kWritten | kGone | kRetry | kFailed | kDeferred; per key:
//          every write of the key landed (or was moot) → its back-off is forgotten
//          one failed → the key waits (5 ms doubling to 30 s by default) and
//                       the failure is logged when RetryBackoff says so
//          Unlisted::kForget: keys the pass did not list any more (nothing to
//                       write: the object is fine now, or gone) are forgotten
//
// What is not a failure (no back-off, no warning, no error count):
//   - Conflict (409): someone wrote the object meanwhile; the loop recomputes
//     from the fresh copy and writes in a later pass (kRetry);
//   - AlreadyExists on a create: the generated name was taken; the next pass
//     draws another (kRetry);
//   - NotFound on a delete (or where `not_found_is_done`): the object is gone,
//     which is what was wanted (kGone).
// Every other error is a failure (kFailed): the loop counts it and comes back
// for the key when it is due (next_due()).
//
// Thread safety: run() and the rest from the owner thread only; each write's
// `write` runs on a writer thread, concurrently with the other writes of the
// batch.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/retry_backoff.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/batch_write.h"
#include "controller/store/store.h"

namespace corral::loops {

enum class WriteOp { kCreate, kUpdate, kDelete };

enum class WriteOutcome {
  kWritten,   // the store took it
  kGone,      // NotFound on a delete (or where not_found_is_done): moot, not an error
  kRetry,     // Conflict, or AlreadyExists on a create: not an error, look again
  kFailed,    // any other error: counted, logged per RetryBackoff, the key waits
  kDeferred,  // not attempted: its key is backing off
};

struct KeyedWrite {
  // The back-off key: what the write is about, stable across passes
  // ("pool/web status", "vmset/web"; not a generated name). Several writes may
  // share one: the key fails when any of them does.
  std::string key;
  std::string what;  // for the log: "vmset/web: create vm/web-x7k2p"
  WriteOp op = WriteOp::kUpdate;
  // NotFound means the write is moot (the object is gone); always so for kDelete.
  bool not_found_is_done = false;
  std::function<Result<store::RecordPtr>()> write;  // on a writer thread
  // Instead of `write`: builds one entry of a store write_batch (on a writer
  // thread). WriteBatch::run sends the due ones WriteBatchOptions::store_batch
  // to a call, one commit each: a pass creating 10,000 VMs commits 20 times,
  // not 10,000.
  std::function<Result<store::BatchWrite>()> batch_entry;
  // What to say once it landed (kWritten): landed_events() hands it over.
  std::optional<events::EventWrite> event;

  // Set by WriteBatch::run.
  WriteOutcome outcome = WriteOutcome::kDeferred;
  store::RecordPtr record;     // kWritten: what the store answered (may be null)
  std::optional<Error> error;  // kGone, kRetry, kFailed
};

struct WriteBatchOptions {
  RetryBackoff::Options backoff;  // 5 ms doubling to 30 s (retry_backoff.h says why)
  // Entries per store write_batch call (KeyedWrite::batch_entry): 500, one
  // commit each. On etcd a batch is one transaction per entry, in order, so
  // the controller sets 1 there: each write its own call, spread over the
  // writer threads.
  size_t store_batch = 500;
};

// The `event` of every write that landed (kWritten), moved out, in order.
std::vector<events::EventWrite> landed_events(std::vector<KeyedWrite>& writes);

// Records `events` (EventRecorder::record_all) EventRecorder::create_chunk() to
// a store commit, the chunks concurrently on `writers`: a pass's Events cost a
// few overlapping commits, not one commit each in a row. An asynchronous
// recorder only queues them (its own writers commit).
void record_events(events::EventRecorder& recorder, WriterPool& writers,
                   std::vector<events::EventWrite> events);

class WriteBatch {
 public:
  // Whether keys the pass did not list keep their back-off.
  enum class Unlisted {
    kForget,  // the pass listed every write the loop wants now: others are moot
    kKeep,    // the pass looked at some objects only (forget() the others' keys)
  };

  // `log_name`: the logger failures go to ("vmset", "moves", "loops").
  WriteBatch(WriterPool& writers, const Clock& clock, std::string log_name,
             WriteBatchOptions options = {});

  // Runs `writes` (in order, concurrently) whose key is due at the clock's
  // steady now, waits for all, and sets each one's outcome. `store` takes the
  // writes that are batch entries (REQUIRES: set when any write is one).
  void run(std::vector<KeyedWrite>& writes, Unlisted unlisted, store::Store* store = nullptr);

  // Forgets `key`'s back-off: its object needs no write any more.
  void forget(const std::string& key) { backoff_.succeeded(key); }
  // When the earliest backed-off key is due; nullopt when none is waiting.
  std::optional<RetryBackoff::SteadyTime> next_due() const { return backoff_.next_due(); }
  std::optional<RetryBackoff::SteadyTime> due_at(const std::string& key) const {
    return backoff_.due_at(key);
  }
  const RetryBackoff& backoff() const { return backoff_; }
  WriterPool& writers() { return writers_; }

 private:
  // The outcome of one attempted write from the store's answer.
  static void classify(KeyedWrite& w, Result<store::RecordPtr> result);
  // Per key: forget on success, back off (and maybe log) on failure.
  void settle(const std::vector<KeyedWrite>& writes, Unlisted unlisted);

  WriterPool& writers_;
  const Clock& clock_;
  const std::string log_name_;
  const size_t store_batch_;
  RetryBackoff backoff_;
};

}  // namespace corral::loops
