// CachedStore: every Store semantic, implemented once, over a Persistence.
//
// Reads are served from an in-memory index and never touch disk. Writes are
// checked and stamped under one mutex, queued, and made durable by a single
// committer thread that takes every queued write as one batch (group commit);
// only after the batch is durable is it published to the read index and the
// watchers, and are its writers acknowledged. See README.md for the picture.
#pragma once

#include <memory>

#include "controller/store/persistence.h"
#include "controller/store/store.h"

namespace corral::store {

// Loads everything from `persistence` and starts the committer thread.
// `clock` must outlive the store. Errors: whatever load() returns, or
// Internal if a stored object does not parse.
Result<std::unique_ptr<Store>> open_cached_store(std::unique_ptr<Persistence> persistence,
                                                 const Clock& clock, StoreOptions options = {});

}  // namespace corral::store
