// Errors as Kubernetes Status objects: the one shape every failed request
// answers with, so that clients (corralctl, kubectl) read code, reason,
// message and field causes the same way everywhere.
#pragma once

#include <chrono>
#include <string>

#include "base/error.h"
#include "api/json_fwd.h"
#include "controller/server/http_message.h"


namespace corral::server {

// The Content-Type of every JSON answer (API traffic is never compressed:
// compressing a large list costs seconds of CPU any client could impose).
inline constexpr const char* kJsonContentType = "application/json; charset=utf-8";

// {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
//  "message":...,"reason":...,"details":{"name","kind","causes":[...]},"code":...}
// `name` and `kind` (the resource plural, as Kubernetes writes it) go into
// details when not empty.
Json status_object(const Error& error, const std::string& name = "", const std::string& kind = "");

// Writes the Status body and its HTTP code into `res`.
void write_error(HttpResponse& res, const Error& error, const std::string& name = "",
                 const std::string& kind = "");

// 429 TooManyRequests with `Retry-After: <seconds>`: a limit the client may
// wait out (the watch caps, the Event rate, VM log reads in flight).
void write_too_many_requests(HttpResponse& res, std::chrono::seconds retry_after,
                             const std::string& message, const std::string& name = "",
                             const std::string& kind = "");

}  // namespace corral::server
