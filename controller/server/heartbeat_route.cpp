#include "controller/server/heartbeat_route.h"

#include "controller/server/request.h"
#include "controller/server/status.h"

namespace corral::server {

void handle_heartbeat(Context& ctx, const Route& route, const httplib::Request& req,
                      httplib::Response& res) {
  if (!ctx.heartbeat)
    return write_error(res,
                       make_error(ErrorCode::kNotFound, "heartbeats are not served by this server"),
                       route.name, "nodes");
  auto body = read_json_body(req);
  if (!body) return write_error(res, body.error(), route.name, "nodes");
  auto answer = ctx.heartbeat(route.name, *body);
  if (!answer) return write_error(res, answer.error(), route.name, "nodes");
  res.status = 200;
  res.set_content(dump_json(*answer), kJsonContentType);
}

}  // namespace corral::server
