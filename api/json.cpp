#include "api/json.h"

namespace corral {

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<Json> parse_json(std::string_view text, const std::string& origin) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // e.byte is 1-based; turn it into line:column for people.
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    std::string where = (origin.empty() ? std::string("json") : origin) + ":" +
                        std::to_string(line) + ":" + std::to_string(col);
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ".
    if (auto p = what.find(": "); p != std::string::npos && what.rfind("[json.", 0) == 0)
      what = what.substr(p + 2);
    return make_error(ErrorCode::kBadRequest, where + ": malformed JSON: " + what);
  } catch (const nlohmann::json::exception& e) {
    // Not a syntax error but a value nlohmann cannot hold (out_of_range.406:
    // a number such as 1e999): refused like one, never thrown to the caller.
    std::string what = e.what();
    if (auto p = what.find("] "); p != std::string::npos && what.rfind("[json.", 0) == 0)
      what = what.substr(p + 2);
    return make_error(ErrorCode::kBadRequest,
                      (origin.empty() ? std::string("json") : origin) + ": malformed JSON: " + what);
  }
}

std::string json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::string: return "string";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "integer";
    case Json::value_t::number_float: return "number";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::array: return "array";
    case Json::value_t::object: return "object";
    case Json::value_t::null: return "null";
    default: return "value";
  }
}

}  // namespace corral
