// POST /apis/corral/v1/nodes/<name>/heartbeat: hands the body to the
// HeartbeatHandler the server was given (controller/heartbeat); 404 without one.
// Runs after authentication and authorisation (as an update of the Node, so a
// node:<name> token beats only for <name>).
#pragma once

#include "controller/server/http_message.h"

#include "controller/server/context.h"
#include "controller/server/routes.h"

namespace corral::server {

void handle_heartbeat(Context& ctx, const Route& route, const HttpRequest& req,
                      HttpResponse& res);

}  // namespace corral::server
