#include "controller/store/etcd_store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/batch_write.h"
#include "controller/store/etcd/etcd_client.h"
#include "controller/store/etcd/etcd_watch.h"
#include "controller/store/forwarding_store.h"
#include "controller/store/object_rules.h"
#include "controller/store/published_view.h"
#include "controller/store/record_builder.h"
#include "controller/store/revision_waiters.h"

namespace corral::store {

namespace {

using etcd::Compare;
using Key = std::pair<std::string, std::string>;  // kind, name

// A write that keeps losing its compare-and-swap to other writers gives up
// with Conflict after this many rounds (each round re-reads the winner).
constexpr int kMaxWriteRounds = 32;
// Resends of a write whose answer was lost (run_txn), each after a read
// that shows it was not applied.
constexpr int kAmbiguousResends = 2;

// What a watch or list saw, as records: the JSON is stored without
// resourceVersion (etcd assigns the revision as it commits), so it is
// stamped here from mod_revision.
Result<RecordPtr> decode_record(const std::string& kind, const etcd::KeyValue& kv) {
  Json object = Json::parse(kv.value, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded() || !object.is_object() ||
      (object.contains("metadata") && !object["metadata"].is_object())) {
    return make_error(ErrorCode::kInternal,
                      "etcd key " + kv.key + ": the value is not a JSON object");
  }
  object["metadata"]["resourceVersion"] = std::to_string(kv.mod_revision);
  return build_record(kind, object, kv.mod_revision);
}

// The text stored for `object`: everything but resourceVersion.
std::string stored_value(Json object) {
  if (object.contains("metadata")) object["metadata"].erase("resourceVersion");
  return object.dump();
}

Error not_the_leader(const Compare& fence, int64_t now) {
  return make_error(ErrorCode::kUnavailable,
                    "not the leader: the write was fenced by " + fence.key +
                        " (ours was created at revision " + std::to_string(fence.number) +
                        ", it is now at " + (now == 0 ? std::string("none") : std::to_string(now)) +
                        "); the leader writes");
}

Error not_leading() {
  return make_error(ErrorCode::kUnavailable, "not the leader: this controller does not lead now");
}

class EtcdStoreImpl;

// The fenced view: every write goes through the store with the fence.
class FencedStore final : public ForwardingStore {
 public:
  FencedStore(EtcdStoreImpl& store, FenceSource fence);
  Result<RecordPtr> create(const std::string& kind, Json object) override;
  Result<RecordPtr> update(const std::string& kind, Json object) override;
  Result<RecordPtr> update_status(const std::string& kind, Json object) override;
  std::vector<Result<RecordPtr>> write_batch(std::vector<BatchWrite> writes) override;
  Result<RecordPtr> remove(const std::string& kind, const std::string& name,
                           const Preconditions& preconditions) override;

 private:
  EtcdStoreImpl& store_;
  const FenceSource fence_;
};

class EtcdStoreImpl final : public EtcdStore {
 public:
  EtcdStoreImpl(const EtcdStoreOptions& options, const Clock& clock, StoreOptions store_options)
      : options_(options),
        store_options_(std::move(store_options)),
        clock_(clock),
        objects_prefix_(options.prefix + "/objects/"),
        client_(etcd::EtcdOptions{options.endpoints, options.connect_timeout,
                                  options.request_timeout, 64u << 20, options.observer}) {}

  ~EtcdStoreImpl() override {
    {
      std::lock_guard lock(feed_mu_);
      stopping_ = true;
    }
    feed_cv_.notify_all();
    if (supervisor_.joinable()) supervisor_.join();
    feed_.reset();
  }

  // Loads every object and starts the feed. Called once, before any use.
  Result<void> start() {
    auto loaded = load();
    if (!loaded) return loaded.take_error();
    for (const RecordPtr& r : loaded->first) link_owners(nullptr, r);
    view_ = std::make_unique<PublishedView>(store_options_.history_events, store_options_.history_bytes,
                                            store_options_.watch_buffer, loaded->second,
                                            std::move(loaded->first));
    waiters_.published(view_->revision());
    start_feed(view_->revision() + 1);
    supervisor_ = std::thread([this] { supervise_feed(); });
    return Ok{};
  }

