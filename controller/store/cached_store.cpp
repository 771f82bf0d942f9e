#include "controller/store/cached_store.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "api/json.h"
#include "controller/store/batch_write.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/store/object_rules.h"
#include "controller/store/record_builder.h"
#include "controller/store/published_view.h"

namespace corral::store {

namespace {

using Key = std::pair<std::string, std::string>;  // kind, name

class CachedStore final : public Store {
 public:
  CachedStore(std::unique_ptr<Persistence> persistence, const Clock& clock, StoreOptions options,
              std::vector<RecordPtr> records, int64_t revision)
      : clock_(clock),
        group_commit_wait_(options.group_commit_wait),
        on_commit_failure_(std::move(options.on_commit_failure)),
        persistence_(std::move(persistence)),
        next_revision_(revision),
        durable_revision_(revision),
        view_(options.history_events, options.history_bytes, options.watch_buffer, revision, records) {
    for (RecordPtr& r : records) {
      Key key{r->kind, r->name};
      set_latest(key, std::move(r));
    }
    committer_ = std::thread([this] { committer_loop(); });
  }

  ~CachedStore() override {
    {
      std::lock_guard lock(write_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    committer_.join();  // commits whatever is still queued first
  }

  Result<RecordPtr> get(const std::string& kind, const std::string& name) override {
    return view_.get(kind, name);
  }

  Result<ListResult> list(const std::string& kind, const ListOptions& options) override {
    return view_.list(kind, options);
  }

  Result<RecordPtr> create(const std::string& kind, Json object) override {
    std::unique_lock lock(write_mu_);
    if (auto ok = writable(); !ok) return ok.take_error();
    auto prepared = prepare_create(kind, std::move(object));
    if (!prepared) return prepared.take_error();
    RecordPtr record = prepared->record;
    return submit(lock, {std::move(*prepared)}, std::move(record));
  }

  Result<RecordPtr> update(const std::string& kind, Json object) override {
    return write_one(kind, std::move(object), Part::kSpec);
  }

  Result<RecordPtr> update_status(const std::string& kind, Json object) override {
    return write_one(kind, std::move(object), Part::kStatus);
  }

  std::vector<Result<RecordPtr>> write_batch(std::vector<BatchWrite> writes) override {
    std::vector<Result<RecordPtr>> results;
    results.reserve(writes.size());
    std::unique_lock lock(write_mu_);
    if (auto ok = writable(); !ok) {
      results.assign(writes.size(), ok.error());
      return results;
    }
    std::vector<Op> ops;
    bool must_wait = false;  // an unchanged entry whose version is not durable yet
    for (BatchWrite& w : writes) {
      if (w.part == BatchWrite::Part::kCreate) {
        auto op = prepare_create(w.kind, std::move(w.object));
        if (!op) {
          results.emplace_back(op.take_error());
          continue;
        }
        set_latest({op->record->kind, op->record->name}, op->record);  // the next entries see it
        results.emplace_back(op->record);
        ops.push_back(std::move(*op));
        continue;
      }
      const Part part =
          w.part == BatchWrite::Part::kStatus ? Part::kStatus : Part::kSpecAndStatus;
      auto prepared = prepare_update(w.kind, std::move(w.object), part);
      if (!prepared) {
        results.emplace_back(prepared.take_error());
        continue;
      }
      if (!prepared->op) {
        must_wait = must_wait || prepared->stored->revision > durable_revision_;
        results.emplace_back(std::move(prepared->stored));
        continue;
      }
      RecordPtr record = prepared->op->record;
      set_latest({record->kind, record->name}, record);  // the next entries see it
      results.emplace_back(std::move(record));
      ops.push_back(std::move(*prepared->op));
    }
    if (ops.empty() && !must_wait) return results;
    auto committed = submit(lock, std::move(ops), nullptr);
    if (!committed) {
      for (auto& r : results) {
        if (r.ok()) r = committed.error();
      }
    }
    return results;
  }

  Result<RecordPtr> remove(const std::string& kind, const std::string& name,
                           const Preconditions& preconditions) override {
    std::unique_lock lock(write_mu_);
    if (auto ok = writable(); !ok) return ok.take_error();
    RecordPtr stored = latest(kind, name);
    if (!stored) return not_found(kind, name);
    if (auto ok = check_preconditions(*stored, preconditions); !ok) return ok.take_error();

    // The object, then breadth-first everything it owns, transitively. Each
    // deletion gets its own revision (so every DELETED event has a distinct
    // resourceVersion to resume from), and all of them commit in one batch.
    std::vector<RecordPtr> doomed{stored};
    std::set<Key> seen{{kind, name}};
    for (size_t i = 0; i < doomed.size(); ++i) {
      auto deps = dependents_.find(doomed[i]->uid);
      if (deps == dependents_.end()) continue;
      for (const Key& key : deps->second) {
        if (!seen.insert(key).second) continue;
        if (RecordPtr r = latest(key.first, key.second)) doomed.push_back(std::move(r));
      }
    }
    std::vector<Op> ops;
    for (const RecordPtr& r : doomed) {
      ops.push_back({WatchEvent::Type::kDeleted, deleted_record(*r, ++next_revision_), r});
    }
    RecordPtr result = ops.front().record;
    return submit(lock, std::move(ops), result);
  }

  Result<std::unique_ptr<Watch>> watch(const std::string& kind, int64_t from_revision,
                                       const ListOptions& filter) override {
    return view_.watch(kind, from_revision, filter);
  }

  int64_t revision() const override { return view_.revision(); }

  Result<void> healthy() const override {
    std::lock_guard lock(write_mu_);
    if (failed_) return *failed_;
    return Ok{};
  }

  size_t open_watches() const override { return view_.open_watches(); }

 private:
  struct Op {
    WatchEvent::Type type = WatchEvent::Type::kAdded;
    RecordPtr record;    // for kDeleted: the last version, stamped with the delete revision
    RecordPtr previous;  // the version it replaces or deletes
  };
  // One writer's request: acknowledged (done) only after its batch is durable
  // and published, or failed with the commit's error.
  struct Write {
    std::vector<Op> ops;
    bool done = false;           // guarded by write_mu_
    std::optional<Error> error;  // guarded by write_mu_
    // One per writer, so that a batch wakes only its own writers, not every
    // writer waiting on the next batch.
    std::condition_variable acked;
  };
  using Batch_ = std::vector<std::shared_ptr<Write>>;

  using Part = UpdatePart;

  // What an update turns into: the op to commit, or none when it changes
  // nothing (`stored` is then the version to return).
  struct Prepared {
    std::optional<Op> op;
    RecordPtr stored;
  };

  Result<RecordPtr> write_one(const std::string& kind, Json object, Part part) {
    std::unique_lock lock(write_mu_);
    if (auto ok = writable(); !ok) return ok.take_error();
    auto prepared = prepare_update(kind, std::move(object), part);
    if (!prepared) return prepared.take_error();
    if (!prepared->op) return wait_durable(lock, std::move(prepared->stored));
    RecordPtr record = prepared->op->record;
    return submit(lock, {std::move(*prepared->op)}, std::move(record));
  }

  // REQUIRES: write_mu_ held. The op that creates `object` (AlreadyExists
  // when its name is taken), with the next revision and the metadata the
  // store owns.
  Result<Op> prepare_create(const std::string& kind, Json object) {
    auto name = object_name(object);
    if (!name.ok()) return name.take_error();
    if (latest(kind, *name)) return already_exists(kind, *name);
    int64_t revision = ++next_revision_;
    fill_create_metadata(object, clock_.now());
    object["metadata"]["resourceVersion"] = std::to_string(revision);
    return Op{WatchEvent::Type::kAdded, build_record(kind, object, revision), nullptr};
  }

  // REQUIRES: write_mu_ held. Checks `object` against the latest version
  // (NotFound, preconditions) and builds the version that replaces `part` of
  // it, assigning the next revision.
  Result<Prepared> prepare_update(const std::string& kind, Json object, Part part) {
    auto name = object_name(object);
    if (!name.ok()) return name.take_error();
    RecordPtr stored = latest(kind, *name);
    if (!stored) return not_found(kind, *name);
    if (auto ok = check_preconditions(*stored, preconditions_of(object)); !ok)
      return ok.take_error();
    auto next = next_version(kind, stored->parse(), std::move(object), part);
    if (!next) return Prepared{std::nullopt, std::move(stored)};
    int64_t revision = ++next_revision_;
    (*next)["metadata"]["resourceVersion"] = std::to_string(revision);
    RecordPtr record = build_record(kind, *next, revision);
    return Prepared{Op{WatchEvent::Type::kModified, std::move(record), stored}, stored};
  }

  static Error shutting_down() {
    return make_error(ErrorCode::kUnavailable, "the store is shutting down");
  }

  // REQUIRES: write_mu_ held. Whether a write may be checked and queued.
  Result<void> writable() const {
    if (failed_) return *failed_;
    if (stopping_) return shutting_down();
    return Ok{};
  }

  // REQUIRES: write_mu_ held. Committed state plus pending writes.
  RecordPtr latest(const std::string& kind, const std::string& name) const {
    auto k = latest_.find(kind);
    if (k == latest_.end()) return nullptr;
    auto it = k->second.find(name);
    return it == k->second.end() ? nullptr : it->second;
  }

  // REQUIRES: write_mu_ held (or construction). Keeps dependents_ in step.
  void set_latest(const Key& key, RecordPtr record) {
    auto& index = latest_[key.first];
    if (auto it = index.find(key.second); it != index.end()) {
      for (const auto& uid : it->second->owner_uids) {
        auto deps = dependents_.find(uid);
        if (deps == dependents_.end()) continue;
        deps->second.erase(key);
        if (deps->second.empty()) dependents_.erase(deps);
      }
      index.erase(it);
    }
    if (!record) return;
    for (const auto& uid : record->owner_uids) dependents_[uid].insert(key);
    index.emplace(key.second, std::move(record));
  }

  // Queues `ops` (already applied to the latest view) and waits until they
  // are durable and visible, or failed.
  Result<RecordPtr> submit(std::unique_lock<std::mutex>& lock, std::vector<Op> ops,
                           RecordPtr result) {
    for (const Op& op : ops) {
      set_latest({op.record->kind, op.record->name},
                 op.type == WatchEvent::Type::kDeleted ? nullptr : op.record);
    }
    auto w = std::make_shared<Write>();
    w->ops = std::move(ops);
    queue_.push_back(w);
    queue_cv_.notify_one();
    w->acked.wait(lock, [&] { return w->done; });
    if (w->error) return *w->error;
    return result;
  }

  // A write that changes nothing returns the stored version, but never one
  // that is still pending: it waits for that version's batch (an empty write
  // queued behind it) so that what it returns is durable.
  Result<RecordPtr> wait_durable(std::unique_lock<std::mutex>& lock, RecordPtr stored) {
    if (stored->revision <= durable_revision_) return stored;
    return submit(lock, {}, std::move(stored));
  }

  void committer_loop() {
    size_t last_batch = 0;
    for (;;) {
      Batch_ writes;
      {
        std::unique_lock lock(write_mu_);
        queue_cv_.wait(lock, [&] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) return;  // stopping, and everything was committed
        // Give the writers the last batch just acknowledged a moment to send
        // their next write: closed-loop clients then share one sync instead
        // of splitting into two halves that alternate between syncs.
        if (queue_.size() < last_batch && group_commit_wait_.count() > 0) {
          queue_cv_.wait_for(lock, group_commit_wait_,
                             [&] { return queue_.size() >= last_batch || stopping_; });
        }
        writes.swap(queue_);
        last_batch = writes.size();
      }
      // Group commit: every write queued while the last batch was syncing
      // goes to disk in this one transaction.
      Batch batch;
      for (const auto& w : writes) {
        for (const Op& op : w->ops) {
          batch.mutations.push_back({op.record, op.type == WatchEvent::Type::kDeleted});
          batch.revision = op.record->revision;
        }
      }
      if (!batch.mutations.empty()) {
        if (auto ok = persistence_->commit(batch); !ok) {
          fail(std::move(writes), {batch.revision, ok.take_error()});
          continue;
        }
        publish(writes, batch.revision);
      }
      {
        std::lock_guard lock(write_mu_);
        if (!batch.mutations.empty()) durable_revision_ = batch.revision;
        for (const auto& w : writes) w->done = true;
      }
      for (const auto& w : writes) w->acked.notify_one();
    }
  }

  // Makes a durable batch visible to readers and watchers.
  void publish(const Batch_& writes, int64_t revision) {
    std::vector<HubEvent> events;
    for (const auto& w : writes) {
      for (const Op& op : w->ops)
        events.push_back({{op.type, op.record, op.record->revision}, op.previous});
    }
    view_.publish(events, revision);
  }

  // A failed commit is fatal, as in etcd. The batch may be in the log
  // already (written, then the sync failed), so a restart may find it: rolling
  // the revision back and going on would hand its revisions out again, and a
  // watcher resuming from one of them would skip events. So the store fails
  // the batch's writes and every write queued behind them (they were checked
  // against state that included the failed ones), takes no write any more,
  // and hands the failure to on_commit_failure_ (the controller exits; a
  // restart recovers what is on disk). Nothing is rolled back: latest_ and
  // next_revision_ are never used again.
  void fail(Batch_ writes, CommitFailure failure) {
    logger("store")->error(
        "commit of revision {} failed, {} writes rejected, no write taken from now on: {}",
        failure.revision, writes.size(), failure.error.message);
    Error rejected = make_error(ErrorCode::kUnavailable,
                                "the store cannot commit (" + failure.error.message +
                                    "); the controller must restart, and what it finds on disk "
                                    "then is what counts");
    {
      std::lock_guard lock(write_mu_);
      for (auto& w : queue_) writes.push_back(std::move(w));
      queue_.clear();
      failed_ = rejected;
    }
    // Before the writers hear of it: the controller's handler exits, so its
    // clients see the connection close rather than a 503 that races it.
    if (on_commit_failure_) on_commit_failure_(failure);
    std::lock_guard lock(write_mu_);
    for (const auto& w : writes) {
      w->error = rejected;
      w->done = true;
      w->acked.notify_one();
    }
  }

  const Clock& clock_;
  const std::chrono::microseconds group_commit_wait_;
  // Called by the committer thread only.
  const std::function<void(const CommitFailure&)> on_commit_failure_;
  // Used by the committer thread only, after construction.
  std::unique_ptr<Persistence> persistence_;

  // Lock order: write_mu_, then the view's (published_view.h).
  mutable std::mutex write_mu_;
  std::condition_variable queue_cv_;  // the committer waits for writes
  // Committed state plus pending writes: what preconditions are checked against.
  std::unordered_map<std::string, std::unordered_map<std::string, RecordPtr>>
      latest_;  // guarded by write_mu_
  std::unordered_map<std::string, std::set<Key>>
      dependents_;                  // owner uid → owned; guarded by write_mu_
  int64_t next_revision_ = 0;       // last assigned; guarded by write_mu_
  int64_t durable_revision_ = 0;    // last committed; guarded by write_mu_
  Batch_ queue_;                    // guarded by write_mu_
  // Set for good by a failed commit: every write fails with it from then on.
  std::optional<Error> failed_;  // guarded by write_mu_
  bool stopping_ = false;           // guarded by write_mu_

  // Durable, published state: what readers see.
  PublishedView view_;
  std::thread committer_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_cached_store(std::unique_ptr<Persistence> persistence,
                                                 const Clock& clock, StoreOptions options) {
  auto loaded = persistence->load();
  if (!loaded.ok()) return loaded.take_error();
  std::vector<RecordPtr> records;
  records.reserve(loaded->objects.size());
  for (auto& o : loaded->objects) {
    Json object = Json::parse(o.json, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded()) {
      return make_error(ErrorCode::kInternal,
                        "stored object " + o.kind + "/" + o.name + " is not valid JSON");
    }
    records.push_back(build_record(o.kind, object, o.revision, std::move(o.json)));
  }
  loaded->objects.clear();
  return std::unique_ptr<Store>(new CachedStore(std::move(persistence), clock, options,
                                                std::move(records), loaded->revision));
}

std::unique_ptr<Store> open_memory_store(const Clock& clock, StoreOptions options) {
  return std::move(open_cached_store(std::make_unique<MemoryPersistence>(), clock, options))
      .value();
}

}  // namespace corral::store
