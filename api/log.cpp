#include "api/log.h"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace corral {

namespace {
std::mutex g_mu;
spdlog::level::level_enum g_level = spdlog::level::info;  // guarded by g_mu
}  // namespace

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto l = spdlog::stderr_color_mt(name);
  l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ %n: %v");
  l->set_level(g_level);
  return l;
}

bool set_log_level(const std::string& level) {
  auto lvl = spdlog::level::from_str(level);
  if (lvl == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(g_mu);
  g_level = lvl;
  spdlog::set_level(lvl);
  return true;
}

}  // namespace corral