  // --- Store ---------------------------------------------------------------

  Result<RecordPtr> get(const std::string& kind, const std::string& name) override {
    return view_->get(kind, name);
  }
  Result<ListResult> list(const std::string& kind, const ListOptions& options) override {
    return view_->list(kind, options);
  }
  Result<RecordPtr> create(const std::string& kind, Json object) override {
    return create_with(kind, std::move(object), nullptr);
  }
  Result<RecordPtr> update(const std::string& kind, Json object) override {
    return update_with(kind, std::move(object), UpdatePart::kSpec, nullptr);
  }
  Result<RecordPtr> update_status(const std::string& kind, Json object) override {
    return update_with(kind, std::move(object), UpdatePart::kStatus, nullptr);
  }
  std::vector<Result<RecordPtr>> write_batch(std::vector<BatchWrite> writes) override {
    return write_batch_with(std::move(writes), nullptr);
  }
  Result<RecordPtr> remove(const std::string& kind, const std::string& name,
                           const Preconditions& preconditions) override {
    return remove_with(kind, name, preconditions, nullptr);
  }

  Result<std::unique_ptr<Watch>> watch(const std::string& kind, int64_t from_revision,
                                       const ListOptions& filter) override {
    // A revision another controller handed out that our feed has not
    // published yet: wait for it a moment rather than answer 504 at once.
    wait_published(from_revision, store_options_.future_revision_wait);
    return view_->watch(kind, from_revision, filter);
  }

  int64_t revision() const override { return view_->revision(); }

  Result<void> healthy() const override {
    std::lock_guard lock(feed_mu_);
    if (feed_down_) {
      return make_error(ErrorCode::kUnavailable,
                        "the etcd feed is down, reads may be stale: " + feed_error_.message);
    }
    return Ok{};
  }

  size_t open_watches() const override { return view_->open_watches(); }

  // --- EtcdStore -----------------------------------------------------------

  std::unique_ptr<Store> fenced(FenceSource fence) override {
    return std::make_unique<FencedStore>(*this, std::move(fence));
  }

  etcd::EtcdClient& client() override { return client_; }

  Result<void> compact(int64_t revision) override {
    auto done = client_.compact(revision);
    if (!done) return done.take_error();
    return Ok{};
  }

  Result<size_t> remove_orphans(const FenceSource& fence) override {
    std::unordered_map<std::string, std::set<Key>> dependents;
    {
      std::lock_guard lock(deps_mu_);
      dependents = dependents_;
    }
    std::set<std::string> live;
    for (const KindInfo& kind : all_kinds()) {
      auto listed = view_->list(kind.kind, {});
      if (!listed) continue;
      for (const RecordPtr& r : listed->items) live.insert(r->uid);
    }
    size_t removed = 0;
    for (const auto& [uid, keys] : dependents) {
      if (live.count(uid)) continue;
      for (const Key& key : keys) {
        RecordPtr dependent = cached(key.first, key.second);
        if (!dependent) continue;
        auto alive = any_owner_alive(*dependent);
        if (!alive) return alive.take_error();
        if (*alive) continue;
        auto gone = remove_with(key.first, key.second, {dependent->uid, ""}, &fence);
        if (gone) {
          ++removed;
          logger("store")->info("deleted {}/{}: every owner is gone", key.first, key.second);
        } else if (gone.error().code != ErrorCode::kNotFound &&
                   gone.error().code != ErrorCode::kConflict) {
          return gone.take_error();
        }
      }
    }
    return removed;
  }

  // --- writes, fenced (`fence` set) or not ------------------------------------

  Result<RecordPtr> create_with(const std::string& kind, Json object, const FenceSource* fence) {
    auto name = object_name(object);
    if (!name) return name.take_error();
    auto compare = fence_compare(fence);
    if (!compare) return compare.take_error();
    fill_create_metadata(object, clock_.now());
    const std::string key = key_of(kind, *name);
    etcd::TxnRequest txn;
    txn.compare.push_back(Compare::absent(key));
    txn.success.push_back(etcd::PutRequest{key, stored_value(object)});
    // No failure branch: a failed compare means the name is taken (or, fenced,
    // that we no longer lead; run_txn adds the read that tells). A branch
    // costs even when it does not run: 20% fewer creates/s through the
    // gateway (bench/RESULTS.md).
    auto done = run_txn(std::move(txn), *compare);
    if (!done) return done.take_error();
    if (!done->succeeded) return already_exists(kind, *name);
    return acknowledged(kind, *name, object, done->revision);
  }

