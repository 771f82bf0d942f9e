// The resource handlers: list, get, create, update, update status, patch, delete.
// Each runs after authentication, routing and the first authorisation check;
// each writes either the object(s) as JSON or a Status.
#pragma once

#include "controller/server/http_message.h"

#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/routes.h"

namespace corral::server {

// GET <plural>: a <Kind>List built from each record's stored JSON, unparsed
// (or a Table, table.h).
void handle_list(Context& ctx, const Route& route, const HttpRequest& req,
                 HttpResponse& res);
// GET <plural>/<name> and <plural>/<name>/status: the whole object (or, for
// an Accept that asks for one, a Table of it: table.h).
void handle_get(Context& ctx, const Route& route, const HttpRequest& req, HttpResponse& res);
// POST <plural>: status in the body is dropped; 201 with the stored object.
void handle_create(Context& ctx, const Route& route, const Identity& who,
                   const HttpRequest& req, HttpResponse& res);
// PUT <plural>/<name>: spec and metadata; status in the body is ignored.
void handle_update(Context& ctx, const Route& route, const HttpRequest& req,
                   HttpResponse& res);
// PUT <plural>/<name>/status: only status changes. From a balancer role, a
// Balancer's status keeps everything but the data plane's report
// (balancer_report.h).
void handle_update_status(Context& ctx, const Route& route, const Identity& who,
                          const HttpRequest& req, HttpResponse& res);
// PATCH <plural>/<name> and <plural>/<name>/status: a merge, JSON or
// strategic merge patch (api/patch.h) of the stored object, written as PUT
// would write the result; retried on conflict unless the patch pins a
// resourceVersion (object_writes.h read_modify_write).
void handle_patch(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                  HttpResponse& res);
// DELETE <plural>/<name>, optionally with DeleteOptions' preconditions.
void handle_delete(Context& ctx, const Route& route, const HttpRequest& req,
                   HttpResponse& res);

}  // namespace corral::server
