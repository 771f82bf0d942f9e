// The resource model: every kind, its spec (desired, written by people) and its
// status (observed, written by controllers and agents). Field names and JSON
// shapes follow the Kubernetes API conventions; see ARCHITECTURE.md.
//
// One header per kind in api/types/; this one includes them all. Defaults that
// do not depend on other fields are the member initialisers, written next to
// each field; defaults derived from other fields are applied in
// api/defaults.cpp. Validation lives in api/validate.cpp.
#pragma once

#include "api/types/balancer.h"
#include "api/types/event.h"
#include "api/types/meta.h"
#include "api/types/node.h"
#include "api/types/pool.h"
#include "api/types/secret.h"
#include "api/types/vm.h"
#include "api/types/vmset.h"
