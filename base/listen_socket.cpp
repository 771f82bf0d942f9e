#include "base/listen_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

namespace corral {

void exclusive_socket_options(int fd) {
  int yes = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

std::string bind_error_text(int err) {
  switch (err) {
    case EADDRINUSE:
      return "address already in use";
    case EADDRNOTAVAIL:
      return "not an address of this host";
    case EACCES:
      return "permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)";
    default:
      break;
  }
  std::string text = std::strerror(err);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

std::string probe_listen_error(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc =
          ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
      rc != 0)
    return "cannot resolve " + host + ": " + ::gai_strerror(rc);
  std::string why = "no address to bind";
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      why = bind_error_text(errno);
      continue;
    }
    exclusive_socket_options(fd);
    if (a->ai_family == AF_INET6) {  // as cpp-httplib: dual-stack
      int no = 0;
      ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &no, sizeof no);
    }
    // With SO_REUSEADDR a bind can succeed beside a socket that is bound and
    // not yet listening; listen() is where the two then collide.
    bool ok = ::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, 1) == 0;
    if (!ok) why = bind_error_text(errno);
    ::close(fd);
    if (ok) {
      why.clear();
      break;
    }
  }
  ::freeaddrinfo(found);
  return why;
}

std::string listen_error(const std::string& name, const std::string& host, int port,
                         const std::string& why) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return name + " " + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + ": " + why;
}

}  // namespace corral
