// The Store: desired and observed state of every object, with one global,
// monotonically increasing revision (as in etcd) that is every object's
// metadata.resourceVersion. Shaped so that an etcd backend can implement the
// same interface: revisions map to etcd's mod_revision, watch-from-revision to
// etcd watches, history compaction to Gone.
//
// Semantics (the conformance suite in tests/unit/store_conformance_test.cpp
// checks each, on every backend):
//  - create: sets uid, creationTimestamp, generation=1, resourceVersion;
//    AlreadyExists if the name is taken.
//  - update: replaces everything but status; if metadata.resourceVersion is
//    set it must equal the stored one (else Conflict); generation +1 only when
//    the spec changed (for kinds without spec, everything but metadata);
//    an update that changes nothing writes nothing and returns the stored object.
//  - update_status: replaces only status, same precondition rule.
//  - write_batch: updates (status, or spec and status together) checked one
//    by one, committed together; a failed entry leaves the others alone.
//  - remove: deletes the object and, transitively, every object whose
//    ownerReferences name its uid, in one atomic write (each deleted object
//    gets its own revision, the named object the first, so every DELETED
//    event has a distinct resourceVersion).
//  - watch(kind, from): events with revision > from, in order. from == 0 means
//    "now", preceded by a synthetic ADDED for every current object (as
//    Kubernetes does). A `from` older than the kept history window → Gone.
//  - a write is acknowledged only once durable. A failed commit (full disk,
//    failed fsync) is fatal, as in etcd: the batch may already be in the
//    log, so the store cannot tell what a restart will find. It acknowledges
//    and publishes nothing more (pending and later writes: Unavailable;
//    healthy() turns false for good), calls StoreOptions::on_commit_failure,
//    and a restart recovers what is on disk. Reads keep answering from what
//    was published.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "api/json_fwd.h"
#include "api/selector.h"

namespace corral::store {

// One stored object version. Immutable once published; shared between the
// cache, watch history and readers.
struct Record {
  std::string kind;
  std::string name;
  std::string uid;
  int64_t revision = 0;     // resourceVersion: the revision of its last write
  int64_t generation = 0;
  std::string created;      // metadata.creationTimestamp (set by the store on create)
  Labels labels;
  std::vector<std::string> owner_uids;
  std::map<std::string, std::string> fields;  // selectable field path → value
  std::string json;         // the whole object, compact JSON, metadata filled in

