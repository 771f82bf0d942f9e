// Typed objects to and from JSON, for everything outside api/: the control
// loops, the heartbeat path, the agent, the balancer and the CLI.
//
// These templates are only declared here. They are defined over the field-
// visitor codec (api/fields.h) and instantiated once, in api/codec.cpp, for
// every type listed there: before, about 22 files each compiled a VM's whole
// encoder and decoder again, at one to three seconds apiece. A type missing
// from that list is a link error naming the function: add the type there.
#pragma once

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral {

// As strict as normalize_object (unknown fields and wrong types are errors
// with field paths) but applies no defaults and no validation.
// Errors: Invalid, one cause per problem.
template <class T>
Result<T> from_json(const Json& object);

// apiVersion and kind first, then the object's fields.
template <class T>
Json to_json(const T& object);

// The fields of any struct with visit() (a status, a spec), without apiVersion
// and kind, as the encoder writes them (empty values left out).
template <class T>
Json encode_fields(const T& value);

// Whether `a` and `b` encode to the same JSON: what a status write would change.
template <class T>
bool same_json(const T& a, const T& b);

}  // namespace corral
