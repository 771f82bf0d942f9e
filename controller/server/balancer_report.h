// What a balancer token may change in a Balancer's status (issue 15 §2): the
// data plane's report, nothing the controller publishes. corral-balancer PUTs
// the whole status it read (balancer/proxy/sources.cpp) with its report
// merged in; only these fields are taken from it:
//   endpoints[] matched by (vm, epoch): health, activeConnections, drained
//                (drained only while the endpoint is draining)
//   lastReportTime, reportedBy, the Serving condition
// Everything else — which endpoints exist, their addresses, epochs, weights,
// draining marks, L and spread, other conditions — stays as stored, so even a
// token scoped to this Balancer cannot point its clients elsewhere.
#pragma once

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral::server {

// `stored` and `proposed` are whole Balancers (proposed normalised). Returns
// `stored` with the report fields of `proposed` and proposed's
// metadata.resourceVersion (the write's precondition; stored's when proposed
// has none). Errors: Internal when
// the stored object does not decode, Invalid when the proposed one does not.
Result<Json> merge_data_plane_report(const Json& stored, const Json& proposed);

}  // namespace corral::server
