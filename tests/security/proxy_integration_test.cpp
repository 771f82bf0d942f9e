// Attacks through a real proxy (balancer/proxy, in this process) on loopback
// port 0, in front of real HTTP backends: what the client and the backend see
// when the parsers refuse something (framing_unit_test.cpp has every framing
// case), when a path tries to walk around a content rule, when a client
// trickles its request head, and when one address opens too many connections.
// One test per attack, named after it.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/defaults.h"
#include "api/types.h"
#include "balancer/proxy/proxy.h"
#include "tests/support/e2e_util.h"
#include "tests/support/http_backend.h"

namespace corral::testing {
namespace proxy_integration_test {

using namespace std::chrono_literals;

// One request on a fresh connection from 127.0.0.1; the whole answer (the
// proxy closes after it: `Connection: close`).
std::string round_trip(const std::string& listen, const std::string& head) {
  int fd = connect_tcp(listen);
  if (fd < 0) return "<connect failed>";
  send_all(fd, head);
  std::string out = read_until_close(fd);
  ::close(fd);
  return out;
}

// A backend that answers every request head with the same bytes, keeps the
// connection open, and records how many requests each connection carried.
class CannedBackend {
 public:
  explicit CannedBackend(std::string answer) : answer_(std::move(answer)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        int fd = ::accept(listen_fd_, nullptr, nullptr);
        if (fd < 0) return;
        std::lock_guard lock(mu_);
        fds_.push_back(fd);
        threads_.emplace_back([this, fd] { serve(fd); });
      }
    });
  }
  ~CannedBackend() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::lock_guard lock(mu_);
    for (int fd : fds_) ::shutdown(fd, SHUT_RDWR);
    for (auto& t : threads_) t.join();
    for (int fd : fds_) ::close(fd);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }
  int most_requests_on_one_connection() const { return most_.load(); }

 private:
  void serve(int fd) {
    std::string in;
    char buf[4096];
    int on_this = 0;
    for (;;) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      in.append(buf, static_cast<size_t>(n));
      for (size_t end; (end = in.find("\r\n\r\n")) != std::string::npos;) {
        in.erase(0, end + 4);
        ++requests_;
        if (++on_this > most_.load()) most_ = on_this;
        send_all(fd, answer_);
      }
    }
  }
  std::string answer_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> most_{0};
  std::mutex mu_;
  std::vector<int> fds_;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
};

struct EndpointSpec {
  std::string vm;
  std::string address;
  Labels labels;
};

class ProxyAttack : public ::testing::Test {
 protected:
  // Serves Balancer "web" with `spec` over `endpoints`; listen_ is its address.
  void serve(BalancerSpec spec, const std::vector<EndpointSpec>& endpoints) {
    Balancer b;
    b.metadata.name = "web";
    spec.vmSet = "web";
    spec.listen = "127.0.0.1:0";
    spec.mode = "http";
    // Health checks would open connections of their own to the backends.
    spec.healthCheck.type = "tcp";
    spec.healthCheck.intervalSeconds = 3600;
    b.spec = std::move(spec);
    for (const auto& e : endpoints) {
      Endpoint ep;
      ep.vm = e.vm;
      ep.node = "n-" + e.vm;
      ep.address = e.address;
      ep.epoch = 1;
      ep.labels = e.labels;
      b.status.endpoints.push_back(ep);
    }
    apply_defaults(b);
    proxy_ = std::make_unique<balancer::Proxy>(balancer::ProxyOptions{1, "127.0.0.1:0", "test"});
    ASSERT_TRUE(proxy_->start());
    auto applied = proxy_->apply(b);
    ASSERT_TRUE(applied) << applied.error().message;
    listen_ = proxy_->report().at(0).listen;
    ASSERT_FALSE(listen_.empty());
  }
  void TearDown() override {
    if (proxy_) proxy_->stop();
  }
  double metric(const std::string& series) {
    return scrape_metric(proxy_->admin_address(), series).value_or(-1);
  }

  std::unique_ptr<balancer::Proxy> proxy_;
  std::string listen_;
};

