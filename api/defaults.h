// Defaults that depend on other fields or on the object's name. Defaults that
// do not are the member initialisers in api/types.h. Applied in exactly one
// place: normalize_object() (api/kinds.cpp), on the server and in corralctl.
#pragma once

#include <vector>

#include "api/types.h"
#include "base/error.h"

namespace corral {

// Enum values are lowerCamelCase ("leastLoaded", "roundRobin", "none",
// "selfFence"), as most of the API already was; phases, restart policies and
// taint effects keep Kubernetes' own PascalCase. The spellings of earlier
// versions ("least-loaded", sessionAffinity "None") are still accepted and
// rewritten, and each rewrite is returned so that the caller can warn:
// {"spec.placement", "\"least-loaded\" is deprecated, use \"leastLoaded\""}.
// Applied in normalize_object(), before the defaults.
std::vector<Cause> respell_old_values(Pool& pool);
std::vector<Cause> respell_old_values(VMSet& vmset);
std::vector<Cause> respell_old_values(Balancer& balancer);
template <class T> std::vector<Cause> respell_old_values(T&) { return {}; }

void apply_defaults(Node& node);
void apply_defaults(Pool& pool);
void apply_defaults(VMSet& vmset);
void apply_defaults(VM& vm);
void apply_defaults(Balancer& balancer);
void apply_defaults(Event& event);
void apply_defaults(Secret& secret);

// Rewrites into the stored form, done after validation so that errors name
// fields as they were written: a Secret's stringData is merged into data
// (base64), winning over the same key, and dropped.
void canonicalize(Secret& secret);
template <class T> void canonicalize(T&) {}

}  // namespace corral
