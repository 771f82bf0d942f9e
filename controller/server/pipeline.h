// The one path every request takes:
//   head gate (401, 403, 415) → [body read by the core, 413] →
//   authenticate (401) → route (404, 405) → authorise (403) →
//   handler: decode and normalise (400, 415, 422) → store (404, 409, 410) →
//   the object(s) as JSON, or a Status.
// ApiHandler plugs it into the event-driven core (http_core.h), with the
// request metrics and Status bodies for the core's own errors (408, 413, 431).
#pragma once

#include <optional>

#include "controller/server/context.h"
#include "controller/server/http_core.h"
#include "controller/server/http_message.h"

namespace corral::server {

// The handler for every method and path; a thrown exception is a logged 500
// Status, never a dropped connection.
void serve(Context& ctx, const HttpRequest& req, HttpResponse& res);

// On the request head alone, before any body byte is read: who is asking
// (401), whether a body is one we take (415: not JSON, or compressed), and
// without tokens whether a web page sent it (403: Origin, or a Host that is
// not a loopback name). An answer here is the request's; a body is then
// never read, and the connection closes after the answer (what follows on
// the wire is not a request).
std::optional<HttpResponse> gate_request_head(Context& ctx, const HttpRequest& req);

// Counts the request by verb, resource and code, and observes its latency
// (watches excluded: they last).
void end_request(Context& ctx, const HttpRequest& req, int status, double seconds);

// The API's HttpHandler: the pipeline above, metrics, and Status bodies.
class ApiHandler final : public HttpHandler {
 public:
  explicit ApiHandler(Context& ctx) : ctx_(ctx) {}
  std::optional<HttpResponse> gate(const HttpRequest& head) override;
  void serve(HttpRequest& request, HttpResponse& response) override;
  HttpResponse error(int status, const std::string& message) override;
  void finished(const HttpRequest& request, int status, double seconds) override;
  void refused(CoreRefusal reason) override;
  void connections(int delta) override;

 private:
  Context& ctx_;
};

// A Status body for an HTTP code that may have no ErrorCode of its own
// (408, 431): the reason is the nearest one, `code` the real one.
HttpResponse status_response(int status, const std::string& message);

}  // namespace corral::server
