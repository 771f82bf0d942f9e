#include "tests/support/chromium.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "tests/support/paths.h"

namespace corral::testing {

using nlohmann::json;

namespace {

std::string decode_base64(const std::string& in) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned value = 0;
  int bits = 0;
  for (char c : in) {
    const auto at = alphabet.find(c);
    if (at == std::string::npos) continue;  // '=' and line breaks
    value = (value << 6) | static_cast<unsigned>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((value >> bits) & 0xff));
    }
  }
  return out;
}

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

std::optional<std::string> HeadlessChromium::find_binary() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
    if (auto found = find_on_path(name)) return found;
  return std::nullopt;
}

HeadlessChromium::HeadlessChromium(std::string binary, std::string profile_dir, int width, int height)
    : binary_(std::move(binary)), profile_dir_(std::move(profile_dir)), width_(width), height_(height) {}

HeadlessChromium::~HeadlessChromium() {
  if (to_browser_ >= 0) ::close(to_browser_);
  if (from_browser_ >= 0) ::close(from_browser_);
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);  // the browser and its renderers: one process group
    ::waitpid(pid_, nullptr, 0);
  }
}

bool HeadlessChromium::start(std::string* error) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    *error = "pipe failed";
    return false;
  }
  const std::string log = profile_dir_ + "/chromium.log";
  std::vector<std::string> args = {
      binary_, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
      "--remote-debugging-pipe", "--user-data-dir=" + profile_dir_, "--no-first-run",
      "--no-default-browser-check", "--disable-extensions", "--disable-sync",
      // Nothing leaves the machine: no update checks, no field trials, no
      // safe-browsing lists; the test's pages are all on 127.0.0.1.
      "--disable-background-networking", "--disable-component-update", "--disable-breakpad",
      "--disable-domain-reliability", "--metrics-recording-only", "--no-pings",
      "--hide-scrollbars", "--mute-audio",
      "--window-size=" + std::to_string(width_) + "," + std::to_string(height_), "about:blank"};
  pid_ = ::fork();
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);
    // Move the pipe ends clear of 3 and 4 first: dup2 onto them must not
    // close an end not yet moved.
    int cmd = ::fcntl(in[0], F_DUPFD, 10), res = ::fcntl(out[1], F_DUPFD, 10);
    ::dup2(cmd, 3);
    ::dup2(res, 4);
    int logfd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, 0);
    ::dup2(logfd, 1);
    ::dup2(logfd, 2);
    for (int fd = 5; fd < 1024; ++fd) ::close(fd);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(binary_.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  to_browser_ = in[1];
  from_browser_ = out[0];
  try {
    json targets = send("Target.getTargets", json::object(), false);
    std::string page;
    // The tab it opened on about:blank (new headless also lists pages of
    // its own UI, which never navigate).
    for (const auto& t : targets["targetInfos"])
      if (page.empty() && t.value("type", "") == "page" && t.value("url", "") == "about:blank")
        page = t.value("targetId", "");
    if (page.empty()) page = send("Target.createTarget", {{"url", "about:blank"}}, false)["targetId"];
    session_ = send("Target.attachToTarget", {{"targetId", page}, {"flatten", true}}, false)["sessionId"];
    call("Runtime.enable");
    call("Page.enable");
  } catch (const std::exception& e) {
    *error = std::string("chromium did not answer: ") + e.what() + "; its log: " +
             [&] { std::ifstream f(log); return std::string(std::istreambuf_iterator<char>(f), {}); }();
    return false;
  }
  return true;
}

std::optional<json> HeadlessChromium::read_message(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (auto end = buffered_.find('\0'); end != std::string::npos) {
      std::string text = buffered_.substr(0, end);
      buffered_.erase(0, end + 1);
      if (std::getenv("CORRAL_CDP_TRACE")) std::fprintf(stderr, "cdp <- %.300s\n", text.c_str());
      return json::parse(text);
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    pollfd p{from_browser_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    char chunk[65536];
    ssize_t n = ::read(from_browser_, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("chromium closed its pipe (it exited)");
    buffered_.append(chunk, static_cast<size_t>(n));
  }
}

void HeadlessChromium::note_event(const json& message) {
  const std::string method = message.value("method", "");
  if (method == "Runtime.consoleAPICalled") {
    std::string line = message["params"].value("type", "log") + ":";
    for (const auto& arg : message["params"]["args"])
      line += " " + (arg.contains("value") ? arg["value"].dump() : arg.value("description", "?"));
    console_.push_back(line);
  } else if (method == "Runtime.exceptionThrown") {
    const auto& details = message["params"]["exceptionDetails"];
    console_.push_back("exception: " + details.value("text", "") + " " +
                       details.value("exception", json::object()).value("description", ""));
  }
}

json HeadlessChromium::send(const std::string& method, json params, bool on_page) {
  const int id = next_id_++;
  json message = {{"id", id}, {"method", method}, {"params", std::move(params)}};
  if (on_page) message["sessionId"] = session_;
  if (std::getenv("CORRAL_CDP_TRACE")) std::fprintf(stderr, "cdp -> %.300s\n", message.dump().c_str());
  if (!write_all(to_browser_, message.dump() + std::string(1, '\0')))
    throw std::runtime_error("cannot write to chromium");
  const auto deadline = std::chrono::steady_clock::now() + call_timeout;
  for (;;) {
    auto reply = read_message(deadline);
    if (!reply) throw std::runtime_error(method + ": no answer within the timeout");
    if (!reply->contains("id")) {
      note_event(*reply);
      continue;
    }
    if ((*reply)["id"] != id) continue;
    if (reply->contains("error")) throw std::runtime_error(method + ": " + (*reply)["error"].dump());
    return (*reply)["result"];
  }
}

json HeadlessChromium::call(const std::string& method, json params) {
  return send(method, std::move(params), true);
}

void HeadlessChromium::navigate(const std::string& url) {
  call("Page.navigate", {{"url", url}});
}

json HeadlessChromium::evaluate(const std::string& expression) {
  json result = call("Runtime.evaluate",
                     {{"expression", expression}, {"awaitPromise", true}, {"returnByValue", true}});
  if (result.contains("exceptionDetails"))
    throw std::runtime_error("in the page: " + expression + ": " + result["exceptionDetails"].dump());
  return result["result"].value("value", json());
}

bool HeadlessChromium::wait_until(const std::string& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (evaluate("!!(" + predicate + ")") == true) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void HeadlessChromium::screenshot(const std::string& path) {
  json shot = call("Page.captureScreenshot", {{"format", "png"}});
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << decode_base64(shot.value("data", ""));
}

std::string HeadlessChromium::console() const {
  std::string out;
  for (const auto& line : console_) out += line + "\n";
  return out;
}

}  // namespace corral::testing
