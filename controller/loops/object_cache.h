// ObjectCache: the control loops' view of the store — Nodes, Pools, VMSets,
// VMs and Balancers, typed and by name — fed by one watch of every kind (client-go's
// informer, in one object).
//
//   store.watch("", 0) ──► [pump thread] ──► inbox ──► sync() ──► typed tables
//        │ Gone                                            └──► CacheDelta (what changed)
//        └──► re-watch from 0, drop what the new snapshot no longer has
//
// Reads never go to the store. sync() applies what has arrived without
// blocking and returns what changed, so each loop does incremental work and a
// test drives everything deterministically (no pump thread: sync() reads the
// watch itself).
//
// Why a pump thread in production: the store closes a watch that lags more
// than StoreOptions::watch_buffer events behind (Gone), and one scheduler
// pass binding 10,000 VMs produces 20,000 events while the owner thread is
// busy writing. The pump moves events into an unbounded inbox as they come.
//
// Write-through: a loop that has just written an object hands the store's
// answer to apply() so the next pass sees it at once; when the watch echoes
// that revision later it is skipped (the cache only moves forward, per object,
// by revision).
//
// Sizes: 100k VMs and 5k nodes — tables are dense vectors plus hash indexes;
// per VMSet, the VMs it owns are indexed by the owner's uid.
//
// Thread safety: one owner thread calls everything but wait_for_events(), which
// any thread may call. The pump thread only touches the watch and the inbox.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/error.h"
#include "api/types.h"
#include "controller/loops/object_table.h"
#include "controller/store/store.h"

namespace corral::loops {

// Names of the objects added, modified or deleted since the last sync().
struct CacheDelta {
  std::unordered_set<std::string> nodes;
  std::unordered_set<std::string> pools;
  std::unordered_set<std::string> vmsets;
  std::unordered_set<std::string> vms;
  std::unordered_set<std::string> balancers;
  // VMSets (by name) that owned a changed VM, before or after the change.
  std::unordered_set<std::string> vm_owners;
  // The cache was rebuilt from a new snapshot (after Gone): treat everything as changed.
  bool resynced = false;

  bool empty() const {
    return nodes.empty() && pools.empty() && vmsets.empty() && vms.empty() && balancers.empty() &&
           !resynced;
  }
};

class ObjectCache {
 public:
  explicit ObjectCache(store::Store& store);
  ~ObjectCache();
  ObjectCache(const ObjectCache&) = delete;
  ObjectCache& operator=(const ObjectCache&) = delete;

  // Opens the watch and applies the current state of the store (the watch's
  // initial ADDED events): after it returns the cache is synced. The delta of
  // that first load is returned by the next sync(). REQUIRES: called once.
  Result<void> start();
  // Starts / stops the pump thread (see the file comment). Idempotent.
  void start_pump();
  void stop_pump();

  // Applies every event received so far, without blocking, and returns what
  // changed since the previous sync() (including write-through applies).
  CacheDelta sync();
  // Waits up to `timeout` until events are pending or stop_pump(). True when
  // some are. Thread-safe. Without a pump it returns at once (false).
  bool wait_for_events(std::chrono::milliseconds timeout);

  // Write-through of a record the store returned for a create or update.
  void apply(const store::RecordPtr& record);
  // The same, typed: `vm` as written, at `revision` (saves a parse).
  void apply_vm(VM vm, int64_t revision);
  // Write-through of a VM this controller created: `vm` as it was sent
  // (normalize_typed_in_place), completed with what the store set on create
  // (uid, creationTimestamp, generation, resourceVersion) — no parse.
  void apply_created_vm(VM vm, const store::Record& created);
  // Write-through of a delete (the store's answer carries the delete revision).
  void apply_deleted(const std::string& kind, const std::string& name, int64_t revision);

  const ObjectTable<Node>& nodes() const { return nodes_; }
  const ObjectTable<Pool>& pools() const { return pools_; }
  const ObjectTable<VMSet>& vmsets() const { return vmsets_; }
  const ObjectTable<VM>& vms() const { return vms_; }
  const ObjectTable<Balancer>& balancers() const { return balancers_; }
  const Node* node(const std::string& name) const { return nodes_.find(name); }
  const VM* vm(const std::string& name) const { return vms_.find(name); }
  const VMSet* vmset(const std::string& name) const { return vmsets_.find(name); }

  // What reconcile_vmset needs of `set`: the VMs it owns (controller
  // ownerReference to its uid) and every VM whose name starts with
  // "<set>-", the only names a new replica could collide with. Sorted by name.
  std::vector<const VM*> vms_for_vmset(const VMSet& set) const;
  // Every VM, in name order (the names are kept sorted: no sort per call).
  std::vector<const VM*> vms_by_name() const;

  // Events applied since start (metrics, tests).
  uint64_t events_applied() const { return events_applied_; }

 private:
  struct Item {
    enum class Type { kEvent, kResyncBegin, kResyncEnd };
    Type type = Type::kEvent;
    store::WatchEvent event;
  };

  // Reads the watch into `out`: waits up to `timeout` for the first event,
  // then takes what is there, up to `max_events`. On Gone re-watches from 0
  // and brackets the new snapshot with resync markers. False when the watch
  // cannot go on (the store shut down).
  bool read_watch(std::chrono::milliseconds timeout, std::deque<Item>& out, size_t max_events);
  bool rewatch(std::deque<Item>& out);
  void pump_loop();
  void apply_item(const Item& item);
  void apply_event(const store::WatchEvent& e);
  template <class T>
  void upsert_typed(ObjectTable<T>& table, const store::RecordPtr& record);
  void index_vm(const VM& vm, bool add);
  void note_vm_owner(const VM& vm);
  void finish_resync();

  store::Store& store_;
  std::unique_ptr<store::Watch> watch_;  // the pump thread's while it runs, else the owner's

  ObjectTable<Node> nodes_;
  ObjectTable<Pool> pools_;
  ObjectTable<VMSet> vmsets_;
  ObjectTable<VM> vms_;
  ObjectTable<Balancer> balancers_;
  std::unordered_map<std::string, std::set<std::string>> vms_by_owner_uid_;
  std::set<std::string> vm_names_;  // sorted: the prefix lookup of vms_for_vmset
  CacheDelta delta_;                // since the last sync()
  bool resyncing_ = false;
  std::unordered_set<std::string> seen_[5];  // during a resync, per kind: names in the new snapshot
  uint64_t events_applied_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> inbox_;  // guarded by mu_
  bool pumping_ = false;    // guarded by mu_
  std::atomic<bool> stop_{false};
  std::thread pump_;
};

}  // namespace corral::loops