  Result<RecordPtr> update_with(const std::string& kind, Json object, UpdatePart part,
                                const FenceSource* fence) {
    auto name = object_name(object);
    if (!name) return name.take_error();
    auto compare = fence_compare(fence);
    if (!compare) return compare.take_error();
    const Preconditions preconditions = preconditions_of(object);
    const std::string key = key_of(kind, *name);
    Base base{cached(kind, *name), false};
    for (int round = 0; round < kMaxWriteRounds; ++round) {
      auto settled = settle(base, kind, *name, key, preconditions);
      if (!settled) return settled.take_error();
      if (!*settled) continue;
      auto next = next_version(kind, base.record->parse(), object, part);
      if (!next) {
        wait_published(base.record->revision, options_.request_timeout);
        return base.record;
      }
      etcd::TxnRequest txn;
      txn.compare.push_back(Compare::mod_revision(key, Compare::Op::kEqual, base.record->revision));
      txn.success.push_back(etcd::PutRequest{key, stored_value(*next)});
      txn.failure.push_back(etcd::RangeRequest{key});
      auto done = run_txn(std::move(txn), *compare);
      if (!done) return done.take_error();
      if (done->succeeded) return acknowledged(kind, *name, *next, done->revision);
      auto winner = from_failure(kind, *done);
      if (!winner) return winner.take_error();
      base = {std::move(*winner), true};
    }
    return too_contended(kind, *name);
  }

  Result<RecordPtr> remove_with(const std::string& kind, const std::string& name,
                                const Preconditions& preconditions, const FenceSource* fence) {
    auto compare = fence_compare(fence);
    if (!compare) return compare.take_error();
    const std::string key = key_of(kind, name);
    Base base{cached(kind, name), false};
    RecordPtr removed;
    int64_t last = 0;
    for (int round = 0; round < kMaxWriteRounds && !removed; ++round) {
      auto settled = settle(base, kind, name, key, preconditions);
      if (!settled) return settled.take_error();
      if (!*settled) continue;
      auto done = delete_at(key, base.record->revision, *compare);
      if (!done) return done.take_error();
      if (done->succeeded) {
        removed = deleted_record(*base.record, done->revision);
        last = done->revision;
        break;
      }
      auto winner = from_failure(kind, *done);
      if (!winner) return winner.take_error();
      base = {std::move(*winner), true};
    }
    if (!removed) return too_contended(kind, name);
    last = std::max(last, remove_dependents(base.record, *compare));
    wait_published(last, options_.request_timeout);
    return removed;
  }

  // One transaction per entry, in order: each entry sees the ones before
  // it, and the entries that pass take increasing revisions in entry order,
  // as in the other backends (ARCHITECTURE.md: why not one transaction —
  // every op of one etcd transaction shares its revision).
  std::vector<Result<RecordPtr>> write_batch_with(std::vector<BatchWrite> writes,
                                                  const FenceSource* fence) {
    std::vector<Result<RecordPtr>> results;
    results.reserve(writes.size());
    for (BatchWrite& w : writes) {
      switch (w.part) {
        case BatchWrite::Part::kCreate:
          results.push_back(create_with(w.kind, std::move(w.object), fence));
          break;
        case BatchWrite::Part::kStatus:
          results.push_back(update_with(w.kind, std::move(w.object), UpdatePart::kStatus, fence));
          break;
        case BatchWrite::Part::kSpecAndStatus:
          results.push_back(
              update_with(w.kind, std::move(w.object), UpdatePart::kSpecAndStatus, fence));
          break;
      }
    }
    return results;
  }

 private:
  // The version a write is computed from: the cached one (may trail etcd by
  // the feed's latency), or the authoritative one a range or a failed
  // transaction returned.
  struct Base {
    RecordPtr record;
    bool authoritative = false;
  };

  std::string key_of(const std::string& kind, const std::string& name) const {
    return objects_prefix_ + kind + "/" + name;
  }

