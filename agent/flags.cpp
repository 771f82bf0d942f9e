#include "agent/flags.h"

#include <cmath>

#include "api/validate.h"

namespace corral::agent {

namespace {

Error bad(const std::string& flag, const std::string& text, const std::string& why) {
  return make_error(ErrorCode::kBadRequest, flag + " " + text + ": " + why);
}

}  // namespace

Result<Labels> parse_labels_flag(const std::string& flag, const std::string& text) {
  Labels labels;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    std::string pair = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() : comma + 1;
    size_t eq = pair.find('=');
    if (eq == std::string::npos) return bad(flag, text, "expected key=value, got \"" + pair + "\"");
    std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (auto why = check_label_key(key)) return bad(flag, text, "label key \"" + key + "\": " + *why);
    if (auto why = check_label_value(value))
      return bad(flag, text, "label value \"" + value + "\": " + *why);
    labels[key] = value;
  }
  return labels;
}

Result<Quantity> parse_quantity_flag(const std::string& flag, const std::string& text) {
  if (text.empty()) return Quantity{};
  auto q = parse_quantity(text);
  if (!q) return bad(flag, text, q.error().message);
  if (q->milli < 0) return bad(flag, text, "must not be negative");
  return *q;
}

Result<std::pair<std::string, int>> parse_listen_flag(const std::string& flag, const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad(flag, text, "expected HOST:PORT");
  std::string host = text.substr(0, colon);
  std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos || std::stoi(port_text) > 65535)
    return bad(flag, text, "the port must be a number from 0 to 65535");
  return std::make_pair(host, std::stoi(port_text));
}

}  // namespace corral::agent
