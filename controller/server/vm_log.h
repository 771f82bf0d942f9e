// GET /apis/corral/v1/vms/<name>/log[?tailLines=N]: a VM's log, read from the
// agent of the node it is bound to — Kubernetes' pods/<name>/log, where the
// apiserver calls the kubelet with its own credentials. The caller needs no
// way to reach, or right to call, the agent: the controller's reader signs
// with the node's key (agent_log_reader.h).
//
//   tailLines        a non-negative integer of at most 9 digits, else 400
//   vms/<name>       read from the store: 404 when missing
//   spec.nodeName    empty: 400 "vm/<name> is not bound to a node yet (<status.message>)"
//   nodes/<node>     read from the store; no status.address: 503
//   in flight        at most ServerOptions::max_log_reads (16): 429, Retry-After: 1
//   the agent        GET /v1/logs/<name>[?tailLines=N] through the AgentLogReader:
//                    2xx → 200, the body as text/plain; an error answer → its
//                    plain-text reason, "agent of node/<node>: ...", as 404 (404),
//                    400 (400), 503 (401/403: the agent refused the signature;
//                    anything else); unreachable → 503 "cannot reach agent of
//                    node/<node> at <address>: ..."
//   no reader set    503 "this controller reads no agent logs"
//
// Runs on an API worker thread for as long as the agent takes: the reader
// bounds that (corral-controller's: 2 s to connect, 10 s in all) and the
// in-flight cap bounds how many workers logs may hold.
#pragma once

#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/http_message.h"
#include "controller/server/routes.h"

namespace corral::server {

void handle_vm_log(Context& ctx, const Route& route, const HttpRequest& req, HttpResponse& res);

}  // namespace corral::server
