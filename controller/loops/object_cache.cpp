#include "controller/loops/object_cache.h"

#include <algorithm>
#include <type_traits>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/scheduler/snapshot.h"

namespace corral::loops {
namespace {

using std::chrono::milliseconds;

// The kinds the loops read, as indexes into ObjectCache::seen_.
enum KindIndex { kNode = 0, kPool = 1, kVMSet = 2, kVM = 3, kBalancer = 4, kOther = -1 };

int kind_index(const std::string& kind) {
  if (kind == Node::kKind) return kNode;
  if (kind == Pool::kKind) return kPool;
  if (kind == VMSet::kKind) return kVMSet;
  if (kind == VM::kKind) return kVM;
  if (kind == Balancer::kKind) return kBalancer;
  return kOther;
}

// How long the pump waits for an event before checking whether to stop, and
// how many events it moves to the inbox at most per round.
constexpr milliseconds kPumpWait{100};
constexpr size_t kPumpBatch = 10'000;

}  // namespace

ObjectCache::ObjectCache(store::Store& store) : store_(store) {}

ObjectCache::~ObjectCache() { stop_pump(); }

Result<void> ObjectCache::start() {
  auto watch = store_.watch("", 0);
  if (!watch) return watch.take_error();
  watch_ = std::move(*watch);
  // The initial ADDED events are all queued at subscription: draining until
  // the watch has nothing more loads the whole current state.
  std::deque<Item> items;
  if (!read_watch(milliseconds(0), items, SIZE_MAX)) {
    return make_error(ErrorCode::kUnavailable, "object cache: the store's watch closed");
  }
  for (const Item& item : items) apply_item(item);
  logger("loops")->info("cache synced: {} nodes, {} pools, {} vmsets, {} vms", nodes_.size(),
                        pools_.size(), vmsets_.size(), vms_.size());
  return Ok{};
}

void ObjectCache::start_pump() {
  std::lock_guard lock(mu_);
  if (pumping_ || !watch_) return;
  pumping_ = true;
  stop_ = false;
  pump_ = std::thread([this] { pump_loop(); });
}

void ObjectCache::stop_pump() {
  {
    std::lock_guard lock(mu_);
    if (!pumping_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (pump_.joinable()) pump_.join();
  std::lock_guard lock(mu_);
  pumping_ = false;
}

void ObjectCache::pump_loop() {
  std::deque<Item> batch;
  while (!stop_) {
    batch.clear();
    if (!read_watch(kPumpWait, batch, kPumpBatch)) {
      logger("loops")->error("cache: watch ended; the loops see no more changes");
      break;
    }
    if (batch.empty()) continue;
    {
      std::lock_guard lock(mu_);
      for (Item& item : batch) inbox_.push_back(std::move(item));
    }
    cv_.notify_all();
  }
}

bool ObjectCache::wait_for_events(milliseconds timeout) {
  std::unique_lock lock(mu_);
  if (!pumping_) return false;
  cv_.wait_for(lock, timeout, [&] { return !inbox_.empty() || stop_; });
  return !inbox_.empty();
}

bool ObjectCache::read_watch(milliseconds timeout, std::deque<Item>& out, size_t max_events) {
  if (!watch_) return false;
  for (size_t n = 0; n < max_events; ++n) {
    auto next = watch_->next(n == 0 ? timeout : milliseconds(0));
    if (!next) {
      if (next.error().code != ErrorCode::kGone) {
        logger("loops")->warn("cache: watch failed: {}", next.error().message);
        return false;
      }
      logger("loops")->warn("cache: {}; re-listing", next.error().message);
      return rewatch(out);
    }
    if (!next->has_value()) return true;
    out.push_back(Item{Item::Type::kEvent, std::move(**next)});
  }
  return true;
}

bool ObjectCache::rewatch(std::deque<Item>& out) {
  // A fresh watch from 0 starts with an ADDED per current object; whatever the
  // cache holds that this snapshot lacks was deleted while we were not looking.
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto watch = store_.watch("", 0);
    if (!watch) {
      logger("loops")->error("cache: cannot re-watch: {}", watch.error().message);
      return false;
    }
    watch_ = std::move(*watch);
    std::deque<Item> snapshot;
    snapshot.push_back(Item{Item::Type::kResyncBegin, {}});
    bool gone = false;
    for (;;) {
      auto next = watch_->next(milliseconds(0));
      if (!next) {
        gone = next.error().code == ErrorCode::kGone;
        if (!gone) return false;
        break;
      }
      if (!next->has_value()) break;
      snapshot.push_back(Item{Item::Type::kEvent, std::move(**next)});
    }
    if (gone) continue;
    snapshot.push_back(Item{Item::Type::kResyncEnd, {}});
    for (Item& item : snapshot) out.push_back(std::move(item));
    return true;
  }
  return false;
}

CacheDelta ObjectCache::sync() {
  std::deque<Item> items;
  bool pumping = false;
  {
    std::lock_guard lock(mu_);
    pumping = pumping_;
    items.swap(inbox_);
  }
  if (!pumping) read_watch(milliseconds(0), items, SIZE_MAX);
  for (const Item& item : items) apply_item(item);
  CacheDelta out = std::move(delta_);
  delta_ = CacheDelta{};
  return out;
}

void ObjectCache::apply_item(const Item& item) {
  switch (item.type) {
    case Item::Type::kResyncBegin:
      resyncing_ = true;
      for (auto& s : seen_) s.clear();
      return;
    case Item::Type::kResyncEnd:
      finish_resync();
      return;
    case Item::Type::kEvent:
      apply_event(item.event);
      return;
  }
}

void ObjectCache::finish_resync() {
  auto drop_unseen = [&](auto& table, int k, std::unordered_set<std::string>& changed) {
    for (const std::string& name : table.names()) {
      if (seen_[k].count(name)) continue;
      if constexpr (std::is_same_v<std::decay_t<decltype(table)>, ObjectTable<VM>>) {
        VM old;
        if (table.remove(name, &old)) {
          index_vm(old, false);
          note_vm_owner(old);
        }
      } else {
        table.remove(name);
      }
      changed.insert(name);
    }
  };
  drop_unseen(nodes_, kNode, delta_.nodes);
  drop_unseen(pools_, kPool, delta_.pools);
  drop_unseen(vmsets_, kVMSet, delta_.vmsets);
  drop_unseen(vms_, kVM, delta_.vms);
  drop_unseen(balancers_, kBalancer, delta_.balancers);
  resyncing_ = false;
  for (auto& s : seen_) s.clear();
  delta_.resynced = true;
}

void ObjectCache::apply_event(const store::WatchEvent& e) {
  if (!e.object) return;
  const int k = kind_index(e.object->kind);
  if (k == kOther) return;
  ++events_applied_;
  const std::string& name = e.object->name;
  if (resyncing_) seen_[k].insert(name);
  if (e.type == store::WatchEvent::Type::kDeleted) {
    apply_deleted(e.object->kind, name, e.revision);
    return;
  }
  apply(e.object);
}

template <class T>
void ObjectCache::upsert_typed(ObjectTable<T>& table, const store::RecordPtr& record) {
  // The cache only moves forward: an echo of a write already applied, or an
  // event older than a re-read, changes nothing.
  if (table.revision(record->name) >= record->revision) return;
  auto typed = from_json<T>(record->parse());
  if (!typed) {
    logger("loops")->error("cache: {}/{} does not decode: {}", record->kind, record->name,
                           typed.error().to_string());
    return;
  }
  if constexpr (std::is_same_v<T, VM>) {
    apply_vm(std::move(*typed), record->revision);
  } else {
    table.upsert(std::move(*typed), record->revision);
  }
}

void ObjectCache::apply(const store::RecordPtr& record) {
  if (!record) return;
  switch (kind_index(record->kind)) {
    case kNode:
      upsert_typed(nodes_, record);
      delta_.nodes.insert(record->name);
      return;
    case kPool:
      upsert_typed(pools_, record);
      delta_.pools.insert(record->name);
      return;
    case kVMSet:
      upsert_typed(vmsets_, record);
      delta_.vmsets.insert(record->name);
      return;
    case kVM:
      upsert_typed(vms_, record);
      return;
    case kBalancer:
      upsert_typed(balancers_, record);
      delta_.balancers.insert(record->name);
      return;
    default:
      return;
  }
}

void ObjectCache::apply_vm(VM vm, int64_t revision) {
  const std::string name = vm.metadata.name;
  if (vms_.revision(name) >= revision) return;
  vm.metadata.resourceVersion = std::to_string(revision);
  if (const VM* old = vms_.find(name)) {
    index_vm(*old, false);
    note_vm_owner(*old);
  }
  index_vm(vm, true);
  note_vm_owner(vm);
  vms_.upsert(std::move(vm), revision);
  delta_.vms.insert(name);
}

void ObjectCache::apply_created_vm(VM vm, const store::Record& created) {
  vm.metadata.uid = created.uid;
  vm.metadata.creationTimestamp = created.created;
  vm.metadata.generation = created.generation;
  apply_vm(std::move(vm), created.revision);
}

void ObjectCache::apply_deleted(const std::string& kind, const std::string& name,
                                int64_t revision) {
  auto drop = [&](auto& table, std::unordered_set<std::string>& changed) {
    if (!table.find(name) || table.revision(name) >= revision) return;
    table.remove(name);
    changed.insert(name);
  };
  switch (kind_index(kind)) {
    case kNode:
      drop(nodes_, delta_.nodes);
      return;
    case kPool:
      drop(pools_, delta_.pools);
      return;
    case kVMSet:
      drop(vmsets_, delta_.vmsets);
      return;
    case kVM: {
      if (!vms_.find(name) || vms_.revision(name) >= revision) return;
      VM old;
      vms_.remove(name, &old);
      index_vm(old, false);
      note_vm_owner(old);
      delta_.vms.insert(name);
      return;
    }
    case kBalancer:
      drop(balancers_, delta_.balancers);
      return;
    default:
      return;
  }
}

void ObjectCache::index_vm(const VM& vm, bool add) {
  const std::string& name = vm.metadata.name;
  for (const OwnerReference& ref : vm.metadata.ownerReferences) {
    if (!ref.controller || ref.kind != VMSet::kKind || ref.uid.empty()) continue;
    if (add) {
      vms_by_owner_uid_[ref.uid].insert(name);
    } else if (auto it = vms_by_owner_uid_.find(ref.uid); it != vms_by_owner_uid_.end()) {
      it->second.erase(name);
      if (it->second.empty()) vms_by_owner_uid_.erase(it);
    }
  }
  if (add) {
    vm_names_.insert(name);
  } else {
    vm_names_.erase(name);
  }
}

void ObjectCache::note_vm_owner(const VM& vm) {
  std::string owner = scheduler::owning_vmset(vm);
  if (!owner.empty()) delta_.vm_owners.insert(std::move(owner));
}

std::vector<const VM*> ObjectCache::vms_for_vmset(const VMSet& set) const {
  // Two sorted name ranges — the VMs it owns and those named "<set>-…" —
  // merged in name order without duplicates: linear, nothing copied but
  // pointers (a set of 10,000 replicas is read on every pass that changed one).
  static const std::set<std::string> kNone;
  auto owned_it = vms_by_owner_uid_.find(set.metadata.uid);
  const std::set<std::string>& owned = owned_it == vms_by_owner_uid_.end() ? kNone : owned_it->second;
  const std::string prefix = set.metadata.name + "-";
  auto a = owned.begin();
  auto b = vm_names_.lower_bound(prefix);
  auto b_in_range = [&] { return b != vm_names_.end() && b->compare(0, prefix.size(), prefix) == 0; };
  std::vector<const VM*> out;
  out.reserve(owned.size());
  auto add = [&](const std::string& name) {
    if (const VM* vm = vms_.find(name)) out.push_back(vm);
  };
  while (a != owned.end() || b_in_range()) {
    if (!b_in_range() || (a != owned.end() && *a < *b)) {
      add(*a++);
    } else if (a == owned.end() || *b < *a) {
      add(*b++);
    } else {  // the same name in both
      add(*a++);
      ++b;
    }
  }
  return out;
}

std::vector<const VM*> ObjectCache::vms_by_name() const {
  std::vector<const VM*> out;
  out.reserve(vm_names_.size());
  for (const std::string& name : vm_names_)
    if (const VM* vm = vms_.find(name)) out.push_back(vm);
  return out;
}

}  // namespace corral::loops
