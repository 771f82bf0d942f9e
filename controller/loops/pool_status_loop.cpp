#include "controller/loops/pool_status_loop.h"

#include <vector>

#include "controller/loops/status_update.h"
#include "controller/reconcile/pool_status.h"

namespace corral::loops {

PoolStatusLoop::PoolStatusLoop(store::Store& store, ObjectCache& cache, WriterPool& writers,
                               const Clock& clock, WriteBatchOptions writes)
    : store_(store), cache_(cache), writes_(writers, clock, "loops", std::move(writes)) {}

void PoolStatusLoop::observe(const CacheDelta& delta) {
  for (const std::string& name : delta.pools) {
    const Pool* p = cache_.pools().find(name);
    // Our own status writes come back too; only a spec we have not reported on is urgent.
    if (p && p->status.observedGeneration != p->metadata.generation) urgent_ = true;
  }
}

PoolStatusPassStats PoolStatusLoop::run_once() {
  PoolStatusPassStats stats;
  urgent_ = false;
  std::vector<KeyedWrite> writes;
  for (const Pool& pool : cache_.pools().items()) {
    ++stats.pools;
    PoolStatus st =
        reconcile::compute_pool_status(pool, cache_.nodes().items(), cache_.vms().items());
    if (same_json(st, pool.status)) continue;
    KeyedWrite w;
    w.key = w.what = "pool/" + pool.metadata.name + " status";
    w.write = [this, pool, st = std::move(st)] {
      return update_status_rmw<Pool>(store_, pool, [&](Pool& p) {
        // compute_pool_status copies the conditions it was given: keep the
        // fresh copy's, and observe the generation the status was computed for.
        PoolStatus next = st;
        next.conditions = p.status.conditions;
        next.observedGeneration = pool.metadata.generation;
        p.status = std::move(next);
        return true;
      });
    };
    writes.push_back(std::move(w));
  }
  // Every pool was looked at: a pool not written needs nothing any more.
  writes_.run(writes, WriteBatch::Unlisted::kForget);
  for (const KeyedWrite& w : writes) {
    if (w.outcome == WriteOutcome::kFailed) ++stats.errors;
    if (w.outcome != WriteOutcome::kWritten || !w.record) continue;
    ++stats.writes;
    cache_.apply(w.record);
  }
  return stats;
}

}  // namespace corral::loops
