// VmSetLoop: keeps each VMSet's VMs at spec.replicas — the wiring of
// reconcile::reconcile_vmset (see controller/reconcile/README.md).
//
//   dirty VMSets (changed, or owning a changed VM; all every resync_period)
//     ─► reconcile_vmset(set, its VMs, their nodes — with spread or
//        anti-affinity every node of its pool —, its pool, now, a seed drawn
//        from the loop's generator, itself seeded by VmSetLoopOptions::seed)
//     ─► create new VMs (POST; AlreadyExists → the set stays dirty, next pass
//        draws other names), delete the plan's VMs (worst first), write
//        VMSet.status when it changed — all writes of a pass concurrently,
//        each landed create/delete recording a Normal Event on the VMSet:
//        SuccessfulCreate "Created vm: web-x7k2p (scale-up 3 → 5)",
//        SuccessfulDelete "Deleted vm: web-b4n8q (scale-down 5 → 3: …)" —
//        keyed by the set (write_batch.h): a set whose write failed is
//        reconciled again when its back-off is due (5 ms doubling to 30 s),
//        not on every pass.
//
// A deleted VMSet needs nothing: the store deletes its VMs with it, in the same
// atomic write (ownerReferences cascade), so the loop never sees a set
// without its VMs being on their way out.
//
// Thread safety: one owner thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "controller/events/event_recorder.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/reconcile/vmset_reconcile.h"
#include "controller/store/store.h"

namespace corral::loops {

struct VmSetLoopOptions {
  reconcile::VmSetOptions reconcile;
  // Every VMSet is reconciled at least this often, dirty or not: its status
  // reads node availability, which changes without any VM changing.
  std::chrono::milliseconds resync_period{10'000};
  // Seeds the generator of new replicas' name seeds. 0 by default, so tests
  // are reproducible; controller/main.cpp draws one from std::random_device
  // at every start (names must differ between runs: a name a previous run
  // used may still exist).
  uint64_t seed = 0;
  WriteBatchOptions writes;  // back-off of failing writes
};

struct VmSetPassStats {
  size_t reconciled = 0;
  size_t created = 0;
  size_t deleted = 0;
  size_t status_writes = 0;
  size_t errors = 0;
};

class VmSetLoop {
 public:
  VmSetLoop(store::Store& store, ObjectCache& cache, events::EventRecorder& events,
            WriterPool& writers, const Clock& clock, VmSetLoopOptions options = {});

  void observe(const CacheDelta& delta);
  VmSetPassStats run_once();
  bool has_work() const { return !dirty_.empty(); }

 private:
  struct SetPlan {
    VMSet set;
    reconcile::VmSetPlan plan;
  };
  // reconcile_vmset for every dirty set (pure), which are then clean.
  std::vector<SetPlan> plan_dirty(VmSetPassStats& stats);
  // The writes a plan asks for, keyed by its set.
  // `sent` grows in step with `writes`: for a create, the VM as written
  // (normalized by the write), else null.
  void add_writes(const SetPlan& p, std::vector<KeyedWrite>& writes,
                  std::vector<std::shared_ptr<VM>>& sent);
  // Counts, cache write-through, and which sets to look at again when.
  // `sent`: the VM a create wrote (its typed write-through: no parse), or null.
  void note_outcome(const KeyedWrite& w, const std::string& set, VM* sent, VmSetPassStats& stats);

  store::Store& store_;
  ObjectCache& cache_;
  events::EventRecorder& events_;
  const Clock& clock_;
  const VmSetLoopOptions options_;
  WriteBatch writes_;
  std::mt19937_64 rng_;
  std::set<std::string> dirty_;
  // Sets whose writes failed (or wait out a back-off) → when to look again.
  std::map<std::string, std::chrono::steady_clock::time_point> retry_at_;
  std::chrono::steady_clock::time_point last_resync_{};
  bool resync_all_ = true;  // the first pass looks at every set
};

}  // namespace corral::loops
