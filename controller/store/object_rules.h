// What a write does to an object, whatever keeps it: the rules of the Store
// contract (store.h) as pure functions, so that every backend — CachedStore
// over SQLite or memory, and the etcd store, which checks its preconditions
// in etcd transactions instead of under a mutex — applies the same ones.
// Revisions are the caller's: these functions neither assign nor check one
// beyond a precondition's.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "api/json_fwd.h"
#include "base/clock.h"
#include "base/error.h"
#include "controller/store/store.h"

namespace corral::store {

// Which halves of an object an update replaces: the main path (spec and the
// rest, never status), /status (status only), or both (the scheduler's
// binding, BatchWrite::Part::kSpecAndStatus).
enum class UpdatePart { kSpec, kStatus, kSpecAndStatus };

// metadata.uid / resourceVersion as strings ("" when absent); a number is
// accepted for the latter.
std::string meta_string(const Json& object, const char* key);
// metadata.name. Errors: BadRequest when missing or empty.
Result<std::string> object_name(const Json& object);
// Errors: Conflict, in Kubernetes' words, when the uid or resourceVersion a
// client named is not the stored one.
Result<void> check_preconditions(const Record& stored, const Preconditions& preconditions);
// The preconditions an update carries in its own metadata.
Preconditions preconditions_of(const Json& object);

// Fills what the store owns on create: uid, creationTimestamp, generation 1.
// (resourceVersion is the caller's.)
void fill_create_metadata(Json& object, std::chrono::system_clock::time_point now);

// The version that replaces `part` of `old` with `object`: kept from `old`
// are uid, creationTimestamp and resourceVersion, and status unless `part`
// writes it; generation + 1 when the desired part (spec, or for kinds without
// spec everything but metadata) changed. nullopt when the result equals `old`
// (keys compared in any order): an update that changes nothing writes nothing.
std::optional<Json> next_version(const std::string& kind, const Json& old, Json object,
                                 UpdatePart part);

}  // namespace corral::store
