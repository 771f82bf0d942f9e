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

std::string encode_continue(const ContinueToken& t) {
  std::string token =
      base64_encode(std::to_string(t.revision) + ":" + std::to_string(t.answered) + ":" + t.last_name);
  std::replace(token.begin(), token.end(), '+', '-');
  std::replace(token.begin(), token.end(), '/', '_');
  while (!token.empty() && token.back() == '=') token.pop_back();
  return token;
}

namespace {
// Reads "<digits>:" at the front of `text` into `out` and drops it.
bool take_number(std::string_view& text, auto& out) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (std::from_chars(text.data(), text.data() + colon, out).ptr != text.data() + colon) return false;
  text.remove_prefix(colon + 1);
  return true;
}
}  // namespace

Result<ContinueToken> decode_continue(const std::string& token) {
  if (token.size() > 1024) return bad_continue("the token is longer than any this server gives");
  std::string text = token;
  std::replace(text.begin(), text.end(), '-', '+');
  std::replace(text.begin(), text.end(), '_', '/');
  while (text.size() % 4 != 0) text += '=';
  auto decoded = base64_decode(text);
  if (!decoded) return bad_continue("not a token this server gave");
  ContinueToken out;
  std::string_view rest = *decoded;
  // Names never hold ':' (RFC 1123), so the last field is the whole name.
  if (!take_number(rest, out.revision) || !take_number(rest, out.answered) || rest.empty())
    return bad_continue("not a token this server gave");
  out.last_name = std::string(rest);
  return out;
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
    auto token = decode_continue(req.get_param_value("continue"));
    if (!token) return token.take_error();
    page.after = std::move(token->last_name);
    page.answered = token->answered;
  }
  return page;
}

}  // namespace corral::server
