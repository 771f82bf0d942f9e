#include "controller/loops/write_batch.h"

#include <algorithm>
#include <iterator>
#include <map>

#include "base/log.h"

namespace corral::loops {

WriteBatch::WriteBatch(WriterPool& writers, const Clock& clock, std::string log_name,
                       WriteBatchOptions options)
    : writers_(writers),
      clock_(clock),
      log_name_(std::move(log_name)),
      store_batch_(std::max<size_t>(1, options.store_batch)),
      backoff_(options.backoff) {}

void WriteBatch::classify(KeyedWrite& w, Result<store::RecordPtr> result) {
  if (result) {
    w.outcome = WriteOutcome::kWritten;
    w.record = std::move(*result);
    return;
  }
  const ErrorCode code = result.error().code;
  w.error = result.take_error();
  if (code == ErrorCode::kNotFound && (w.op == WriteOp::kDelete || w.not_found_is_done)) {
    w.outcome = WriteOutcome::kGone;  // what a delete wanted, or moot
    return;
  }
  const bool retry = code == ErrorCode::kConflict ||
                     (code == ErrorCode::kAlreadyExists && w.op == WriteOp::kCreate);
  w.outcome = retry ? WriteOutcome::kRetry : WriteOutcome::kFailed;
}

std::vector<events::EventWrite> landed_events(std::vector<KeyedWrite>& writes) {
  std::vector<events::EventWrite> out;
  for (KeyedWrite& w : writes) {
    if (w.outcome == WriteOutcome::kWritten && w.event) out.push_back(std::move(*w.event));
    w.event.reset();
  }
  return out;
}

void record_events(events::EventRecorder& recorder, WriterPool& writers,
                   std::vector<events::EventWrite> events) {
  const size_t chunk = std::max<size_t>(1, recorder.create_chunk());
  if (recorder.async() || events.size() <= chunk) {
    if (!events.empty()) recorder.record_all(std::move(events));
    return;
  }
  std::vector<std::vector<events::EventWrite>> chunks;
  for (size_t i = 0; i < events.size(); i += chunk) {
    const auto first = events.begin() + static_cast<std::ptrdiff_t>(i);
    const auto last = events.begin() + static_cast<std::ptrdiff_t>(std::min(events.size(), i + chunk));
    chunks.emplace_back(std::make_move_iterator(first), std::make_move_iterator(last));
  }
  std::vector<std::function<void()>> tasks;
  for (auto& c : chunks) tasks.push_back([&recorder, &c] { recorder.record_all(std::move(c)); });
  writers.run_all(std::move(tasks));
}

void WriteBatch::run(std::vector<KeyedWrite>& writes, Unlisted unlisted, store::Store* store) {
  const auto now = clock_.steady_now();
  std::vector<std::function<void()>> tasks;
  std::vector<KeyedWrite*> batched;  // due batch entries, in order
  for (KeyedWrite& w : writes) {
    w.outcome = WriteOutcome::kDeferred;
    w.record = nullptr;
    w.error.reset();
    if (!backoff_.due(w.key, now)) continue;
    if (w.batch_entry) {
      if (store) {
        batched.push_back(&w);
      } else {
        classify(w, make_error(ErrorCode::kInternal, "BUG: a batch entry without a store to send it to"));
      }
      continue;
    }
    tasks.push_back([&w] { classify(w, w.write()); });
  }
  for (size_t first = 0; first < batched.size(); first += store_batch_) {
    const size_t last = std::min(batched.size(), first + store_batch_);
    tasks.push_back([&batched, first, last, store] {
      std::vector<store::BatchWrite> entries;
      std::vector<KeyedWrite*> sent;  // entries[i] is sent[i]'s
      entries.reserve(last - first);
      for (size_t i = first; i < last; ++i) {
        auto entry = batched[i]->batch_entry();
        if (!entry) {
          classify(*batched[i], entry.take_error());
          continue;
        }
        entries.push_back(std::move(*entry));
        sent.push_back(batched[i]);
      }
      if (entries.empty()) return;
      std::vector<Result<store::RecordPtr>> results = store->write_batch(std::move(entries));
      for (size_t i = 0; i < sent.size(); ++i) classify(*sent[i], std::move(results[i]));
    });
  }
  writers_.run_all(std::move(tasks));
  settle(writes, unlisted);
}

void WriteBatch::settle(const std::vector<KeyedWrite>& writes, Unlisted unlisted) {
  // Per key: the first failed write (it names the error), whether any was
  // tried, and whether every one tried landed.
  struct KeyState {
    const KeyedWrite* failed = nullptr;
    size_t failed_count = 0;
    bool tried = false;
    bool all_landed = true;  // written, or moot
  };
  std::map<std::string, KeyState> keys;
  for (const KeyedWrite& w : writes) {
    KeyState& k = keys[w.key];
    if (w.outcome == WriteOutcome::kDeferred) continue;
    k.tried = true;
    if (w.outcome != WriteOutcome::kWritten && w.outcome != WriteOutcome::kGone)
      k.all_landed = false;
    if (w.outcome == WriteOutcome::kFailed && ++k.failed_count == 1) k.failed = &w;
  }
  const auto now = clock_.steady_now();
  auto log = logger(log_name_);
  for (const auto& [key, k] : keys) {
    if (k.failed) {
      const RetryBackoff::Failure f = backoff_.failed(key, k.failed->error->message, now);
      if (!f.log) continue;
      using std::chrono::duration_cast;
      using std::chrono::milliseconds;
      log->warn("{}: {} (failure {} in a row{}; next try in {} ms)", k.failed->what,
                k.failed->error->message, f.failures,
                k.failed_count > 1
                    ? "; " + std::to_string(k.failed_count - 1) + " more write(s) of " + key
                    : std::string(),
                duration_cast<milliseconds>(f.delay).count());
    } else if (k.tried && k.all_landed) {
      if (const int failures = backoff_.succeeded(key); failures > 0)
        log->info("{}: written after {} failure(s)", key, failures);
    }
  }
  if (unlisted == Unlisted::kForget)
    backoff_.retain([&](const std::string& key) { return keys.count(key) > 0; });
}

}  // namespace corral::loops
