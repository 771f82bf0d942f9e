// The Swagger 2.0 document in the protobuf form kubectl asks for
// (GET /openapi/v2, Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf):
// gnostic's openapi_v2.Document (github.com/google/gnostic, OpenAPIv2.proto),
// written by hand with the field numbers of that file — a few messages of
// a large schema, so no generated code and no build step.
//
// Encoded: Document.swagger (1), info (2: title 1, version 2), paths (8,
// empty), definitions (9: NamedSchema name 1, value 2). Of Schema: $ref (1),
// format (2), title (3), description (4), required (19),
// additionalProperties (21: schema 1 | boolean 2), type (22: value 1),
// items (23: schema 1), properties (25: NamedSchema 1) and every x-
// extension as vendor_extension (31: NamedAny name 1, value 2: Any.yaml 2,
// which holds the value as JSON — JSON is YAML). Other keywords are left out.
#pragma once

#include <string>

#include "api/json_fwd.h"

namespace corral::server {

inline constexpr const char* kOpenApiV2ProtobufType =
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

// `document`: {"swagger","info":{"title","version"},"definitions":{name: schema}}.
std::string openapi_v2_protobuf(const Json& document);

}  // namespace corral::server