  // (kind, name) of an object key; nullopt for a key outside the layout.
  std::optional<Key> key_parts(const std::string& key) const {
    if (key.compare(0, objects_prefix_.size(), objects_prefix_) != 0) return std::nullopt;
    auto slash = key.find('/', objects_prefix_.size());
    if (slash == std::string::npos || slash == objects_prefix_.size() || slash + 1 == key.size())
      return std::nullopt;
    return Key{key.substr(objects_prefix_.size(), slash - objects_prefix_.size()),
               key.substr(slash + 1)};
  }

  RecordPtr cached(const std::string& kind, const std::string& name) const {
    auto r = view_->get(kind, name);
    return r ? *r : nullptr;
  }

  // Makes `base` fit to write from: present and meeting the preconditions.
  // A cached base that does not is re-read from etcd first (the cache may
  // trail): false means "look again" with the fresh one. Only an
  // authoritative base answers NotFound or Conflict.
  Result<bool> settle(Base& base, const std::string& kind, const std::string& name,
                      const std::string& key, const Preconditions& preconditions) {
    Result<void> fits =
        base.record ? check_preconditions(*base.record, preconditions) : Result<void>(Ok{});
    if (base.record && fits) return true;
    if (base.authoritative) {
      if (!base.record) return not_found(kind, name);
      return fits.take_error();
    }
    auto read = client_.range(etcd::RangeRequest{key});
    if (!read) return read.take_error();
    base.authoritative = true;
    base.record = nullptr;
    if (!read->kvs.empty()) {
      auto decoded = decode_record(kind, read->kvs.front());
      if (!decoded) return decoded.take_error();
      base.record = std::move(*decoded);
    }
    return false;
  }

  // The object as the failure branch of a compare-and-swap read it (its
  // first op ranges the key): the version that won, or null when gone.
  Result<RecordPtr> from_failure(const std::string& kind, const etcd::TxnResult& failed) {
    if (failed.responses.empty() || !std::holds_alternative<etcd::RangeResult>(failed.responses[0]))
      return make_error(ErrorCode::kInternal, "etcd txn: the failure branch answered no range");
    const auto& range = std::get<etcd::RangeResult>(failed.responses[0]);
    if (range.kvs.empty()) return RecordPtr();
    return decode_record(kind, range.kvs.front());
  }

  // Whether any owner `dependent` names still exists, read from etcd (the
  // cache may not have an owner created a moment ago).
  Result<bool> any_owner_alive(const Record& dependent) {
    Json object = dependent.parse();
    const Json refs = object["metadata"].value("ownerReferences", Json::array());
    for (const Json& ref : refs) {
      if (!ref.is_object()) continue;
      const std::string kind = ref.value("kind", "");
      const std::string name = ref.value("name", "");
      if (kind.empty() || name.empty()) return true;  // cannot tell: keep
      auto read = client_.range(etcd::RangeRequest{key_of(kind, name)});
      if (!read) return read.take_error();
      if (read->kvs.empty()) continue;
      auto owner = decode_record(kind, read->kvs.front());
      if (!owner || (*owner)->uid == ref.value("uid", "")) return true;  // unreadable: keep
    }
    return false;
  }

  static Error too_contended(const std::string& kind, const std::string& name) {
    return make_error(ErrorCode::kConflict,
                      "Operation cannot be fulfilled on " + plural_of(kind) + " \"" + name +
                          "\": the object kept changing under " +
                          std::to_string(kMaxWriteRounds) + " attempts; try again");
  }

  // The fence's compare now, or nullopt for an unfenced write.
  Result<std::optional<Compare>> fence_compare(const FenceSource* fence) const {
    if (!fence) return std::optional<Compare>();
    std::optional<Compare> compare = (*fence)();
    if (!compare) return not_leading();
    return compare;
  }

