// corralctl get KIND[,KIND...] [NAME...] | KIND/NAME... [-o ...] [-l ...]
//   [--field-selector ...] [-w] [--show-labels] [--no-headers] [--sort-by FIELD]
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.h"

namespace corral::cli {

struct GetOptions {
  std::vector<std::string> args;  // KIND[,KIND...] then names
  std::string output;             // "" | wide | yaml | json | name
  std::string label_selector;     // -l
  std::string field_selector;     // --field-selector
  bool watch = false;             // -w
  bool show_labels = false;       // --show-labels: a LABELS column
  bool no_headers = false;        // --no-headers
  std::string sort_by;            // --sort-by .metadata.name or {.status.phase}: a field path
  // --watch-timeout; unset: watch until interrupted.
  std::optional<std::chrono::milliseconds> watch_timeout;
};

int run_get(Context& ctx, const GetOptions& options);

}  // namespace corral::cli
