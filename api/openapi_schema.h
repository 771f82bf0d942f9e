// The OpenAPI schema of each kind, derived from the same field lists
// (`visit()`) the codec decodes with (api/fields.h), so that what kubectl
// validates and explains cannot drift from what the API accepts: a field
// added to a type appears here with the right type, with no second list.
//
// The schemas are in OpenAPI 3's dialect, as Kubernetes publishes them for
// custom resources (quantities and int-or-string as `anyOf`, the free-form
// env as x-kubernetes-preserve-unknown-fields); openapi_v2_schema() rewrites
// one for Swagger 2.0, which has no anyOf.
#pragma once

#include <string_view>

#include "api/json_fwd.h"

namespace corral {

// The schema of a kind (Node, Pool, VMSet, VM, Balancer, Secret, Event):
// type object, its properties (apiVersion and kind included), a description,
// and x-kubernetes-group-version-kind. An empty object for an unknown kind.
Json openapi_kind_schema(std::string_view kind);

// The same schema for Swagger 2.0: each anyOf becomes a string of format
// int-or-string (Kubernetes' spelling), the OpenAPI 3 extensions are dropped.
Json openapi_v2_schema(const Json& v3_schema);

}  // namespace corral