  Json parse() const;       // json parsed; cannot fail for what the store wrote
};
using RecordPtr = std::shared_ptr<const Record>;

struct ListOptions {
  Selector labels;                        // empty: all
  std::vector<FieldRequirement> fields;   // empty: all
  // A page, in name order (?continue, ?limit): only names greater than
  // `after`, at most `limit` of them (0: all). The store walks its name
  // index from `after`, so a page costs its own items, not the kind's.
  std::string after;
  size_t limit = 0;
};

struct ListResult {
  std::vector<RecordPtr> items;           // sorted by name
  int64_t revision = 0;                   // the store revision the list was read at
  bool more = false;                      // `limit` cut it: records matching past the last remain
  size_t of_kind = 0;                     // records of the kind in all, matching or not
};

struct WatchEvent {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  RecordPtr object;                       // for kDeleted: the last version, revision = the delete's
  int64_t revision = 0;
};
const char* watch_event_type_name(WatchEvent::Type type);  // "ADDED", "MODIFIED", "DELETED"

class Watch {
 public:
  virtual ~Watch() = default;
  // Waits up to `timeout` for the next event; nullopt when none came.
  // Error Gone when this watcher fell further behind than its buffer allows
  // and was closed (the client re-lists, as with Kubernetes), or Unavailable
  // when the store shut down.
  virtual Result<std::optional<WatchEvent>> next(std::chrono::milliseconds timeout) = 0;
  // For a reader with no thread to spare (the API's watch streams, many on
  // one I/O thread): `ready` is called when next() has something to answer
  // (an event or an error) — at once if it has already, then each time
  // something comes after a next() answered nullopt. Edge-triggered: drain
  // with next(0) until it answers nullopt (or an error) before counting on
  // another call. Called on the publishing thread with the watch's lock
  // held, so it must be quick and must not call into this watch: post the
  // work elsewhere. Set once, before reading.
  virtual void on_ready(std::function<void()> ready) = 0;
  // A watch from revision 0 begins with the current objects as ADDED: how
  // many events that snapshot is, and the revision it is as of (what a
  // client resumes from). Zero events and revision 0 for other watches.
  struct Snapshot {
    size_t events = 0;
    int64_t revision = 0;
  };
  virtual Snapshot snapshot() const { return {}; }
};

struct Preconditions {
  std::string uid;                        // empty: any
  std::string resource_version;           // empty: any
};

// One entry of Store::write_batch: controller/store/batch_write.h.
struct BatchWrite;

// What the store reports when a commit fails: the last revision of the
// batch that failed, and the persistence's error (it names the file and the
// cause, e.g. "database or disk is full").
struct CommitFailure {
  int64_t revision = 0;
  Error error;
};

struct StoreOptions {
  size_t history_events = 100'000;        // watch history window, in events
  // ... and in bytes of the objects it holds (the version each event wrote
  // and the one it replaced): 100,000 events of large objects must not hold
  // gigabytes. A watch from a revision older than the window is Gone.
  size_t history_bytes = 256u << 20;
  size_t watch_buffer = 10'000;           // events a slow watcher may lag before it is closed
  // Group commit: when fewer writes are queued than the last batch held, the
  // committer waits up to this long for the writers it just acknowledged to
  // send their next write, so that they share one disk sync. 0: never wait.
  std::chrono::microseconds group_commit_wait{1000};
  // Called once, on the committer thread, when a commit failed: after the
  // store stopped taking writes, before the writers of that commit and of
  // every write queued behind it are answered (Unavailable). The
  // controller's handler (controller/store/fatal_commit.h) logs the reason
  // and exits the process, so that a restart recovers what is on disk; tests
  // record the call. Empty (the default): the store only logs, and stays
  // failed (read-only) until it is closed. It must not call into the store's
  // write methods (they would fail at once anyway).
  std::function<void(const CommitFailure&)> on_commit_failure;
  // A watch from a revision this store has not published yet: how long to
  // wait for it before answering "too large resource version". Only a store
  // fed by another (the etcd store's cache, which may trail the controller
  // the client listed from by a few milliseconds) can be behind; the
  // others hold every revision they handed out and answer at once.
  std::chrono::milliseconds future_revision_wait{3000};
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Result<RecordPtr> get(const std::string& kind, const std::string& name) = 0;
  // Errors: BadRequest for a field selector on a field the kind does not index.
  virtual Result<ListResult> list(const std::string& kind, const ListOptions& options) = 0;
  // `object` is a normalized object (api/kinds.h); the store fills metadata.
  virtual Result<RecordPtr> create(const std::string& kind, Json object) = 0;
  virtual Result<RecordPtr> update(const std::string& kind, Json object) = 0;
  virtual Result<RecordPtr> update_status(const std::string& kind, Json object) = 0;
  // Many updates with one durable commit. Each entry is checked on its own
  // (NotFound, Conflict) and sees the entries before it; one failing does not
  // fail the others, and all that pass share one commit. One result per
  // entry, in order; a failed commit fails every entry that had passed.
  virtual std::vector<Result<RecordPtr>> write_batch(std::vector<BatchWrite> writes) = 0;
  // Returns the deleted object (and its dependents were deleted with it).
  virtual Result<RecordPtr> remove(const std::string& kind, const std::string& name,
                                   const Preconditions& preconditions = {}) = 0;
  // kind "" watches every kind. From 0: the current objects as ADDED, then
  // changes; from N: every change after N. Errors: Gone when N is older than
  // the history kept, Timeout ("too large resource version") when N is newer
  // than revision().
  virtual Result<std::unique_ptr<Watch>> watch(const std::string& kind, int64_t from_revision,
                                               const ListOptions& filter = {}) = 0;
  // The revision of the last durable write.
  virtual int64_t revision() const = 0;
  // Ok while the store can take writes (readyz).
  virtual Result<void> healthy() const = 0;
  // Number of open watches (metrics).
  virtual size_t open_watches() const = 0;
};

// The in-memory backend: nothing survives the process. For unit tests.
std::unique_ptr<Store> open_memory_store(const Clock& clock, StoreOptions options = {});
// The SQLite backend (WAL, group commit): the default. Creates the file if
// missing. Errors: Unavailable naming the path and SQLite's message.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path, const Clock& clock,
                                                 StoreOptions options = {});

}  // namespace corral::store
