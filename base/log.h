// Named loggers per component (Envoy's habit): logger("store"), logger("api").
// Logs say what happened to which object: "vm/web-3 bound to node/host-7".
//
//   logger("scheduler")->info("vm/{} bound to node/{}", vm, node);
//
// Call sites see only fmt's core: the format string is checked at compile time
// and the message is formatted inside libfmt (fmt::vformat). spdlog and fmt's
// formatting templates stay in base/log.cpp: included in every file that
// logged, they cost each of them about two seconds of compiling.
// Thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <fmt/core.h>

namespace corral {

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError, kOff };

class Logger {
 public:
  explicit Logger(std::string name);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  const std::string& name() const { return name_; }
  // True when messages of `level` are printed (the process-wide level).
  bool enabled(LogLevel level) const;
  // Prints one already formatted line.
  void write(LogLevel level, std::string_view message);

  template <class... Args>
  void log(LogLevel level, fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(level)) write(level, fmt::vformat(format, fmt::make_format_args(args...)));
  }
  template <class... Args>
  void trace(fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::kTrace, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void debug(fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::kDebug, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::kInfo, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void warn(fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::kWarn, format, std::forward<Args>(args)...);
  }
  template <class... Args>
  void error(fmt::format_string<Args...> format, Args&&... args) {
    log(LogLevel::kError, format, std::forward<Args>(args)...);
  }

 private:
  std::string name_;
  void* sink_;  // the spdlog::logger, owned by spdlog's registry
};

// Returns the logger of that name, creating it (stderr, shared format) on first
// use. It lives as long as the process.
Logger* logger(std::string_view name);
// "trace" | "debug" | "info" | "warn" | "error" | "off"; false if unknown.
bool set_log_level(const std::string& level);
// Writes out whatever every logger still holds, and stderr's buffer: before
// a process leaves through _exit(), which runs no destructor and no atexit.
void flush_logs();

}  // namespace corral
