// The one error type of Corral (cf. leveldb's Status / Abseil's StatusOr).
//
// An Error carries a code that maps one-to-one onto a Kubernetes `Status`
// reason and HTTP code, a human message, and for validation failures a list of
// causes, each naming the field path it is about (`spec.replicas`).
// Nothing throws across module boundaries: functions that can fail return
// Result<T>; parser exceptions are caught at the parse boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace corral {

enum class ErrorCode {
  kBadRequest,       // 400 BadRequest: malformed request, invalid selector
  kUnauthorized,     // 401 Unauthorized: missing or unknown token
  kForbidden,        // 403 Forbidden: the role may not do this
  kNotFound,         // 404 NotFound
  kMethodNotAllowed, // 405 MethodNotAllowed
  kAlreadyExists,    // 409 AlreadyExists
  kConflict,         // 409 Conflict: stale resourceVersion
  kGone,             // 410 Gone: watch from a revision older than the history
  kTooLarge,         // 413 RequestEntityTooLarge
  kUnsupportedMedia, // 415 UnsupportedMediaType
  kInvalid,          // 422 Invalid: validation failed; see causes
  kTooManyRequests,  // 429 TooManyRequests: a per-client limit; retry later
  kTimeout,          // 504 Timeout
  kUnavailable,      // 503 ServiceUnavailable: store or peer down, disk full
  kInternal,         // 500 InternalError: our own bug
};

// One reason a value was refused, at one field path (empty: the whole object).
struct Cause {
  std::string field;    // e.g. "spec.template.resources.memory"
  std::string message;  // e.g. "must be at least 0"
  std::string location; // optional "file:line:column" where the field was written
  bool operator==(const Cause&) const = default;
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::vector<Cause> causes;

  // One line per cause under the message; what the CLI prints.
  std::string to_string() const;
};

int http_status(ErrorCode code);
const char* reason_name(ErrorCode code);  // "NotFound", "Invalid", ...
// The inverse of http_status + reason_name, for clients reading a Status body.
ErrorCode code_from_reason(const std::string& reason, int http_status);

Error make_error(ErrorCode code, std::string message);
// An Invalid error for one or more causes; the message lists them.
Error invalid(std::string what, std::vector<Cause> causes);

// Result<T>: a value or an Error. Small on purpose; C++23's std::expected is not
// available with the toolchain we build on.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}      // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }
  Error&& take_error() { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success or an Error.
struct Ok {};
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Ok) {}                                          // NOLINT
  Result(Error error) : err_(std::move(error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return err_; }
  Error&& take_error() { return std::move(err_); }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace corral
