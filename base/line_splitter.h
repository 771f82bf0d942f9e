// Cuts a byte stream (a watch's chunked answer) into lines as it arrives:
// LF or CRLF ends a line, empty lines are skipped. Shared by the API client's
// watch streams and the etcd client's, whose bytes come in curl callbacks of
// any size.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace corral {

class LineSplitter {
 public:
  enum class Outcome {
    kMore,     // every complete line was handed on; waiting for more bytes
    kStopped,  // on_line returned false
    kTooLong,  // a line (or the bytes after the last newline) passed max_line
  };
  // `max_line` in bytes; 0: no bound.
  explicit LineSplitter(size_t max_line = 0) : max_line_(max_line) {}

  // Appends `data` and hands each complete line, without its line end, to
  // `on_line` until that returns false.
  Outcome feed(std::string_view data, const std::function<bool(const std::string&)>& on_line) {
    pending_.append(data);
    size_t start = 0;
    for (size_t nl = pending_.find('\n'); nl != std::string::npos; nl = pending_.find('\n', start)) {
      if (max_line_ > 0 && nl - start > max_line_) return Outcome::kTooLong;
      std::string line = pending_.substr(start, nl - start);
      start = nl + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      if (!on_line(line)) return Outcome::kStopped;
    }
    pending_.erase(0, start);
    if (max_line_ > 0 && pending_.size() > max_line_) return Outcome::kTooLong;
    return Outcome::kMore;
  }

  // The bytes after the last newline (a last line the server did not end).
  const std::string& rest() const { return pending_; }

 private:
  const size_t max_line_;
  std::string pending_;
};

}  // namespace corral
