// PoolStatusLoop: writes each Pool's status — capacity V, allocated, used,
// load L and spread, tolerable failures — from reconcile::compute_pool_status,
// when it changed. It scans every node and VM per pool (O(P × (N + V))), so it
// runs on a period (1 s by default), not per event; a new or changed Pool
// spec is written on the next pass at once. A status write that fails backs
// off per pool (write_batch.h); a Conflict is simply recomputed next pass.
//
// Thread safety: one owner thread.
#pragma once

#include <string>

#include "base/clock.h"
#include "controller/loops/object_cache.h"
#include "controller/loops/write_batch.h"
#include "controller/loops/writer_pool.h"
#include "controller/store/store.h"

namespace corral::loops {

struct PoolStatusPassStats {
  size_t pools = 0;
  size_t writes = 0;
  size_t errors = 0;
};

class PoolStatusLoop {
 public:
  PoolStatusLoop(store::Store& store, ObjectCache& cache, WriterPool& writers, const Clock& clock,
                 WriteBatchOptions writes = {});

  void observe(const CacheDelta& delta);
  // True when a Pool was added or its spec changed since the last pass.
  bool urgent() const { return urgent_; }
  PoolStatusPassStats run_once();

 private:
  store::Store& store_;
  ObjectCache& cache_;
  WriteBatch writes_;
  bool urgent_ = true;
};

}  // namespace corral::loops
