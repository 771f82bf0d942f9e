#include "agent/drivers/qmp.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "api/json.h"

namespace corral::agent {

namespace {

class QmpConnection {
 public:
  ~QmpConnection() {
    if (fd_ >= 0) close(fd_);
  }

  Result<void> connect_to(const std::filesystem::path& socket, std::chrono::milliseconds timeout) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket.string().size() >= sizeof(addr.sun_path))
      return make_error(ErrorCode::kBadRequest, "QMP socket path too long: " + socket.string());
    std::strncpy(addr.sun_path, socket.c_str(), sizeof(addr.sun_path) - 1);
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return failure("socket");
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
      return failure("connect " + socket.string());
    return Ok{};
  }

  // The next message that is not an asynchronous event.
  Result<Json> read_answer() {
    for (;;) {
      auto line = read_line();
      if (!line) return line.take_error();
      Json j = Json::parse(*line, nullptr, /*allow_exceptions=*/false);
      if (j.is_discarded() || !j.is_object())
        return make_error(ErrorCode::kInternal, "QMP: not a JSON object: " + *line);
      if (!j.contains("event")) return j;
    }
  }

  Result<void> send(const std::string& command) {
    std::string msg = "{\"execute\":\"" + command + "\"}\n";
    size_t off = 0;
    while (off < msg.size()) {
      ssize_t n = ::write(fd_, msg.data() + off, msg.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return failure("write");
      off += static_cast<size_t>(n);
    }
    return Ok{};
  }

 private:
  Result<std::string> read_line() {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::read(fd_, chunk, sizeof(chunk));
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return make_error(ErrorCode::kUnavailable, "QMP: connection closed");
      if (n < 0) return failure("read");
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  Error failure(const std::string& what) const {
    return Error{ErrorCode::kUnavailable, "QMP: " + what + ": " + std::strerror(errno)};
  }

  int fd_ = -1;
  std::string buffer_;
};

Result<Json> result_of(const Json& answer, const std::string& command) {
  if (answer.contains("return")) return answer["return"];
  std::string desc = answer.contains("error") && answer["error"].contains("desc")
                         ? answer["error"]["desc"].get<std::string>()
                         : answer.dump();
  return make_error(ErrorCode::kInternal, "QMP " + command + ": " + desc);
}

}  // namespace

Result<Json> qmp_execute(const std::filesystem::path& socket, const std::string& command,
                         std::chrono::milliseconds timeout) {
  QmpConnection conn;
  if (auto r = conn.connect_to(socket, timeout); !r) return r.take_error();
  auto greeting = conn.read_answer();  // {"QMP": {...}}
  if (!greeting) return greeting.take_error();
  if (auto r = conn.send("qmp_capabilities"); !r) return r.take_error();
  auto caps = conn.read_answer();
  if (!caps) return caps.take_error();
  if (auto r = result_of(*caps, "qmp_capabilities"); !r) return r.take_error();
  if (auto r = conn.send(command); !r) return r.take_error();
  auto answer = conn.read_answer();
  if (!answer) return answer.take_error();
  return result_of(*answer, command);
}

}  // namespace corral::agent