  // Runs `txn` with the fence added to its compares; the failure branch then
  // also reads the fence's key, so that a failure caused by the fence is told
  // apart from a lost compare-and-swap.
  Result<etcd::TxnResult> run_txn(etcd::TxnRequest txn, const std::optional<Compare>& fence) {
    if (fence) {
      txn.compare.push_back(*fence);
      txn.failure.push_back(etcd::RangeRequest{fence->key, "", 0, 0, /*keys_only=*/true});
    }
    auto done = client_.txn(txn);
    for (int resend = 0; !done && resend < kAmbiguousResends && maybe_applied(done.error()); ++resend) {
      auto applied = applied_already(txn);
      if (!applied) break;  // etcd cannot be read either: the write's own error stands
      if (*applied) {
        done = std::move(**applied);
        break;
      }
      logger("store")->info("resending a write whose answer was lost ({})", done.error().message);
      done = client_.txn(txn);
    }
    if (!done || done->succeeded || !fence) return done;
    const auto* range = done->responses.empty()
                            ? nullptr
                            : std::get_if<etcd::RangeResult>(&done->responses.back());
    int64_t now = range && !range->kvs.empty() ? range->kvs.front().create_revision : 0;
    if (now != fence->number) return not_the_leader(*fence, now);
    return done;
  }

  // A write whose answer was lost (the connection broke, the member froze,
  // etcd timed out on it) may or may not have been applied. Every write here
  // is one put or delete guarded by a compare on its key (absent, or
  // mod_revision == the base), so sending it again can never apply it twice:
  // what is left is telling the caller the truth.
  static bool maybe_applied(const Error& error) {
    return error.code == ErrorCode::kUnavailable || error.code == ErrorCode::kTimeout;
  }

  // Reads the key of `txn`'s one write: the answer it would have had when
  // the write is visibly there (the value we put, or the key we deleted gone);
  // nullopt when not — then a resend is safe, and its compare decides.
  Result<std::optional<etcd::TxnResult>> applied_already(const etcd::TxnRequest& txn) {
    if (txn.success.size() != 1) return std::optional<etcd::TxnResult>();
    const auto* put = std::get_if<etcd::PutRequest>(&txn.success.front());
    const auto* del = std::get_if<etcd::DeleteRequest>(&txn.success.front());
    if (!put && !del) return std::optional<etcd::TxnResult>();
    auto read = client_.range(etcd::RangeRequest{put ? put->key : del->key});
    if (!read) return read.take_error();
    etcd::TxnResult applied;
    applied.succeeded = true;
    if (put && !read->kvs.empty() && read->kvs.front().value == put->value) {
      // Our value, byte for byte (a create's carries its fresh uid).
      applied.revision = read->kvs.front().mod_revision;
      applied.responses.push_back(etcd::PutResult{applied.revision, std::nullopt});
      return std::optional<etcd::TxnResult>(std::move(applied));
    }
    if (del && read->kvs.empty()) {
      applied.revision = read->revision;
      applied.responses.push_back(etcd::DeleteResult{applied.revision, 1, {}});
      return std::optional<etcd::TxnResult>(std::move(applied));
    }
    return std::optional<etcd::TxnResult>();
  }

  Result<etcd::TxnResult> delete_at(const std::string& key, int64_t revision,
                                    const std::optional<Compare>& fence) {
    etcd::TxnRequest txn;
    txn.compare.push_back(Compare::mod_revision(key, Compare::Op::kEqual, revision));
    txn.success.push_back(etcd::DeleteRequest{key});
    txn.failure.push_back(etcd::RangeRequest{key});
    return run_txn(std::move(txn), fence);
  }

  // Deletes, breadth-first, every object owned (transitively) by `owner`,
  // one transaction each; an object that changed meanwhile is re-read and
  // deleted only if still owned. The revision of the last delete (0: none).
  // An etcd failure stops the cascade (logged): the leader's orphan sweep
  // finishes it.
  int64_t remove_dependents(const RecordPtr& owner, const std::optional<Compare>& fence) {
    int64_t last = 0;
    std::set<std::string> doomed{owner->uid};
    std::deque<std::string> owners{owner->uid};
    std::set<Key> seen{{owner->kind, owner->name}};
    while (!owners.empty()) {
      std::string uid = std::move(owners.front());
      owners.pop_front();
      for (const Key& key : dependents_of(uid)) {
        if (!seen.insert(key).second) continue;
        RecordPtr dependent = cached(key.first, key.second);
        for (int round = 0; dependent && round < kMaxWriteRounds; ++round) {
          auto done = delete_at(key_of(key.first, key.second), dependent->revision, fence);
          if (!done) {
            logger("store")->warn("cascading delete of {} stopped at {}/{}: {}", owner->name,
                                  key.first, key.second, done.error().message);
            return last;
          }
          if (done->succeeded) {
            last = std::max(last, done->revision);
            doomed.insert(dependent->uid);
            owners.push_back(dependent->uid);
            break;
          }
          auto winner = from_failure(key.first, *done);
          dependent = winner ? *winner : nullptr;
          bool still_owned = false;
          if (dependent) {
            for (const auto& u : dependent->owner_uids) still_owned |= doomed.count(u) > 0;
          }
          if (!still_owned) dependent = nullptr;
        }
      }
    }
    return last;
  }

