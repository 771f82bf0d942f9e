// The seam between the store's semantics (CachedStore) and where its state
// lives on disk. A Persistence is dumb on purpose: it loads everything once at
// open and durably writes batches; every Store semantic (revisions,
// preconditions, watches, cascades) is implemented once, above it.
// Cf. leveldb's Env: the core never touches files itself, so tests can wrap a
// real Persistence and inject faults.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "controller/store/store.h"

namespace corral::store {

// One row as stored.
struct StoredObject {
  std::string kind;
  std::string name;
  int64_t revision = 0;
  std::string json;  // compact JSON, metadata filled in
};

struct Loaded {
  std::vector<StoredObject> objects;
  int64_t revision = 0;  // the store revision of the last committed batch
};

// One write inside a batch: a put of `record`, or a delete of its key.
struct Mutation {
  RecordPtr record;  // for deletes: the last version (only kind and name matter)
  bool deleted = false;
};

// Writes in revision order; a later mutation of the same key wins.
struct Batch {
  std::vector<Mutation> mutations;
  int64_t revision = 0;  // the store revision after the batch
};

// Not thread-safe: the store calls load() once at open, then commit() from its
// one committer thread.
class Persistence {
 public:
  virtual ~Persistence() = default;
  // Every stored object and the last committed revision.
  // Errors: Unavailable naming the path.
  virtual Result<Loaded> load() = 0;
  // Durably writes the whole batch, or none of it.
  // Errors: Unavailable naming the path and the cause (e.g. disk full).
  virtual Result<void> commit(const Batch& batch) = 0;
};

// Keeps nothing: the store's own in-memory index is the only copy.
class MemoryPersistence final : public Persistence {
 public:
  Result<Loaded> load() override { return Loaded{}; }
  Result<void> commit(const Batch&) override { return Ok{}; }
};

}  // namespace corral::store