TEST_F(ProxyAttack, SmuggledRequestBehindChunkedIdentityGets400AndTheConnectionCloses) {
  HttpBackend backend("b1");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  serve(BalancerSpec{}, {{"b1", backend.address(), {}}});
  std::string answer =
      round_trip(listen_,
                 "POST / HTTP/1.1\r\nHost: shop\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
                 "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: shop\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << "a second answer: " << answer;
  EXPECT_EQ(backend.requests(), 0);
}

TEST_F(ProxyAttack, ContentLengthListAndDuplicateHostGet400) {
  HttpBackend backend("b1");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  serve(BalancerSpec{}, {{"b1", backend.address(), {}}});
  for (const char* head :
       {"POST / HTTP/1.1\r\nHost: shop\r\nContent-Length: 2, 2\r\n\r\nok",
        "GET / HTTP/1.1\r\nHost: public\r\nHost: admin\r\n\r\n", "GET / HTTP/1.1\r\n\r\n"}) {
    std::string answer = round_trip(listen_, head);
    EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << head << " → " << answer;
  }
  EXPECT_EQ(backend.requests(), 0);
}

TEST_F(ProxyAttack, DotSegmentsCannotWalkAroundAPathRule) {
  HttpBackend pub("public");
  std::string error;
  ASSERT_TRUE(pub.start(&error)) << error;
  // /admin goes to endpoints labelled tier=admin: there are none, so 503.
  BalancerSpec spec;
  BalancerRule admin;
  admin.pathPrefix = "/admin";
  admin.selector.matchLabels = {{"tier", "admin"}};
  BalancerRule open;
  open.pathPrefix = "/public";
  open.selector.matchLabels = {{"tier", "public"}};
  spec.rules = {admin, open};
  serve(spec, {{"public", pub.address(), {{"tier", "public"}}}});

  for (const char* path : {"/public/../admin", "/public/%2e%2e/admin", "/public/%2E%2E/admin/x",
                           "/public/./../admin"}) {
    HttpResult r = http_get(listen_, path, "shop");
    EXPECT_EQ(r.status, 503) << path << " → " << r.body;
  }
  EXPECT_EQ(pub.requests(), 0);
  // Above the root: 400.
  std::string answer =
      round_trip(listen_, "GET /public/../../etc/passwd HTTP/1.1\r\nHost: shop\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
}

TEST_F(ProxyAttack, TheBackendReceivesTheNormalisedTargetWithPercent2FKept) {
  HttpBackend pub("public");
  std::string error;
  ASSERT_TRUE(pub.start(&error)) << error;
  serve(BalancerSpec{}, {{"public", pub.address(), {}}});
  HttpResult r = http_get(listen_, "/public/./a/%2e%2e/b%7e/c%2Fd?q=/../x", "shop");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body.rfind("public /public/b~/c%2Fd?q=/../x ", 0), 0u) << r.body;
}

TEST_F(ProxyAttack, MalformedFramingFromABackendGets502AndItsConnectionIsNotReused) {
  CannedBackend backend("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok");
  serve(BalancerSpec{}, {{"b1", backend.address(), {}}});
  int fd = connect_tcp(listen_);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 2; ++i) {
    send_all(fd, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n");
    std::string answer = read_answer(fd);
    EXPECT_EQ(answer.rfind("HTTP/1.1 502 ", 0), 0u) << answer;
    EXPECT_NE(answer.find("Content-Length"), std::string::npos) << answer;
  }
  ::close(fd);
  EXPECT_EQ(backend.requests(), 2);
  EXPECT_EQ(backend.most_requests_on_one_connection(), 1);
}

TEST_F(ProxyAttack, SlowlorisTrickledHeadGets408AfterRequestHeadSeconds) {
  HttpBackend backend("b1");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  BalancerSpec spec;
  spec.timeouts.requestHeadSeconds = 1;
  spec.timeouts.clientSeconds = 60;  // every single read comes well within it
  serve(spec, {{"b1", backend.address(), {}}});
  // Reads give up after 20 s: the old per-request clientSeconds (60 s) would
  // not answer by then.
  int fd = connect_tcp(listen_, "127.0.0.1", 20s);
  ASSERT_GE(fd, 0);
  std::atomic<bool> stop{false};
  std::thread trickle([&] {
    send_all(fd, "GET / HTTP/1.1\r\nHost: shop\r\n");
    for (int i = 0; i < 100 && !stop; ++i) {
      std::this_thread::sleep_for(100ms);
      send_all(fd, "X");
    }
  });
  std::string answer = read_until_close(fd);
  stop = true;
  trickle.join();
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 408 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("requestHeadSeconds"), std::string::npos) << answer;
  EXPECT_EQ(backend.requests(), 0);
}