  // --- the feed --------------------------------------------------------------

  // Every object at one revision, page by page; a page compacted away
  // between two starts the whole list again.
  Result<std::pair<std::vector<RecordPtr>, int64_t>> load() {
    for (int attempt = 0;; ++attempt) {
      std::vector<RecordPtr> records;
      int64_t revision = 0;
      etcd::RangeRequest page{objects_prefix_, etcd::prefix_end(objects_prefix_), options_.list_page};
      Error failed;
      bool ok = true;
      for (;;) {
        page.revision = revision;
        auto got = client_.range(page);
        if (!got) {
          failed = got.take_error();
          ok = false;
          break;
        }
        if (revision == 0) revision = got->revision;
        for (const etcd::KeyValue& kv : got->kvs) {
          auto key = key_parts(kv.key);
          if (!key) continue;
          auto record = decode_record(key->first, kv);
          if (!record) {
            logger("store")->error("skipped: {}", record.error().message);
            continue;
          }
          records.push_back(std::move(*record));
        }
        if (!got->more || got->kvs.empty()) break;
        page.key = got->kvs.back().key + std::string(1, '\0');
      }
      if (ok) return std::make_pair(std::move(records), revision);
      if (failed.code != ErrorCode::kGone || attempt >= 3) return failed;
    }
  }

  void start_feed(int64_t from) {
    etcd::WatchOptions watch;
    watch.key = objects_prefix_;
    watch.range_end = etcd::prefix_end(objects_prefix_);
    watch.start_revision = from;
    watch.connect_timeout = options_.connect_timeout;
    watch.idle_timeout = options_.feed_idle_timeout;
    // From the member after the one the last feed ended on: a member that
    // went silent (frozen, cut off) is tried last, not first again.
    const std::vector<std::string>& all = client_.options().endpoints;  // normalized
    std::vector<std::string> endpoints;
    for (size_t i = 0; i < all.size(); ++i)
      endpoints.push_back(all[(feed_first_endpoint_ + i) % all.size()]);
    feed_ = std::make_unique<etcd::EtcdWatch>(
        endpoints, watch, [this](const etcd::WatchBatch& batch) { on_batch(batch); },
        [this](const Error& error, int64_t compact_revision) {
          std::lock_guard lock(feed_mu_);
          feed_ended_ = true;
          // Silence past feed_idle_timeout ends the stream too; in a quiet
          // cluster that is routine, so it does not count as the feed down.
          feed_quiet_ = error.code == ErrorCode::kTimeout;
          if (!feed_quiet_) feed_down_ = true;
          feed_error_ = error;
          feed_compacted_ = compact_revision > 0 || error.code == ErrorCode::kGone;
          feed_cv_.notify_all();
        });
  }

