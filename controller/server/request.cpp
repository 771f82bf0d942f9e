#include "controller/server/request.h"

#include <algorithm>
#include <charconv>

#include "api/json.h"

namespace corral::server {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Digits only: from_chars would take "-0" for 0, which a non-negative
// integer is not (Kubernetes parses these as unsigned, and refuses it too).
bool parse_int(const std::string& text, int64_t* out) {
  if (text.empty() || text[0] < '0' || text[0] > '9') return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<Json> read_json_body(const HttpRequest& req) {
  return read_json_body(body_content_type(req), req.body);
}

std::string body_content_type(const HttpRequest& req) {
  std::string type = req.get_header_value("Content-Type");
  // client-go's scale client PUTs a Scale without a Content-Type, and the
  // Kubernetes API reads such a body as JSON. Only for PUT: browsers send it
  // only after a CORS preflight, so no page can forge one; a POST without a
  // type (which a page can send) stays refused.
  if (type.empty() && req.method == "PUT") type = "application/json";
  return type;
}

bool is_json_content_type(const std::string& content_type) {
  std::string type = lower(content_type);
  if (auto semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  type.erase(std::remove(type.begin(), type.end(), ' '), type.end());
  return type == "application/json";
}

Result<Json> read_json_body(const std::string& content_type, const std::string& body) {
  if (!is_json_content_type(content_type))
    return make_error(ErrorCode::kUnsupportedMedia, "unsupported media type \"" + content_type +
                                                        "\": bodies must be application/json");
  if (body.empty()) return make_error(ErrorCode::kBadRequest, "the request has no body");
  auto parsed = parse_json(body, "body");
  if (!parsed) return parsed.take_error();
  if (!parsed->is_object())
    return make_error(ErrorCode::kBadRequest,
                      "the body must be a JSON object, got " + json_type_name(*parsed));
  return parsed;
}

Result<store::ListOptions> read_list_options(const HttpRequest& req, const KindInfo& kind) {
  store::ListOptions options;
  if (req.has_param("labelSelector")) {
    auto sel = Selector::parse(req.get_param_value("labelSelector"));
    if (!sel) return sel.take_error();
    options.labels = std::move(*sel);
  }
  if (req.has_param("fieldSelector")) {
    auto fields = parse_field_selector(req.get_param_value("fieldSelector"));
    if (!fields) return fields.take_error();
    for (const auto& f : *fields) {
      if (f.field == "metadata.name") continue;
      const auto& ok = kind.field_selectors;
      if (std::find(ok.begin(), ok.end(), f.field) == ok.end()) {
        std::string supported = "metadata.name";
        for (const auto& s : ok) supported += ", " + s;
        return make_error(ErrorCode::kBadRequest, "field label not supported: \"" + f.field +
                                                      "\" (" + kind.plural +
                                                      " select on: " + supported + ")");
      }
    }
    options.fields = std::move(*fields);
  }
  return options;
}

bool wants_watch(const HttpRequest& req) {
  if (!req.has_param("watch")) return false;
  auto v = lower(req.get_param_value("watch"));
  return v == "true" || v == "1";
}

Result<int64_t> read_resource_version(const HttpRequest& req) {
  std::string text = req.get_param_value("resourceVersion");
  if (text.empty()) return int64_t{0};
  int64_t rv = 0;
  if (!parse_int(text, &rv) || rv < 0)
    return make_error(ErrorCode::kBadRequest,
                      "invalid resourceVersion \"" + text + "\": must be a non-negative integer");
  return rv;
}

Result<std::chrono::seconds> read_timeout_seconds(const HttpRequest& req,
                                                  std::chrono::seconds fallback,
                                                  std::chrono::seconds max) {
  if (!req.has_param("timeoutSeconds")) return fallback;
  std::string text = req.get_param_value("timeoutSeconds");
  int64_t s = 0;
  if (!parse_int(text, &s) || s < 0)
    return make_error(ErrorCode::kBadRequest,
                      "invalid timeoutSeconds \"" + text + "\": must be a non-negative integer");
  if (s == 0) return fallback;
  return std::min(std::chrono::seconds(s), max);
}

std::string object_name(const Json& object) {
  auto m = object.find("metadata");
  if (m == object.end() || !m->is_object()) return "";
  auto n = m->find("name");
  if (n == m->end() || !n->is_string()) return "";
  return n->get<std::string>();
}

}  // namespace corral::server
