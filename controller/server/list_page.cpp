#include "controller/server/list_page.h"

#include <algorithm>
#include <charconv>

#include "api/base64.h"

namespace corral::server {

namespace {

Error bad_continue(const std::string& why) {
  return make_error(ErrorCode::kBadRequest, "continue: " + why + "; start again without it");
}

}  // namespace

std::string encode_continue(const std::string& last_name, int64_t revision) {
  std::string token = base64_encode(std::to_string(revision) + ":" + last_name);
  std::replace(token.begin(), token.end(), '+', '-');
  std::replace(token.begin(), token.end(), '/', '_');
  while (!token.empty() && token.back() == '=') token.pop_back();
  return token;
}

Result<std::string> decode_continue(const std::string& token) {
  if (token.size() > 1024) return bad_continue("the token is longer than any this server gives");
  std::string text = token;
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text += '=';
  auto decoded = base64_decode(text);
  if (!decoded) return bad_continue("not a token this server gave");
  const size_t colon = decoded->find(':');
  int64_t revision = 0;
  if (colon == std::string::npos || colon == 0 ||
      std::from_chars(decoded->data(), decoded->data() + colon, revision).ptr != decoded->data() + colon ||
      colon + 1 == decoded->size())
    return bad_continue("not a token this server gave");
  return decoded->substr(colon + 1);
}

Result<ListPage> read_list_page(const HttpRequest& req) {
  ListPage page;
  if (req.has_param("limit")) {
    const std::string text = req.get_param_value("limit");
    int64_t limit = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), limit);
    if (ec != std::errc() || end != text.data() + text.size() || limit < 0)
      return make_error(ErrorCode::kBadRequest, "limit: \"" + text + "\" is not a non-negative integer");
    page.limit = static_cast<size_t>(limit);  // 0: no limit, as in Kubernetes
  }
  if (req.has_param("continue") && !req.get_param_value("continue").empty()) {
    auto after = decode_continue(req.get_param_value("continue"));
    if (!after) return after.take_error();
    page.after = std::move(*after);
  }
  return page;
}

}  // namespace corral::server
