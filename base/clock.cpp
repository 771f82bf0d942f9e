#include "base/clock.h"

#include <ctime>
#include <cstdio>

namespace corral {

RealClock& RealClock::instance() {
  static RealClock clock;
  return clock;
}

FakeClock::FakeClock()
    : wall_(std::chrono::system_clock::time_point(std::chrono::seconds(1'790'000'000))),
      steady_(std::chrono::steady_clock::time_point(std::chrono::hours(1000))) {}

std::chrono::system_clock::time_point FakeClock::now() const {
  std::lock_guard lock(mu_);
  return wall_;
}
std::chrono::steady_clock::time_point FakeClock::steady_now() const {
  std::lock_guard lock(mu_);
  return steady_;
}
void FakeClock::advance(std::chrono::milliseconds by) {
  std::lock_guard lock(mu_);
  wall_ += by;
  steady_ += by;
}
void FakeClock::set(std::chrono::system_clock::time_point wall) {
  std::lock_guard lock(mu_);
  wall_ = wall;
}

std::string format_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // room for any int the format could print, or -Wformat-truncation fails the build
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

bool parse_time(const std::string& text, std::chrono::system_clock::time_point* out) {
  std::tm tm{};
  int ms = 0;
  char tail[8] = {0};
  int n = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6)
    return false;
  const char* rest = text.c_str() + n;
  if (*rest == '.') {
    int digits = 0;
    ++rest;
    while (*rest >= '0' && *rest <= '9') {
      if (digits < 3) ms = ms * 10 + (*rest - '0');
      ++digits;
      ++rest;
    }
    if (digits == 0) return false;
    for (int d = digits; d < 3; ++d) ms *= 10;
  }
  std::snprintf(tail, sizeof tail, "%s", rest);
  if (std::string(tail) != "Z") return false;
  // system_clock counts nanoseconds in 64 bits: about 1678 to 2262. A year
  // outside [1900, 2200] (a peer's lie, a typo) is refused, not overflowed.
  if (tm.tm_year < 1900 || tm.tm_year > 2200 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
      tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
      tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t secs = timegm(&tm);
  *out = std::chrono::system_clock::time_point(std::chrono::seconds(secs)) + std::chrono::milliseconds(ms);
  return true;
}

std::string format_age(std::chrono::system_clock::duration age) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(age).count();
  if (s < 0) s = 0;
  if (s < 120) return std::to_string(s) + "s";
  if (s < 2 * 3600) return std::to_string(s / 60) + "m";
  if (s < 2 * 86400) return std::to_string(s / 3600) + "h";
  if (s < 2 * 365 * 86400) return std::to_string(s / 86400) + "d";
  return std::to_string(s / (365 * 86400)) + "y";
}

}  // namespace corral
