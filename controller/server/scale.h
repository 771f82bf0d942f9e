// The scale subresource of VMSets, as Kubernetes has it for Deployments:
// GET, PUT and PATCH /apis/corral/v1/vmsets/<name>/scale read and write an
// autoscaling/v1 Scale —
//
//   {"apiVersion":"autoscaling/v1","kind":"Scale",
//    "metadata":{"name","uid","resourceVersion","creationTimestamp"},
//    "spec":{"replicas":N},
//    "status":{"replicas":<VMs that exist>,"selector":"corral.io/vmset=<name>"}}
//
// — so that `kubectl scale vmset/web --replicas=5` (a merge patch of the
// Scale) and autoscalers work. A write changes only the VMSet's
// spec.replicas, through the same checks as a PUT of the VMSet; the Scale's
// metadata.resourceVersion, when set, is the VMSet's precondition.
#pragma once

#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/http_message.h"
#include "controller/server/routes.h"

namespace corral::server {

void handle_scale(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                  HttpResponse& res);

}  // namespace corral::server
