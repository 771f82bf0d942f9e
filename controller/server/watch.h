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

// GET /apis/corral/v1/watch?kinds=nodes,vms,...: several kinds on one stream,
// for the dashboard — a browser holds at most 6 connections to one server
// over HTTP/1.1, and a watch per kind would take them all. Each kind is
// authorised as a watch of its own; Secrets are refused (watch them alone,
// redacted for whoever is not an admin). Without resourceVersion (or 0) the
// stream begins with every current object as ADDED, then a BOOKMARK whose
// resourceVersion is the snapshot's and whose annotations hold
// "k8s.io/initial-events-end": "true" (Kubernetes' sendInitialEvents), then
// the changes. No selectors, no Tables. The rest as handle_watch.
void handle_multi_watch(Context& ctx, const Identity& who, const HttpRequest& req,
                        HttpResponse& res);

}  // namespace corral::server
