// Defaults that depend on other fields or on the object's name. Defaults that
// do not are the member initialisers in api/types.h. Applied in exactly one
// place: normalize_object() (api/kinds.cpp), on the server and in corralctl.
#pragma once

#include "api/types.h"

namespace corral {

void apply_defaults(Node& node);
void apply_defaults(Pool& pool);
void apply_defaults(VMSet& vmset);
void apply_defaults(VM& vm);
void apply_defaults(Balancer& balancer);
void apply_defaults(Event& event);

}  // namespace corral
