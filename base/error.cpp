#include "base/error.h"

namespace corral {

namespace {
struct CodeInfo {
  ErrorCode code;
  int http;
  const char* reason;
};
constexpr CodeInfo kCodes[] = {
    {ErrorCode::kBadRequest, 400, "BadRequest"},
    {ErrorCode::kUnauthorized, 401, "Unauthorized"},
    {ErrorCode::kForbidden, 403, "Forbidden"},
    {ErrorCode::kNotFound, 404, "NotFound"},
    {ErrorCode::kMethodNotAllowed, 405, "MethodNotAllowed"},
    {ErrorCode::kAlreadyExists, 409, "AlreadyExists"},
    {ErrorCode::kConflict, 409, "Conflict"},
    {ErrorCode::kGone, 410, "Gone"},
    {ErrorCode::kTooLarge, 413, "RequestEntityTooLarge"},
    {ErrorCode::kUnsupportedMedia, 415, "UnsupportedMediaType"},
    {ErrorCode::kInvalid, 422, "Invalid"},
    {ErrorCode::kTooManyRequests, 429, "TooManyRequests"},
    {ErrorCode::kTimeout, 504, "Timeout"},
    {ErrorCode::kUnavailable, 503, "ServiceUnavailable"},
    {ErrorCode::kInternal, 500, "InternalError"},
};
const CodeInfo& info(ErrorCode code) {
  for (const auto& c : kCodes)
    if (c.code == code) return c;
  return kCodes[sizeof(kCodes) / sizeof(kCodes[0]) - 1];
}
}  // namespace

int http_status(ErrorCode code) { return info(code).http; }
const char* reason_name(ErrorCode code) { return info(code).reason; }

ErrorCode code_from_reason(const std::string& reason, int http) {
  for (const auto& c : kCodes)
    if (reason == c.reason) return c.code;
  for (const auto& c : kCodes)
    if (http == c.http) return c.code;
  return http >= 500 ? ErrorCode::kInternal : ErrorCode::kBadRequest;
}

Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message), {}};
}

std::string Error::to_string() const {
  std::string out = message;
  for (const auto& c : causes) {
    out += "\n  ";
    if (!c.location.empty()) out += c.location + ": ";
    if (!c.field.empty()) out += c.field + ": ";
    out += c.message;
  }
  return out;
}

Error invalid(std::string what, std::vector<Cause> causes) {
  std::string msg = what + " is invalid: ";
  for (size_t i = 0; i < causes.size(); ++i) {
    if (i) msg += ", ";
    msg += causes[i].field.empty() ? causes[i].message
                                   : causes[i].field + ": " + causes[i].message;
  }
  return Error{ErrorCode::kInvalid, std::move(msg), std::move(causes)};
}

}  // namespace corral
