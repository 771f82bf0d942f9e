// GET /apis/corral/v1/vms/<name>/log[?tailLines=N][&follow=true]: a VM's log, read from the
// agent of the node it is bound to — Kubernetes' pods/<name>/log, where the
// apiserver calls the kubelet with its own credentials. The caller needs no
// way to reach, or right to call, the agent: the controller's reader signs
// with the node's key (agent_log_reader.h).
//
//   tailLines        a non-negative integer of at most 9 digits, else 400
//   follow           true|1|false|0, else 400; true: `who` holding its share of
//                    follows, or the server all of them (LogFollowOptions): 429,
//                    Retry-After: 10, before anything is read
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
//   follow           the read above, then a chunked text/plain stream of the log
//                    as it grows, polled without a worker (log_follow.h); an
//                    agent that answers without offsets (older): 503
//
// Runs on an API worker thread for as long as the agent takes: the reader
// bounds that (corral-controller's: 2 s to connect, 10 s in all) and the
// in-flight cap bounds how many workers logs may hold.
#pragma once

#include <optional>
#include <string>

#include "controller/server/agent_log_reader.h"
#include "controller/server/auth.h"
#include "controller/server/context.h"
#include "controller/server/http_message.h"
#include "controller/server/routes.h"

namespace corral::server {

void handle_vm_log(Context& ctx, const Route& route, const Identity& who, const HttpRequest& req,
                   HttpResponse& res);

// What an agent's read means for the caller: nullopt for a 2xx answer, else
// Unavailable "cannot reach agent of node/<node> at <address>: ..." for the
// transport's failures, or the agent's refusal ("agent of node/<node>: ...",
// 404, 400 or 503). Shared with the follows' polls (log_follow.cpp).
std::optional<Error> agent_read_error(const std::string& node, const std::string& address,
                                      Result<AgentReply>& reply);

}  // namespace corral::server
