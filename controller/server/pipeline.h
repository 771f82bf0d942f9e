// The one path every request takes:
//   authenticate (401) → route (404, 405) → authorise (403) →
//   handler: decode and normalise (400, 415, 422) → store (404, 409, 410) →
//   the object(s) as JSON, or a Status.
// Plus the hooks around it: request metrics, and Status bodies for errors that
// httplib raises itself before any handler runs (413 for large bodies).
#pragma once

#include <httplib.h>

#include <optional>

#include "controller/server/context.h"

namespace corral::server {

// The handler for every method and path.
void serve(Context& ctx, const httplib::Request& req, httplib::Response& res);

// httplib's pre-routing hook: notes when the request began (for latency).
void begin_request(const httplib::Request& req);
// Also in the pre-routing hook, on the request head alone, before any body
// byte is read: who is asking (401), whether a body is one we take (415: not
// JSON, or compressed), its declared size (413), and without tokens whether
// a web page sent it (403: Origin, or a Host that is not a loopback name).
// Returns true when it answered; a body is then never read, and the
// connection closes after the answer (what follows on the wire is not a
// request). A client that sends its whole body before reading may see the
// close before the answer: clients that read while they send (Go's, curl's)
// see the answer.
bool gate_request_head(Context& ctx, const httplib::Request& req, httplib::Response& res);
// The handler of requests that may carry a body: reads it through `read`
// up to ServerOptions::max_body_bytes whatever its framing (Content-Length
// or chunked: httplib 0.11 caps only the first), 413 at the cap, then serve().
void serve_with_body(Context& ctx, const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& read);
// httplib's logger hook, after the response was written: counts the request
// by verb, resource and code, and observes its latency.
void end_request(Context& ctx, const httplib::Request& req, const httplib::Response& res);
// httplib's error hook: gives error responses httplib made itself (413, 400
// for an unparsable request line) a Status body. Responses that already have
// a body are left alone.
httplib::Server::HandlerResponse on_error(Context& ctx, const httplib::Request& req,
                                          httplib::Response& res);
// httplib's exception hook: a 500 Status, logged; never a dropped connection.
void on_exception(const httplib::Request& req, httplib::Response& res, std::exception_ptr ep);

}  // namespace corral::server
