// What a role other than admin reads of Secrets: every key, every value
// replaced by "<redacted>" (api/types/secret.h kRedactedValue), in get, list
// and watch alike. Node tokens never get here: authorize() refuses them
// Secrets outright (auth.h); the node of a VM that uses a Secret receives the
// resolved values in its heartbeat answer only (controller/heartbeat/secret_env.h).
//
// Done by serving the ordinary read handlers over a store view that redacts
// Secret records on the way out, so the three read paths cannot disagree.
#pragma once

#include "controller/server/http_message.h"

#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/routes.h"
#include "controller/store/store.h"

namespace corral::server {

// True when `who` may read the route's Secrets only redacted.
bool reads_redacted(const Identity& who, const Route& route);

// get, list or watch of Secrets for such a reader (after authorisation).
void serve_redacted(Context& ctx, const Route& route, const Identity& who,
                    const HttpRequest& req, HttpResponse& res);

// A Secret record with every data value redacted (other records as they are).
store::RecordPtr redact_secret(const store::RecordPtr& record);

}  // namespace corral::server
