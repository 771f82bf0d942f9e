#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace corral {

namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace:
      return spdlog::level::trace;
    case LogLevel::kDebug:
      return spdlog::level::debug;
    case LogLevel::kInfo:
      return spdlog::level::info;
    case LogLevel::kWarn:
      return spdlog::level::warn;
    case LogLevel::kError:
      return spdlog::level::err;
    case LogLevel::kOff:
      break;
  }
  return spdlog::level::off;
}

struct Registry {
  std::mutex mu;
  std::map<std::string, std::unique_ptr<Logger>, std::less<>> loggers;  // guarded by mu
};
Registry& registry() {
  static auto* r = new Registry;  // never destroyed: loggers are used until exit
  return *r;
}

}  // namespace

Logger::Logger(std::string name) : name_(std::move(name)) {
  auto l = spdlog::get(name_);
  if (!l) {
    l = spdlog::stderr_color_mt(name_);
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ %n: %v");
  }
  // The level is checked here, before formatting; spdlog prints what it is given.
  l->set_level(spdlog::level::trace);
  sink_ = l.get();
}

Logger::~Logger() = default;

bool Logger::enabled(LogLevel level) const {
  return level != LogLevel::kOff && level >= g_level.load(std::memory_order_relaxed);
}

void Logger::write(LogLevel level, std::string_view message) {
  static_cast<spdlog::logger*>(sink_)->log(to_spdlog(level),
                                           spdlog::string_view_t(message.data(), message.size()));
}

Logger* logger(std::string_view name) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  auto it = r.loggers.find(name);
  if (it == r.loggers.end())
    it = r.loggers.emplace(std::string(name), std::make_unique<Logger>(std::string(name))).first;
  return it->second.get();
}

void flush_logs() {
  spdlog::apply_all([](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  std::fflush(stderr);
}

bool set_log_level(const std::string& level) {
  static const std::map<std::string, LogLevel, std::less<>> kLevels = {
      {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug},    {"info", LogLevel::kInfo},
      {"warn", LogLevel::kWarn},   {"warning", LogLevel::kWarn},   {"error", LogLevel::kError},
      {"err", LogLevel::kError},   {"critical", LogLevel::kError}, {"off", LogLevel::kOff}};
  auto it = kLevels.find(level);
  if (it == kLevels.end()) return false;
  g_level.store(it->second, std::memory_order_relaxed);
  return true;
}

}  // namespace corral
