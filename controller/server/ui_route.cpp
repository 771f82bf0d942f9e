#include "controller/server/ui_route.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <string_view>

#include "controller/server/ui_assets.h"

namespace corral::server {

namespace {

constexpr size_t kMaxFileBytes = 4 << 20;  // a page asset larger than this is not one of ours

std::optional<std::string_view> content_type_of(std::string_view file) {
  auto ends = [&](std::string_view suffix) { return file.ends_with(suffix); };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return std::nullopt;
}

bool plain_name(std::string_view file) {
  if (file.empty() || file.front() == '.' || file.size() > 100) return false;
  return std::all_of(file.begin(), file.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || c == '_';
  });
}

std::optional<std::string> read_file(const std::string& ui_dir, const std::string& file) {
  std::ifstream in(ui_dir + "/" + file, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return std::nullopt;
  std::string content = std::move(text).str();
  if (content.size() > kMaxFileBytes) return std::nullopt;
  return content;
}

std::optional<std::string> embedded(const std::string& file) {
  for (const UiAsset& asset : embedded_ui_assets())
    if (asset.path == file) return std::string(asset.data);
  return std::nullopt;
}

void not_found(HttpResponse& res, const std::string& file) {
  res.status = 404;
  res.set_content("no such dashboard file: " + file + "\n", "text/plain; charset=utf-8");
}

}  // namespace

void serve_ui(const std::string& file_in, bool without_slash, const std::string& ui_dir,
              HttpResponse& res) {
  if (without_slash) {
    res.status = 301;
    res.set_header("Location", "/ui/");
    res.set_content("moved to /ui/\n", "text/plain; charset=utf-8");
    return;
  }
  const std::string file = file_in.empty() ? "index.html" : file_in;
  const auto type = content_type_of(file);
  if (!type || !plain_name(file)) return not_found(res, file);
  auto content = ui_dir.empty() ? embedded(file) : read_file(ui_dir, file);
  if (!content) return not_found(res, file);
  res.status = 200;
  res.set_content(std::move(*content), *type);
  // The page runs only its own scripts, talks only to this server, and is
  // framed by no one (clickjacking of the cordon and drain buttons).
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                 "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
}

}  // namespace corral::server
