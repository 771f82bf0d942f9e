// Helpers that turn objects into immutable Records and match Records against
// selectors. Everything a LIST or a watch filter needs (labels, owner uids,
// selectable fields) is extracted here, once, at write time, so that reads
// never parse JSON.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/json_fwd.h"
#include "controller/store/store.h"

namespace corral::store {

// Builds the Record of `object`, whose metadata the store has already filled.
// `json` is its compact text when the caller already has it (load), else empty.
RecordPtr build_record(const std::string& kind, const Json& object, int64_t revision,
                       std::string json = "");
// The last version of a deleted object, re-stamped with the delete's revision
// (metadata.resourceVersion included), as Kubernetes' DELETED events carry it.
RecordPtr deleted_record(const Record& last, int64_t revision);

// "vms" for "VM"; the lowercased kind + "s" for a kind api/kinds.h does not know.
std::string plural_of(const std::string& kind);
// `vms "web-1" not found`, `pools "web" already exists`.
Error not_found(const std::string& kind, const std::string& name);
Error already_exists(const std::string& kind, const std::string& name);

// BadRequest "field label not supported: <path>" unless every requirement
// names metadata.name or one of the kind's field selectors (for kind "":
// any kind's).
Result<void> check_field_selectors(const std::string& kind,
                                   const std::vector<FieldRequirement>& fields);
// True when the record satisfies both the label and the field selector.
bool matches(const Record& record, const ListOptions& options);

// A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string new_uuid();

}  // namespace corral::store
