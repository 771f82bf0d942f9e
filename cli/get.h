// corralctl get KIND[,KIND...] [NAME...] [-o ...] [-l ...] [--field-selector ...] [-w]
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
  // --watch-timeout; unset: watch until interrupted.
  std::optional<std::chrono::milliseconds> watch_timeout;
};

int run_get(Context& ctx, const GetOptions& options);

}  // namespace corral::cli