  // Turns one batch of etcd events into the view's events. The feed is the
  // view's one publisher, so the view's current version of a key is the one
  // an event replaces (no prev_kv needed); `batch_latest` covers several
  // events on one key in one batch.
  void on_batch(const etcd::WatchBatch& batch) {
    if (batch.created) {
      std::lock_guard lock(feed_mu_);
      feed_down_ = false;
      backoff_ = kFirstBackoff;
      return;
    }
    if (batch.events.empty()) return;
    std::vector<HubEvent> events;
    events.reserve(batch.events.size());
    std::map<Key, RecordPtr> batch_latest;  // null: deleted in this batch
    int64_t revision = view_->revision();
    for (const etcd::WatchEvent& e : batch.events) {
      auto key = key_parts(e.kv.key);
      if (!key) continue;
      RecordPtr previous;
      if (auto it = batch_latest.find(*key); it != batch_latest.end()) {
        previous = it->second;
      } else {
        previous = cached(key->first, key->second);
      }
      revision = std::max(revision, e.kv.mod_revision);
      if (e.type == etcd::WatchEvent::Type::kDelete) {
        if (!previous) continue;
        RecordPtr gone = deleted_record(*previous, e.kv.mod_revision);
        events.push_back({{WatchEvent::Type::kDeleted, gone, e.kv.mod_revision}, previous});
        link_owners(previous, nullptr);
        batch_latest[*key] = nullptr;
        continue;
      }
      auto record = decode_record(key->first, e.kv);
      if (!record) {
        logger("store")->error("feed skipped: {}", record.error().message);
        continue;
      }
      events.push_back({{previous ? WatchEvent::Type::kModified : WatchEvent::Type::kAdded,
                         *record, e.kv.mod_revision},
                        previous});
      link_owners(previous, *record);
      batch_latest[*key] = *record;
    }
    view_->publish(events, revision);
    waiters_.published(revision);
  }

  // Restarts the feed when it ends: from the next revision after a broken
  // stream; from a fresh list when that revision was compacted away.
  void supervise_feed() {
    for (;;) {
      bool compacted = false;
      std::chrono::milliseconds backoff;
      {
        std::unique_lock lock(feed_mu_);
        feed_cv_.wait(lock, [&] { return feed_ended_ || stopping_; });
        if (stopping_) return;
        compacted = feed_compacted_;
        feed_ended_ = false;
        if (feed_quiet_) {
          // No byte for feed_idle_timeout: a quiet cluster, or a member that
          // stopped answering. Again at once, on the next member.
          backoff = std::chrono::milliseconds(0);
          logger("store")->debug("etcd feed silent at revision {} ({}); restarting",
                                 view_->revision(), feed_error_.message);
        } else {
          backoff = backoff_;
          backoff_ = std::min(backoff_ * 2, kMaxBackoff);
          logger("store")->warn("etcd feed ended at revision {} ({}); restarting in {} ms",
                                view_->revision(), feed_error_.message, backoff.count());
        }
        // The next feed starts after the member this one ran on (the
        // supervisor owns feed_; the watch has ended).
        const std::string ended_on = feed_ ? feed_->endpoint() : std::string();
        const std::vector<std::string>& all = client_.options().endpoints;  // normalized
        for (size_t i = 0; i < all.size(); ++i) {
          if (all[i] == ended_on) feed_first_endpoint_ = (i + 1) % all.size();
        }
        if (feed_cv_.wait_for(lock, backoff, [&] { return stopping_; })) return;
      }
      feed_.reset();  // joins the ended watch's thread
      if (compacted) {
        auto loaded = load();
        if (!loaded) {
          std::lock_guard lock(feed_mu_);
          feed_ended_ = true;
          feed_compacted_ = true;
          feed_error_ = loaded.take_error();
          continue;
        }
        {
          std::lock_guard lock(deps_mu_);
          dependents_.clear();
        }
        for (const RecordPtr& r : loaded->first) link_owners(nullptr, r);
        logger("store")->warn("etcd feed re-listed {} objects at revision {}; watches closed",
                              loaded->first.size(), loaded->second);
        view_->replace(std::move(loaded->first), loaded->second);
        waiters_.published(loaded->second);
      }
      start_feed(view_->revision() + 1);
    }
  }

  // What a successful write returns: the version the feed published (the
  // very record watchers get), once it has; past the wait (the feed is
  // down) the same version built here — durable, not yet visible.
  RecordPtr acknowledged(const std::string& kind, const std::string& name, Json& written,
                         int64_t revision) {
    wait_published(revision, options_.request_timeout);
    if (RecordPtr published = cached(kind, name); published && published->revision == revision)
      return published;
    written["metadata"]["resourceVersion"] = std::to_string(revision);
    return build_record(kind, written, revision);
  }

