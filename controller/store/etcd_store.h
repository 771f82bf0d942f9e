// The etcd backend of the Store (store.h): `corral-controller --store etcd`.
// Several controllers share one etcd cluster; each keeps this store.
//
//   writes ──► one etcd transaction each, compare-and-swap on the key's
//              mod_revision (create: the key must be absent); etcd's revision
//              is the resourceVersion, so the value is stored without it and
//              stamped from mod_revision when read
//   etcd ──► watch on <prefix>/objects/ (the feed) ──► PublishedView ──► get,
//              list, watch (served from memory, as with SQLite)
//   a write returns once the feed has published its revision: acknowledged
//   means visible on this controller, as the other backends promise.
//
// Rules the transactions keep (ARCHITECTURE.md, "etcd and several controllers"):
//  - update without a resourceVersion: read-modify-CAS, retried on a lost race
//    against the authoritative value the failed transaction returned
//    (Kubernetes' GuaranteedUpdate); with one: Conflict when etcd's version
//    differs — never judged against a cache that may trail.
//  - remove: the named object first, then its dependents breadth-first, one
//    transaction each (each DELETED event has its own revision). A controller
//    that dies mid-cascade leaves dependents whose owner is gone; the
//    leader's orphan sweep deletes them.
//  - write_batch: one transaction per entry, in entry order (one transaction
//    would give every entry the same revision).
//  - the feed restarts from the last published revision + 1 when its stream
//    breaks; when that revision was compacted away it re-lists and closes
//    every watch with Gone (clients re-list, as after a Kubernetes relist).
//  - fenced(): a view whose writes carry an extra compare in the same
//    transaction (the leader key's create_revision): a deposed leader's
//    writes fail, whatever it believes.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "controller/store/etcd/etcd_types.h"
#include "controller/store/store.h"

namespace corral::etcd {
class EtcdClient;
}

namespace corral::store {

struct EtcdStoreOptions {
  std::vector<std::string> endpoints;  // "http://host:port" of each member
  // Objects live under <prefix>/objects/<Kind>/<name>; several clusters (or
  // tests) may share one etcd under different prefixes.
  std::string prefix = "/corral";
  std::chrono::milliseconds connect_timeout{1'000};
  std::chrono::milliseconds request_timeout{5'000};
  int64_t list_page = 1'000;  // keys per range while loading
  // The feed's stream with no byte for this long is restarted on the next
  // member: a member that froze (SIGSTOP, a stalled VM) keeps its TCP
  // connection open and would otherwise hold the feed forever. In a quiet
  // cluster the feed restarts this often, at the cost of one watch create.
  // 0: never.
  std::chrono::milliseconds feed_idle_timeout{30'000};
  // Every etcd call's operation, duration and error (EtcdOptions::observer).
  std::function<void(const char* operation, std::chrono::nanoseconds took, const Error* error)>
      observer;
};

// The compare a fenced write adds to its transaction, or nullopt when the
// writer may not write now (it does not lead): the write fails at once.
using FenceSource = std::function<std::optional<etcd::Compare>()>;

class EtcdStore : public Store {
 public:
  // A view of this store whose writes land only while `fence` holds, checked
  // by etcd in the write's own transaction. Reads and watches are this
  // store's. A write whose fence fails: Unavailable "not the leader".
  virtual std::unique_ptr<Store> fenced(FenceSource fence) = 0;
  // The store's etcd client (the leader election shares it).
  virtual etcd::EtcdClient& client() = 0;
  // Discards etcd's history before `revision` (the leader compacts, as
  // kube-apiserver does). Watches of this store are unaffected: they are
  // served from the published history.
  virtual Result<void> compact(int64_t revision) = 0;
  // Deletes (fenced, with their own dependents) the objects whose every
  // owner is gone — what a cascade cut short (its controller died, etcd
  // failed) leaves behind. An owner missing from the cache is looked up in
  // etcd before its dependents go, so a cache that trails deletes nothing
  // alive. The number deleted.
  virtual Result<size_t> remove_orphans(const FenceSource& fence) = 0;
};

// Loads every object (a paginated range at one revision) and starts the feed
// from the revision after it. Errors: Unavailable when no endpoint answers.
Result<std::unique_ptr<EtcdStore>> open_etcd_store(const EtcdStoreOptions& options,
                                                   const Clock& clock,
                                                   StoreOptions store_options = {});

}  // namespace corral::store
