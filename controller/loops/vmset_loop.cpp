#include "controller/loops/vmset_loop.h"

#include <string_view>
#include <unordered_set>

#include "api/json.h"
#include "api/kinds.h"
#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/reconcile/common.h"

namespace corral::loops {
namespace {

std::string key_of(const std::string& set) { return "vmset/" + set; }

}  // namespace

VmSetLoop::VmSetLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
                     WriterPool& writers, const Clock& clock, VmSetLoopOptions options)
    : store_(store),
      cache_(cache),
      events_(events),
      clock_(clock),
      options_(std::move(options)),
      writes_(writers, clock, "vmset", options_.writes),
      rng_(options_.seed),
      last_resync_(clock.steady_now()) {}

void VmSetLoop::observe(const CacheDelta& delta) {
  if (delta.resynced) resync_all_ = true;
  for (const std::string& name : delta.vmsets) dirty_.insert(name);
  for (const std::string& name : delta.vm_owners) dirty_.insert(name);
}

VmSetPassStats VmSetLoop::run_once() {
  VmSetPassStats stats;
  const auto now = clock_.steady_now();
  bool every_set = false;
  if (resync_all_ || now - last_resync_ >= options_.resync_period) {
    for (const VMSet& set : cache_.vmsets().items()) dirty_.insert(set.metadata.name);
    last_resync_ = now;
    resync_all_ = false;
    every_set = true;
  }
  // Sets whose failed writes are due again.
  for (auto it = retry_at_.begin(); it != retry_at_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    dirty_.insert(it->first);
    it = retry_at_.erase(it);
  }
  if (dirty_.empty()) return stats;

  // Plan every dirty set first (pure), then write everything at once.
  const std::vector<SetPlan> plans = plan_dirty(stats);
  std::vector<KeyedWrite> writes;
  std::vector<std::string> set_of;          // writes[i] is about set_of[i]
  std::vector<std::shared_ptr<VM>> sent;    // writes[i] created sent[i] (or null)
  for (const SetPlan& p : plans) {
    const size_t before = writes.size();
    add_writes(p, writes, sent);
    set_of.resize(writes.size(), p.set.metadata.name);
    // A set that needs no write any more is not backing off either.
    if (writes.size() == before) writes_.forget(key_of(p.set.metadata.name));
  }
  writes_.run(writes, every_set ? WriteBatch::Unlisted::kForget : WriteBatch::Unlisted::kKeep,
              &store_);
  record_events(events_, writes_.writers(), landed_events(writes));
  for (size_t i = 0; i < writes.size(); ++i) note_outcome(writes[i], set_of[i], sent[i].get(), stats);
  return stats;
}

std::vector<VmSetLoop::SetPlan> VmSetLoop::plan_dirty(VmSetPassStats& stats) {
  std::vector<SetPlan> plans;
  for (const std::string& name : dirty_) {
    const VMSet* set = cache_.vmset(name);
    if (!set) {  // deleted: its VMs went with it
      writes_.forget(key_of(name));
      retry_at_.erase(name);
      continue;
    }
    // Its VMs plus the names a new replica could collide with, and only the
    // nodes those VMs are bound to: what reconcile_vmset reads, by pointer
    // into the cache (nothing is copied; the cache does not change while
    // the plans are made).
    reconcile::VmSetInput in;
    in.vms = cache_.vms_for_vmset(*set);
    std::unordered_set<std::string_view> node_names;
    for (const VM* vm : in.vms) {
      const std::string& n = vm->spec.nodeName;
      if (n.empty() || !node_names.insert(n).second) continue;
      if (const Node* node = cache_.node(n)) in.nodes.push_back(node);
    }
    // Spread and anti-affinity are judged over the pool's domains, also the
    // ones holding no replica (a zone emptied): those need every pool node.
    const Pool* pool = cache_.pools().find(set->spec.pool);
    if (pool && (set->spec.spread || set->spec.antiAffinity)) {
      for (const Node& node : cache_.nodes().items())
        if (reconcile::pool_selects(*pool, node) && node_names.insert(node.metadata.name).second)
          in.nodes.push_back(&node);
    }
    in.vmset = set;
    in.pool = pool;
    in.now = format_time(clock_.now());
    in.seed = rng_();
    plans.push_back(SetPlan{*set, reconcile::reconcile_vmset(in, options_.reconcile)});
    ++stats.reconciled;
  }
  dirty_.clear();
  return plans;
}

