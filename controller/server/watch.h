// Watch streaming: ?watch=true on a collection answers with chunked,
// newline-delimited events {"type":"ADDED|MODIFIED|DELETED","object":{...}}.
//
//  - ?resourceVersion=N: events after revision N; absent or 0: a synthetic
//    ADDED per current object, then changes (as Kubernetes does).
//  - N older than the store's history: 410 Gone Status before streaming;
//    N newer than the store's revision: 504 "too large resource version".
//  - `who` holding ServerOptions::max_watches_per_identity open watches
//    already: 429 TooManyRequests with Retry-After, before anything else.
//  - the store closing the watch mid-stream (a watcher fell too far behind,
//    or the store shut down): {"type":"ERROR","object":<Status>} then the end.
//  - the stream ends after ?timeoutSeconds= (default and max in ServerOptions),
//    or when the server stops.
// Selectors filter as in list; fieldSelector=metadata.name=X watches one object.
#pragma once

#include "controller/server/http_message.h"

#include "controller/server/context.h"
#include "controller/server/routes.h"

namespace corral::server {

void handle_watch(Context& ctx, const Route& route, const Identity& who,
                  const HttpRequest& req, HttpResponse& res);

}  // namespace corral::server