TEST_F(ProxyAttack, ConnectionFloodFromOneAddressIsCappedPerClient) {
  HttpBackend backend("b1");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  BalancerSpec spec;
  spec.maxConnectionsPerClient = 2;
  serve(spec, {{"b1", backend.address(), {}}});
  // Two kept-alive connections from 127.0.0.1, each proven served.
  std::vector<int> held;
  for (int i = 0; i < 2; ++i) {
    int fd = connect_tcp(listen_);
    ASSERT_GE(fd, 0);
    send_all(fd, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n");
    std::string answer = read_answer(fd);
    ASSERT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
    held.push_back(fd);
  }
  // The third from the same address is closed without an answer ...
  int third = connect_tcp(listen_);
  ASSERT_GE(third, 0);
  send_all(third, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n");
  EXPECT_EQ(read_until_close(third), "");
  ::close(third);
  EXPECT_EQ(
      metric("corral_balancer_rejected_total{balancer=\"web\",reason=\"maxConnectionsPerClient\"}"),
      1);
  // ... while another address is served,
  int other = connect_tcp(listen_, "127.0.0.2");
  ASSERT_GE(other, 0);
  send_all(other, "GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n");
  std::string answer = read_until_close(other);
  ::close(other);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
  // and a closed connection gives its slot back.
  ::close(held.back());
  held.pop_back();
  EXPECT_TRUE(wait_for(
      [&] {
        return round_trip(listen_, "GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n")
                   .rfind("HTTP/1.1 200 ", 0) == 0;
      },
      30'000ms));
  for (int fd : held) ::close(fd);
}

TEST_F(ProxyAttack, AnIdleKeptAliveConnectionIsClosedAfterClientSeconds) {
  HttpBackend backend("b1");
  std::string error;
  ASSERT_TRUE(backend.start(&error)) << error;
  BalancerSpec spec;
  spec.timeouts.clientSeconds = 1;
  spec.timeouts.requestHeadSeconds = 60;  // not the deadline that closes it
  serve(spec, {{"b1", backend.address(), {}}});
  // Reads give up after 20 s: a connection the proxy kept would time out
  // here (EAGAIN) instead of reading the end of stream.
  int fd = connect_tcp(listen_, "127.0.0.1", 20s);
  ASSERT_GE(fd, 0);
  send_all(fd, "GET / HTTP/1.1\r\nHost: shop\r\n\r\n");
  std::string answer = read_answer(fd);
  ASSERT_EQ(answer.rfind("HTTP/1.1 200 ", 0), 0u) << answer;
  char c;
  errno = 0;
  const ssize_t n = ::recv(fd, &c, 1, 0);
  const int err = errno;
  ::close(fd);
  EXPECT_EQ(n, 0) << "not closed by the proxy (errno " << err << ")";  // closed, without an answer
  EXPECT_TRUE(wait_for([&] { return metric("corral_balancer_client_connections{balancer=\"web\"}") == 0; },
                       30'000ms));
}

TEST_F(ProxyAttack, ExpectContinueGetsNo100BeforeABackendConnectionExists) {
  // An endpoint nobody listens on: a port bound, then closed.
  int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string dead = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  ::close(probe);
  serve(BalancerSpec{}, {{"dead", dead, {}}});
  int fd = connect_tcp(listen_);
  ASSERT_GE(fd, 0);
  send_all(fd, "PUT /f HTTP/1.1\r\nHost: shop\r\nExpect: 100-continue\r\nContent-Length: 100000000\r\n\r\n");
  // The client sends nothing more: the proxy must answer from what it has,
  // with the final status, and close (the body was never read).
  std::string answer = read_until_close(fd);
  ::close(fd);
  EXPECT_EQ(answer.rfind("HTTP/1.1 502 ", 0), 0u) << answer;
  EXPECT_EQ(answer.find("100 Continue"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
}

}  // namespace proxy_integration_test
}  // namespace corral::testing
