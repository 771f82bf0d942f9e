#include "controller/server/status.h"


#include "api/json.h"

namespace corral::server {

namespace {
// Kubernetes' CauseType names (k8s.io/apimachinery metav1.CauseType).
const char* cause_reason(const Error& error, const Cause& cause) {
  if (error.code != ErrorCode::kInvalid) return "FieldValueInvalid";
  if (cause.message.rfind("required", 0) == 0) return "FieldValueRequired";
  if (cause.message.rfind("unknown field", 0) == 0) return "FieldValueNotSupported";
  return "FieldValueInvalid";
}
}  // namespace

Json status_object(const Error& error, const std::string& name, const std::string& kind) {
  Json s = Json::object();
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = Json::object();
  s["status"] = "Failure";
  s["message"] = error.message;
  s["reason"] = reason_name(error.code);
  Json details = Json::object();
  if (!name.empty()) details["name"] = name;
  if (!kind.empty()) details["kind"] = kind;
  if (!error.causes.empty()) {
    Json causes = Json::array();
    for (const auto& c : error.causes) {
      Json cause = Json::object();
      cause["reason"] = cause_reason(error, c);
      cause["message"] = c.message;
      cause["field"] = c.field;
      causes.push_back(std::move(cause));
    }
    details["causes"] = std::move(causes);
  }
  if (!details.empty()) s["details"] = std::move(details);
  s["code"] = http_status(error.code);
  return s;
}

void write_error(HttpResponse& res, const Error& error, const std::string& name,
                 const std::string& kind) {
  res.status = http_status(error.code);
  res.set_content(dump_json(status_object(error, name, kind)), kJsonContentType);
}

void write_too_many_requests(HttpResponse& res, std::chrono::seconds retry_after,
                             const std::string& message, const std::string& name,
                             const std::string& kind) {
  res.set_header("Retry-After", std::to_string(retry_after.count()));
  write_error(res, make_error(ErrorCode::kTooManyRequests, message), name, kind);
}

}  // namespace corral::server