void VmSetLoop::add_writes(const SetPlan& p, std::vector<KeyedWrite>& writes,
                           std::vector<std::shared_ptr<VM>>& sent) {
  const std::string& name = p.set.metadata.name;
  auto log = logger("vmset");
  auto add = [&](std::string what, WriteOp op) -> KeyedWrite& {
    sent.emplace_back();
    KeyedWrite& w = writes.emplace_back();
    w.key = key_of(name);
    w.what = "vmset/" + name + ": " + std::move(what);
    w.op = op;
    return w;
  };
  // Events say what was done, once it was: recorded after the writes landed
  // (run_once), on the VMSet, naming the VM and why (Kubernetes' ReplicaSet
  // reasons).
  const ObjectReference set_ref{VMSet::kKind, name, p.set.metadata.uid};
  for (size_t i = 0; i < p.plan.create.size(); ++i) {
    const VM& vm = p.plan.create[i];
    const std::string why = i < p.plan.create_reasons.size() ? p.plan.create_reasons[i] : "";
    log->info("vmset/{}: creating vm/{} ({})", name, vm.metadata.name, why);
    KeyedWrite& w = add("create vm/" + vm.metadata.name, WriteOp::kCreate);
    // Kept as written, for the cache (note_outcome): a parse of what the
    // store answered would cost as much as the create itself.
    auto typed = std::make_shared<VM>(vm);
    sent.back() = typed;
    // One entry of a store batch (WriteBatch::run): one commit per 500 creates.
    w.batch_entry = [typed]() -> Result<store::BatchWrite> {
      auto normalized = normalize_typed_in_place(*typed);
      if (!normalized) return normalized.take_error();
      return store::BatchWrite{store::BatchWrite::Part::kCreate, VM::kKind, std::move(*normalized)};
    };
    w.event = events::EventWrite{set_ref, event_type::kNormal, "SuccessfulCreate",
                                 "Created vm: " + vm.metadata.name + " (" + why + ")", ""};
  }
  // Deletions in the plan's order (worst first); they run concurrently, so
  // the order decides which go first only when the pool is saturated.
  for (const reconcile::VmDeletion& del : p.plan.remove) {
    log->info("vmset/{}: deleting vm/{} ({})", name, del.vm, del.reason);
    const VM* vm = cache_.vm(del.vm);
    store::Preconditions pre{vm ? vm->metadata.uid : std::string(), ""};
    KeyedWrite& w = add("delete vm/" + del.vm, WriteOp::kDelete);
    w.write = [this, vm_name = del.vm, pre] { return store_.remove(VM::kKind, vm_name, pre); };
    w.event = events::EventWrite{set_ref, event_type::kNormal, "SuccessfulDelete",
                                 "Deleted vm: " + del.vm + " (" + del.reason + ")", ""};
  }
  if (!same_json(p.plan.status, p.set.status)) {
    add("status", WriteOp::kUpdate).write = [this, set = p.set, status = p.plan.status] {
      return update_status_rmw<VMSet>(store_, set, [&](VMSet& s) {
        s.status = status;
        return true;
      });
    };
  }
}

void VmSetLoop::note_outcome(const KeyedWrite& w, const std::string& set, VM* sent,
                             VmSetPassStats& stats) {
  switch (w.outcome) {
    case WriteOutcome::kGone:
      return;  // a delete found it already gone
    case WriteOutcome::kRetry:
      // A name taken meanwhile (AlreadyExists) or a Conflict: the set is
      // reconciled again next pass, with new names and fresh copies.
      dirty_.insert(set);
      return;
    case WriteOutcome::kFailed:
      ++stats.errors;
      [[fallthrough]];
    case WriteOutcome::kDeferred:
      if (auto due = writes_.due_at(w.key)) retry_at_[set] = *due;
      return;
    case WriteOutcome::kWritten:
      break;
  }
  const store::RecordPtr& r = w.record;
  if (w.op == WriteOp::kDelete) {
    ++stats.deleted;
    if (r) cache_.apply_deleted(VM::kKind, r->name, r->revision);
    return;
  }
  if (w.op == WriteOp::kCreate) ++stats.created;
  if (w.op == WriteOp::kUpdate && r) ++stats.status_writes;
  if (r && w.op == WriteOp::kCreate && sent) {
    cache_.apply_created_vm(std::move(*sent), *r);
  } else if (r) {
    cache_.apply(r);
  }
}

}  // namespace corral::loops
