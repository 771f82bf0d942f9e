// Client sockets for tests that speak HTTP by hand: the point of those tests
// is what a server does before a request is complete (a slow head, a body
// over the cap, a flood from one address), which no HTTP client library lets
// a test write. Blocking sockets; every read has a bound (30 s by default), a
// bound for a broken server, not a timing assertion.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace corral::testing {

// A blocking TCP connection to "ipv4:port" whose reads give up after
// `read_timeout`; -1 when it cannot be made. With `source_ip` it connects
// from that address (any 127.0.0.0/8 address is loopback, so a test can be
// several clients); without, the kernel picks it — a loopback source cannot
// reach an address outside 127/8, such as an agent in a test's namespace.
int connect_tcp(const std::string& host_port, const char* source_ip = nullptr,
                std::chrono::seconds read_timeout = std::chrono::seconds(30));

// Writes all of `data`; false once the peer stopped taking bytes.
bool send_all(int fd, std::string_view data);

// Everything until the peer closes (end of stream or a reset: then *closed is
// set) or the read bound passes.
std::string read_until_close(int fd, bool* closed = nullptr);

// One answer: its head and a Content-Length body (none without the field);
// what came when the peer closed or the read bound passed first.
std::string read_answer(int fd);

// The status code of "HTTP/1.x NNN ..."; 0 for anything else.
int status_of(const std::string& answer);

// "<hex size>\r\n<data>\r\n": one chunk of a chunked body.
std::string chunk(const std::string& data);

// One connection to a loopback port, closed when it goes.
class RawConnection {
 public:
  explicit RawConnection(int port, const char* source_ip = "127.0.0.1");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool send_all(std::string_view bytes) { return testing::send_all(fd_, bytes); }
  std::string read_until_close() { return testing::read_until_close(fd_, &closed_); }
  std::string read_answer() { return testing::read_answer(fd_); }
  // Whether read_until_close ended because the server closed the connection.
  bool closed() const { return closed_; }
  // Without waiting: has the server sent something or closed? (Peeks: the
  // bytes stay for the next read.)
  bool answered_or_closed() const;

 private:
  int fd_ = -1;
  bool closed_ = false;
};

}  // namespace corral::testing
