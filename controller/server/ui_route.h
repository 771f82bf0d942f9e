// GET /ui/<file>: the dashboard's files, open (the page holds no data; it
// asks the API for everything with the token the user signs in with).
// Served from ServerOptions::ui_dir when set (an installed share directory),
// else from the copy compiled into the binary (ui_assets.h). Only plain file
// names of known types: no directories, no dot files, nothing else on disk.
#pragma once

#include <string>

#include "controller/server/http_message.h"

namespace corral::server {

// `file`: the path after "/ui/" ("" for the index); `ui_dir`: empty for the
// compiled-in copy. "/ui" without its slash is redirected, so the page's
// relative links resolve under /ui/.
void serve_ui(const std::string& file, bool without_slash, const std::string& ui_dir,
              HttpResponse& res);

}  // namespace corral::server
