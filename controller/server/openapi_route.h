// The OpenAPI documents kubectl reads before it validates, explains, applies
// or scales (what Kubernetes serves, for the one group-version Corral has):
//
//   GET /openapi/v3                    {"paths":{"apis/corral/v1":{"serverRelativeURL":
//                                        "/openapi/v3/apis/corral/v1?hash=<hash>"}}}
//   GET /openapi/v3/apis/corral/v1     OpenAPI 3.0: every kind's schema in
//                                      components.schemas, every path and verb
//   GET /openapi/v2                    Swagger 2.0 definitions: JSON, or protobuf
//                                      (gnostic's openapi_v2.Document) when the
//                                      client asks for it, as kubectl does
//
// The schemas come from api/openapi_schema.h (the codec's field lists). Each
// PATCH operation carries x-kubernetes-group-version-kind and the
// fieldValidation query parameter: that is how kubectl learns the server
// validates strictly (Corral always does: unknown fields are 422), so it
// sends objects as they are instead of validating them itself.
#pragma once

#include "api/json_fwd.h"
#include "controller/server/http_message.h"

namespace corral::server {

Json openapi_v3_index();
Json openapi_v3_group();
// JSON, or protobuf when Accept names application/com.github.proto-openapi.spec.v2...
void serve_openapi_v2(const HttpRequest& req, HttpResponse& res);

// The Swagger 2.0 document as JSON (what the protobuf form encodes).
Json openapi_v2_document();

}  // namespace corral::server
