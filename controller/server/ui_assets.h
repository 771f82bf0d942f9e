// The dashboard's files (ui/ in the repository), compiled into the controller
// by cmake/embed_files.cmake so that /ui/ works from the binary alone; an
// installed copy (--ui-dir) is served instead when given.
#pragma once

#include <span>
#include <string_view>

namespace corral::server {

struct UiAsset {
  std::string_view path;  // relative to ui/: "index.html", "app.js"
  std::string_view data;
};

std::span<const UiAsset> embedded_ui_assets();

}  // namespace corral::server