  // Waits up to `timeout` for the feed to publish `revision`.
  void wait_published(int64_t revision, std::chrono::milliseconds timeout) {
    if (view_->revision() >= revision) return;
    waiters_.wait(revision, timeout);
  }

  // --- owner → dependents, for cascading deletes ------------------------------

  void link_owners(const RecordPtr& old, const RecordPtr& now) {
    std::lock_guard lock(deps_mu_);
    if (old) {
      for (const auto& uid : old->owner_uids) {
        auto it = dependents_.find(uid);
        if (it == dependents_.end()) continue;
        it->second.erase({old->kind, old->name});
        if (it->second.empty()) dependents_.erase(it);
      }
    }
    if (now) {
      for (const auto& uid : now->owner_uids) dependents_[uid].insert({now->kind, now->name});
    }
  }

  std::vector<Key> dependents_of(const std::string& uid) const {
    std::lock_guard lock(deps_mu_);
    auto it = dependents_.find(uid);
    if (it == dependents_.end()) return {};
    return {it->second.begin(), it->second.end()};
  }

  static constexpr std::chrono::milliseconds kFirstBackoff{100};
  static constexpr std::chrono::milliseconds kMaxBackoff{2'000};

  const EtcdStoreOptions options_;
  const StoreOptions store_options_;
  const Clock& clock_;
  const std::string objects_prefix_;
  etcd::EtcdClient client_;

  std::unique_ptr<PublishedView> view_;  // set by start(), before any other use

  mutable std::mutex feed_mu_;
  std::condition_variable feed_cv_;  // the supervisor waits for the feed to end
  bool stopping_ = false;            // guarded by feed_mu_
  bool feed_ended_ = false;          // guarded by feed_mu_
  bool feed_compacted_ = false;      // guarded by feed_mu_
  bool feed_down_ = false;           // guarded by feed_mu_: since it ended, until a batch
  bool feed_quiet_ = false;          // guarded by feed_mu_: it ended by feed_idle_timeout
  // Where the next feed starts in options_.endpoints: written by the
  // supervisor under feed_mu_, read by start_feed() on the same thread.
  size_t feed_first_endpoint_ = 0;
  Error feed_error_;                 // guarded by feed_mu_
  std::chrono::milliseconds backoff_ = kFirstBackoff;  // guarded by feed_mu_
  std::unique_ptr<etcd::EtcdWatch> feed_;  // the supervisor's (and start()'s)

  // Writers wait here for the feed to publish their revision.
  RevisionWaiters waiters_;

  mutable std::mutex deps_mu_;
  std::unordered_map<std::string, std::set<Key>> dependents_;  // guarded by deps_mu_

  std::thread supervisor_;
};

FencedStore::FencedStore(EtcdStoreImpl& store, FenceSource fence)
    : ForwardingStore(store), store_(store), fence_(std::move(fence)) {}

Result<RecordPtr> FencedStore::create(const std::string& kind, Json object) {
  return store_.create_with(kind, std::move(object), &fence_);
}
Result<RecordPtr> FencedStore::update(const std::string& kind, Json object) {
  return store_.update_with(kind, std::move(object), UpdatePart::kSpec, &fence_);
}
Result<RecordPtr> FencedStore::update_status(const std::string& kind, Json object) {
  return store_.update_with(kind, std::move(object), UpdatePart::kStatus, &fence_);
}
std::vector<Result<RecordPtr>> FencedStore::write_batch(std::vector<BatchWrite> writes) {
  return store_.write_batch_with(std::move(writes), &fence_);
}
Result<RecordPtr> FencedStore::remove(const std::string& kind, const std::string& name,
                                      const Preconditions& preconditions) {
  return store_.remove_with(kind, name, preconditions, &fence_);
}

}  // namespace

Result<std::unique_ptr<EtcdStore>> open_etcd_store(const EtcdStoreOptions& options,
                                                   const Clock& clock, StoreOptions store_options) {
  if (options.endpoints.empty())
    return make_error(ErrorCode::kBadRequest, "--etcd-endpoints: at least one endpoint");
  auto store = std::make_unique<EtcdStoreImpl>(options, clock, std::move(store_options));
  if (auto started = store->start(); !started) return started.take_error();
  return std::unique_ptr<EtcdStore>(std::move(store));
}

}  // namespace corral::store
