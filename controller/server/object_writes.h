// What the write paths share — PUT, PATCH and the scale subresource: check
// that a new version of an object names the path's kind and object,
// normalise it, admit it and store it, and the read-modify-write loop that
// PATCH and scale run (Kubernetes' retry on conflict).
#pragma once

#include <functional>
#include <vector>

#include "api/json_fwd.h"
#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/http_message.h"
#include "controller/server/routes.h"

namespace corral::server {

// A body whose kind is another known kind than the path's is a bad request;
// an unknown kind is left to normalize_object, which names the field (422).
Result<void> check_kind(const Json& body, const KindInfo& kind);

// The new version of the object on `route`: kind and name checked, status
// dropped when `drop_status` (the main path never writes status), then
// normalised (strict decode, defaults, validation). Old spellings rewritten
// are appended to `warnings`.
Result<Json> checked_replacement(const Route& route, Json body, bool drop_status,
                                 std::vector<Cause>& warnings);

// Kubernetes' warning headers (code 299), one per cause: kubectl prints each
// as "Warning: ...". Also logged.
void add_warnings(HttpResponse& res, const std::string& plural, const std::string& name,
                  const std::vector<Cause>& warnings);

// Stores a normalised new object: the Balancer listen check, the admission
// hook, then the store's create.
Result<store::RecordPtr> write_create(Context& ctx, const Route& route, Json object);

// Stores a normalised new version through the main path: the Balancer listen
// check, the admission hook, then the store's update (whose resourceVersion
// precondition is the object's metadata.resourceVersion, when set).
Result<store::RecordPtr> write_update(Context& ctx, const Route& route, Json object);

// Stores a normalised object's status. From a balancer role, a Balancer's
// status keeps everything but the data plane's report (balancer_report.h).
Result<store::RecordPtr> write_status(Context& ctx, const Route& route, const Identity& who,
                                      Json object);

// Reads the stored object (route.kind, route.name), makes its next version
// with `change` and writes it with `write`. When the write conflicts with
// another writer and `change` kept the resourceVersion it was given (the
// client pinned none), reads again and retries, a few times, as Kubernetes
// does for PATCH; a pinned resourceVersion that is stale is the client's
// Conflict (409).
Result<store::RecordPtr> read_modify_write(
    Context& ctx, const Route& route, const std::function<Result<Json>(const Json& stored)>& change,
    const std::function<Result<store::RecordPtr>(Json next)>& write);

}  // namespace corral::server
