#include "controller/loops/vmset_loop.h"

#include <functional>
#include <unordered_set>
#include <vector>

#include "api/kinds.h"
#include "base/log.h"
#include "controller/loops/status_update.h"

namespace corral::loops {

VmSetLoop::VmSetLoop(store::Store& store, ObjectCache& cache, WriterPool& writers,
                     const Clock& clock, VmSetLoopOptions options)
    : store_(store),
      cache_(cache),
      writers_(writers),
      clock_(clock),
      options_(std::move(options)),
      rng_(std::random_device{}()),
      last_resync_(clock.steady_now()) {}

void VmSetLoop::observe(const CacheDelta& delta) {
  if (delta.resynced) resync_all_ = true;
  for (const std::string& name : delta.vmsets) dirty_.insert(name);
  for (const std::string& name : delta.vm_owners) dirty_.insert(name);
}

VmSetPassStats VmSetLoop::run_once() {
  VmSetPassStats stats;
  const auto now = clock_.steady_now();
  if (resync_all_ || now - last_resync_ >= options_.resync_period) {
    for (const VMSet& set : cache_.vmsets().items()) dirty_.insert(set.metadata.name);
    last_resync_ = now;
    resync_all_ = false;
  }
  if (dirty_.empty()) return stats;

  // Plan every dirty set first (pure), then write everything at once.
  struct Plan {
    VMSet set;
    reconcile::VmSetPlan plan;
  };
  std::vector<Plan> plans;
  for (const std::string& name : dirty_) {
    const VMSet* set = cache_.vmset(name);
    if (!set) continue;  // deleted: its VMs went with it
    // Its VMs plus the names a new replica could collide with, and only the
    // nodes those VMs are bound to: what reconcile_vmset reads, without a
    // copy of the whole cluster per set.
    std::vector<VM> vms;
    std::vector<Node> nodes;
    std::unordered_set<std::string> node_names;
    for (const VM* vm : cache_.vms_for_vmset(*set)) {
      vms.push_back(*vm);
      const std::string& n = vm->spec.nodeName;
      if (n.empty() || !node_names.insert(n).second) continue;
      if (const Node* node = cache_.node(n)) nodes.push_back(*node);
    }
    reconcile::VmSetInput in{set, &vms, &nodes, rng_()};
    plans.push_back(Plan{*set, reconcile::reconcile_vmset(in, options_.reconcile)});
    ++stats.reconciled;
  }
  dirty_.clear();

  struct Write {
    std::string set;
    std::string what;  // "create vm/x", "delete vm/x", "status"
    std::function<Result<store::RecordPtr>()> fn;
    Result<store::RecordPtr> result = store::RecordPtr{};
    bool is_delete = false;
    bool is_status = false;
  };
  std::vector<Write> writes;
  auto log = logger("vmset");
  for (Plan& p : plans) {
    const std::string& name = p.set.metadata.name;
    for (VM& vm : p.plan.create) {
      log->info("vmset/{}: creating vm/{}", name, vm.metadata.name);
      writes.push_back(Write{name, "create vm/" + vm.metadata.name,
                             [this, obj = to_json(vm)]() -> Result<store::RecordPtr> {
                               auto normalized = normalize_object(obj);
                               if (!normalized) return normalized.take_error();
                               return store_.create(VM::kKind, std::move(*normalized));
                             }});
    }
    // Deletions in the plan's order (worst first); they run concurrently, so
    // the order decides which go first only when the pool is saturated.
    for (const reconcile::VmDeletion& del : p.plan.remove) {
      log->info("vmset/{}: deleting vm/{} ({})", name, del.vm, del.reason);
      const VM* vm = cache_.vm(del.vm);
      store::Preconditions pre{vm ? vm->metadata.uid : std::string(), ""};
      Write w{name, "delete vm/" + del.vm,
              [this, vm_name = del.vm, pre] { return store_.remove(VM::kKind, vm_name, pre); }};
      w.is_delete = true;
      writes.push_back(std::move(w));
    }
    if (!same_json(p.plan.status, p.set.status)) {
      Write w{name, "status", [this, set = p.set, status = p.plan.status] {
                return update_status_rmw<VMSet>(store_, set, [&](VMSet& s) {
                  s.status = status;
                  return true;
                });
              }};
      w.is_status = true;
      writes.push_back(std::move(w));
    }
  }
  std::vector<std::function<void()>> fns;
  for (Write& w : writes) fns.push_back([&w] { w.result = w.fn(); });
  writers_.run_all(std::move(fns));

  for (Write& w : writes) {
    if (!w.result) {
      const ErrorCode code = w.result.error().code;
      if (w.is_delete && code == ErrorCode::kNotFound) continue;  // already gone
      // AlreadyExists (a name taken meanwhile), Conflict, store errors: the
      // set is reconciled again next pass, with new names.
      dirty_.insert(w.set);
      if (code != ErrorCode::kAlreadyExists) {
        ++stats.errors;
        log->warn("vmset/{}: {}: {}", w.set, w.what, w.result.error().message);
      }
      continue;
    }
    const store::RecordPtr& r = *w.result;
    if (w.is_delete) {
      ++stats.deleted;
      if (r) cache_.apply_deleted(VM::kKind, r->name, r->revision);
    } else {
      if (w.is_status) {
        if (r) ++stats.status_writes;
      } else {
        ++stats.created;
      }
      if (r) cache_.apply(r);
    }
  }
  return stats;
}

}  // namespace corral::loops
