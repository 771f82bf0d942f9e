// What of an object people own, and so what apply compares and diff shows:
// the name, labels, annotations and every field but status (spec, or an
// Event's top-level fields). Server-set metadata (uid, resourceVersion,
// generation, creationTimestamp, ownerReferences) and status are left out.
#pragma once

#include "api/json_fwd.h"

namespace corral::cli {

// apiVersion, kind, metadata {name, labels, annotations (when not empty)}, the rest.
Json desired_state(const Json& object);

// True when both desired states are equal, whatever the order of their keys.
bool same_desired_state(const Json& a, const Json& b);

// Fields of spec that the server writes (a VM's binding: spec.nodeName and
// spec.epoch, set by the scheduler). A manifest that leaves them unset keeps
// the live values, so applying it again neither reports a change nor unbinds.
Json keep_server_owned_fields(const Json& desired, const Json& live);

}  // namespace corral::cli
