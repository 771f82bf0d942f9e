// Discovery documents in Kubernetes' shapes, so that kubectl-style clients
// find Corral's group, version and resources.
#pragma once

#include "api/json_fwd.h"

namespace corral::server {

Json core_api_versions();  // GET /api: APIVersions with no versions (no core group)
Json api_group_list();     // GET /apis: APIGroupList with group corral
Json api_group();          // GET /apis/corral: APIGroup
Json api_resource_list();  // GET /apis/corral/v1: APIResourceList (+ <plural>/status)
Json version_info();       // GET /version: {"gitVersion": CORRAL_VERSION, ...}

}  // namespace corral::server
