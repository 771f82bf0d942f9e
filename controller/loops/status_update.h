// Read-modify-write of an object's status with optimistic concurrency — the
// one way every loop writes status (convention 12).
//
// `mutate` edits a copy of the object; the write carries the copy's
// resourceVersion, so a concurrent writer (the heartbeat service persisting a
// Node, an agent reporting a VM) is never overwritten: on Conflict the object
// is re-read from the store and `mutate` runs again on the fresh copy. A loop
// changes only the fields it owns, so re-applying its edit is always right.
#pragma once

#include <functional>
#include <string>

#include "api/json.h"
#include "base/error.h"
#include "api/kinds.h"
#include "controller/store/store.h"

namespace corral::loops {

// Conflicts retried before giving up until the next pass.
inline constexpr int kStatusWriteAttempts = 5;

// Returns the stored record, or a null RecordPtr when `mutate` returned false
// (on the fresh copy: nothing to do any more) or the edit changed nothing.
// `written` (optional) receives the object as stored, typed, so the caller can
// write it through to the cache without parsing the record.
// Errors: the store's (NotFound when the object is gone; Conflict after
// `attempts` conflicts).
template <class T>
Result<store::RecordPtr> update_status_rmw(store::Store& store, T object,
                                           const std::function<bool(T&)>& mutate,
                                           T* written = nullptr,
                                           int attempts = kStatusWriteAttempts) {
  for (int attempt = 0;; ++attempt) {
    const auto before = object.status;
    if (!mutate(object)) return store::RecordPtr{};
    if (same_json(object.status, before)) return store::RecordPtr{};
    auto stored = store.update_status(T::kKind, to_json(object));
    if (stored) {
      if (written) {
        object.metadata.resourceVersion = std::to_string((*stored)->revision);
        *written = std::move(object);
      }
      return std::move(*stored);
    }
    if (stored.error().code != ErrorCode::kConflict || attempt + 1 >= attempts) {
      return stored.take_error();
    }
    auto fresh = store.get(T::kKind, object.metadata.name);
    if (!fresh) return fresh.take_error();
    auto typed = from_json<T>((*fresh)->parse());
    if (!typed) return typed.take_error();
    object = std::move(*typed);
  }
}

}  // namespace corral::loops
