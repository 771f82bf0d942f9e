// Headless Chromium driven over the DevTools protocol, for the dashboard's
// end-to-end test. The protocol runs over a pipe (--remote-debugging-pipe:
// JSON messages ended by NUL on the child's fds 3 and 4), as Puppeteer's pipe
// transport does: no WebSocket, no debugging port anyone else could reach.
// Every call waits at most `call_timeout`; the destructor kills the browser
// and every process it started (its own process group).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace corral::testing {

class HeadlessChromium {
 public:
  // The first of chromium, chromium-browser, google-chrome on PATH; none: nullopt.
  static std::optional<std::string> find_binary();

  // `profile_dir`: an empty directory of the test's (the browser's profile).
  HeadlessChromium(std::string binary, std::string profile_dir, int width = 1400, int height = 900);
  ~HeadlessChromium();
  HeadlessChromium(const HeadlessChromium&) = delete;
  HeadlessChromium& operator=(const HeadlessChromium&) = delete;

  // Starts the browser and attaches to its page. False with `error` set.
  bool start(std::string* error);

  // One protocol command on the page's session; its "result". Throws
  // std::runtime_error on a protocol error or after call_timeout.
  nlohmann::json call(const std::string& method, nlohmann::json params = nlohmann::json::object());
  void navigate(const std::string& url);
  // Evaluates `expression` in the page (promises awaited); its value as JSON.
  // Throws on an exception in the page.
  nlohmann::json evaluate(const std::string& expression);
  // Evaluates `predicate` every 100 ms until it is true or `timeout` passes.
  bool wait_until(const std::string& predicate, std::chrono::milliseconds timeout);
  // A PNG of the viewport, written to `path`.
  void screenshot(const std::string& path);
  // What the page logged (console calls and uncaught exceptions), for failures.
  std::string console() const;

  std::chrono::milliseconds call_timeout{30'000};

 private:
  nlohmann::json send(const std::string& method, nlohmann::json params, bool on_page);
  std::optional<nlohmann::json> read_message(std::chrono::steady_clock::time_point deadline);
  void note_event(const nlohmann::json& message);

  std::string binary_;
  std::string profile_dir_;
  int width_, height_;
  pid_t pid_ = -1;
  int to_browser_ = -1;    // our end of its fd 3
  int from_browser_ = -1;  // our end of its fd 4
  std::string buffered_;
  int next_id_ = 1;
  std::string session_;
  std::vector<std::string> console_;
};

}  // namespace corral::testing
