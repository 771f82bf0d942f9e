#include "controller/loops/pool_status_loop.h"

#include <functional>
#include <vector>

#include "base/log.h"
#include "controller/loops/status_update.h"
#include "controller/reconcile/pool_status.h"

namespace corral::loops {

PoolStatusLoop::PoolStatusLoop(store::Store& store, ObjectCache& cache, WriterPool& writers)
    : store_(store), cache_(cache), writers_(writers) {}

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
  struct Write {
    Pool pool;
    PoolStatus status;
    Result<store::RecordPtr> result = store::RecordPtr{};
  };
  std::vector<Write> writes;
  for (const Pool& pool : cache_.pools().items()) {
    ++stats.pools;
    PoolStatus st =
        reconcile::compute_pool_status(pool, cache_.nodes().items(), cache_.vms().items());
    if (same_json(st, pool.status)) continue;
    writes.push_back(Write{pool, std::move(st)});
  }
  std::vector<std::function<void()>> fns;
  for (Write& w : writes) {
    fns.push_back([this, &w] {
      w.result = update_status_rmw<Pool>(store_, w.pool, [&](Pool& p) {
        // compute_pool_status copies the conditions it was given: keep the
        // fresh copy's, and observe the generation the status was computed for.
        PoolStatus st = w.status;
        st.conditions = p.status.conditions;
        st.observedGeneration = w.pool.metadata.generation;
        p.status = std::move(st);
        return true;
      });
    });
  }
  writers_.run_all(std::move(fns));
  for (Write& w : writes) {
    if (!w.result) {
      ++stats.errors;
      logger("loops")->warn("pool/{} status: {}", w.pool.metadata.name, w.result.error().message);
      continue;
    }
    if (*w.result) {
      ++stats.writes;
      cache_.apply(*w.result);
    }
  }
  return stats;
}

}  // namespace corral::loops
