// Reading what a request carries: JSON bodies (415 / 400 / 413 rules) and the
// list and watch query parameters.
#pragma once

#include "controller/server/http_message.h"

#include <chrono>
#include <string>

#include "base/error.h"
#include "api/json_fwd.h"
#include "api/kinds.h"
#include "controller/store/store.h"

namespace corral::server {

// Whether a Content-Type names JSON ("application/json", any parameters).
bool is_json_content_type(const std::string& content_type);
// The body as a JSON object. Errors: UnsupportedMedia when Content-Type is
// not application/json (a missing one included: a browser's form post must
// not pass for JSON); BadRequest for malformed JSON (naming the
// line:column) or a body that is not an object.
Result<Json> read_json_body(const HttpRequest& req);
// The Content-Type a body is read as: the header's, or JSON for a PUT that
// names none (what Kubernetes does; client-go's scale client sends one).
std::string body_content_type(const HttpRequest& req);
// The same rules for a body and its Content-Type read by another server.
Result<Json> read_json_body(const std::string& content_type, const std::string& body);

// ?labelSelector= and ?fieldSelector=. Errors: BadRequest for a selector that
// does not parse or a field the kind cannot select on.
Result<store::ListOptions> read_list_options(const HttpRequest& req, const KindInfo& kind);

// ?watch=true|1
bool wants_watch(const HttpRequest& req);

// ?resourceVersion= as a revision; absent or "" → 0. Errors: BadRequest.
Result<int64_t> read_resource_version(const HttpRequest& req);

// ?timeoutSeconds=, defaulted and clamped. Errors: BadRequest when not a
// non-negative integer.
Result<std::chrono::seconds> read_timeout_seconds(const HttpRequest& req,
                                                  std::chrono::seconds fallback,
                                                  std::chrono::seconds max);

// The object's metadata.name, or "" when absent or not a string.
std::string object_name(const Json& object);

}  // namespace corral::server
