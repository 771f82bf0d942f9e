// corral-balancer as a real process in front of real HTTP backends on
// loopback, configured from a Balancer manifest (--file, no controller):
// algorithms over the wire, X-Forwarded-For, a dead backend, content rules,
// streamed chunked answers, HTTP/1.0, Expect: 100-continue, a hung backend, garbage, stalled headers, maxConnections, tcp mode, a port
// already taken, bad manifests, and 10,000 idle connections.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <thread>

#include "tests/support/balancer_process.h"
#include "tests/support/e2e_util.h"
#include "tests/support/http_backend.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {
namespace balancer_test {

using namespace std::chrono_literals;

// How long a wait for something that must happen may take: generous, since
// it ends as soon as the thing happened and only a failing test pays it.
constexpr auto kWait = 60s;

struct EndpointSpec {
  std::string vm;
  std::string address;
  std::string labels;  // YAML flow map body, e.g. "tier: api"
};

std::string manifest(const std::string& spec_extra, const std::vector<EndpointSpec>& endpoints,
                     const std::string& mode = "http") {
  std::string y = "apiVersion: corral/v1\nkind: Balancer\nmetadata: {name: web}\nspec:\n"
                  "  vmSet: web\n  listen: 127.0.0.1:0\n  mode: " + mode + "\n" + spec_extra +
                  "status:\n  endpoints:\n";
  for (const auto& e : endpoints)
    y += "    - {vm: " + e.vm + ", node: n-" + e.vm + ", address: \"" + e.address + "\", epoch: 1, labels: {" +
         e.labels + "}}\n";
  return y;
}

// (Not named exchange: ADL would pick std::exchange for std::string arguments.)
// Sends `data`, then reads until the peer closes or 30 s pass.
std::string send_raw(const std::string& host_port, const std::string& data, bool half_close = false) {
  int fd = connect_tcp(host_port);
  if (fd < 0) return "<connect failed>";
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

double metric(const std::string& admin, const std::string& series) {
  return scrape_metric(admin, series).value_or(-1);
}

// Polls the balancer's /metrics until `series` satisfies `ok` (or kWait
// passes) and returns its last value: a request's counts are recorded as it
// finishes, not necessarily before its client has the answer.
double eventual_metric(const std::string& admin, const std::string& series,
                       const std::function<bool(double)>& ok) {
  double v = -1;
  wait_for(
      [&] {
        v = metric(admin, series);
        return ok(v);
      },
      kWait);
  return v;
}
std::function<bool(double)> at_least(double n) {
  return [n](double v) { return v >= n; };
}

const std::string kClientConnections = "corral_balancer_client_connections{balancer=\"web\"}";

std::string who(const HttpResult& r) { return r.body.substr(0, r.body.find(' ')); }

class BalancerE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"b0", "b1", "b2"}) {
      backends_.push_back(std::make_unique<HttpBackend>(name));
      std::string error;
      ASSERT_TRUE(backends_.back()->start(&error)) << error;
    }
  }
  std::vector<EndpointSpec> endpoints(const std::vector<std::string>& labels = {"", "", ""}) {
    std::vector<EndpointSpec> out;
    for (size_t i = 0; i < backends_.size(); ++i)
      out.push_back({backends_[i]->name(), backends_[i]->address(), labels[i]});
    return out;
  }
  void start(const std::string& yaml, std::vector<std::string> extra = {"--threads", "1"}) {
    std::ofstream(dir_.file("lb.yaml")) << yaml;
    std::vector<std::string> args = {"--file", dir_.file("lb.yaml")};
    args.insert(args.end(), extra.begin(), extra.end());
    std::string error;
    ASSERT_TRUE(lb_.start(args, &error)) << error;
    listen_ = lb_.listener("web");
    ASSERT_FALSE(listen_.empty());
  }

  TempDir dir_;
  std::vector<std::unique_ptr<HttpBackend>> backends_;
  BalancerProcess lb_{balancer_binary()};
  std::string listen_;
};

TEST_F(BalancerE2E, RoundRobinSpreadsEvenlyAndAppendsXForwardedFor) {
  start(manifest("", endpoints()));
  std::map<std::string, int> count;
  for (int i = 0; i < 30; ++i) {
    HttpResult r = http_get(listen_, "/x");
    ASSERT_EQ(r.status, 200) << r.body;
    ++count[who(r)];
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"b0", 10}, {"b1", 10}, {"b2", 10}}));
  EXPECT_EQ(backends_[0]->last_forwarded_for(), "127.0.0.1");
  // An X-Forwarded-For from the client is kept, ours appended.
  std::string answer = send_raw(listen_, "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.1.2.3\r\n"
                                         "Connection: close\r\n\r\n");
  EXPECT_NE(answer.find("xff=10.1.2.3, 127.0.0.1"), std::string::npos) << answer;
  EXPECT_EQ(http_get(lb_.admin(), "/healthz").status, 200);
  // Polled up to 10, then exactly 10: nothing counted twice.
  EXPECT_EQ(eventual_metric(lb_.admin(), "corral_balancer_requests_total{balancer=\"web\",endpoint=\"b1\"}",
                            at_least(10)),
            10);
}

TEST_F(BalancerE2E, KeepAliveReusesOneClientConnectionForManyRequests) {
  // Health checks open connections of their own, one round per interval: an
  // hour apart, the test sees at most the first round however slowly it runs.
  start(manifest("  healthCheck: {intervalSeconds: 3600}\n", endpoints()));
  int fd = connect_tcp(listen_);
  ASSERT_GE(fd, 0);
  std::string got;
  for (int i = 0; i < 6; ++i) {
    std::string req = "GET /k HTTP/1.1\r\nHost: a\r\n\r\n";
    ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
    char buf[4096];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t answers = 0;
  for (size_t at = 0; (at = got.find("HTTP/1.1 200", at)) != std::string::npos; ++at) ++answers;
  EXPECT_EQ(answers, 6u) << got;
  // Backend side: pooled connections, not one per request.
  int conns = 0;
  for (auto& b : backends_) conns += b->connections();
  EXPECT_LE(conns, 3 + 3);  // + the health checks' connections: one round at most
}

TEST_F(BalancerE2E, RequestsKeepSucceedingWhenABackendDies) {
  start(manifest("", endpoints()));
  backends_[1]->stop();
  int ok = 0;
  std::map<std::string, int> count;
  for (int i = 0; i < 60; ++i) {
    HttpResult r = http_get(listen_, "/");
    if (r.status == 200) ++ok;
    ++count[who(r)];
  }
  EXPECT_EQ(ok, 60);
  EXPECT_EQ(count.count("b1"), 0u);
  EXPECT_GE(eventual_metric(lb_.admin(), "corral_balancer_retries_total{balancer=\"web\"}", at_least(1)), 1);
  EXPECT_GE(eventual_metric(lb_.admin(),
                            "corral_balancer_errors_total{balancer=\"web\",endpoint=\"b1\",kind=\"connect\"}",
                            at_least(1)),
            1);
  EXPECT_EQ(eventual_metric(lb_.admin(), "corral_balancer_endpoint_healthy{balancer=\"web\",endpoint=\"b1\"}",
                            [](double v) { return v == 0; }),
            0);
}

TEST_F(BalancerE2E, WeightedSendsLessToASlowBackendAndFollowsPublishedWeights) {
  // b0 answers 100 ms late (a badly loaded host); b1 and b2 at once. The gap
  // is wide against loopback latency on a loaded machine (a few ms, bursts of
  // tens): b0's latency factor stays near its 0.1 floor however busy CI is.
  backends_[0]->set_delay_ms(100);
  start(manifest("  algorithm: weighted\n", endpoints()));
  std::map<std::string, int> count;
  for (int i = 0; i < 300; ++i) ++count[who(http_get(listen_, "/"))];
  std::cout << "[ weighted ] b0/b1/b2 " << count["b0"] << "/" << count["b1"] << "/" << count["b2"] << "\n";
  // Round robin would give b0 100 of 300; measured latency cuts its weight:
  // the first 64 picks know no latency yet (about 21 to b0), after that b0's
  // factor is at its 0.1 floor (about 5 % of the rest): some 33 in all.
  // (b1 and b2 share the rest; how evenly depends on the loopback's latency noise.)
  EXPECT_LT(count["b0"], 50) << count["b0"] << "/" << count["b1"] << "/" << count["b2"];
  EXPECT_GT(count["b1"] + count["b2"], 250);
}

TEST_F(BalancerE2E, WeightedFollowsTheHeadroomTheControllerPublishes) {
  std::string yaml = manifest("  algorithm: weighted\n", endpoints());
  // The controller publishes weight = measured headroom of the VM's node.
  size_t at = 0;
  for (const char* w : {"0.9", "0.9", "0.2"}) {
    at = yaml.find("epoch: 1,", at);
    yaml.insert(at, std::string("weight: ") + w + ", ");
    at += 20;
  }
  // Every backend answers 20 ms late: their latencies are alike, and loopback
  // noise on a loaded machine is small against them, so the latency factor
  // (fastest / own, in the weight) stays near 1 for all three and the shares
  // follow the published headroom. With answers at once, bursts of scheduling
  // delay made b0 and b1 look several times slower than b2.
  for (auto& b : backends_) b->set_delay_ms(20);
  start(yaml);
  std::map<std::string, int> count;
  for (int i = 0; i < 200; ++i) ++count[who(http_get(listen_, "/"))];
  std::cout << "[ weighted ] b0/b1/b2 " << count["b0"] << "/" << count["b1"] << "/" << count["b2"] << "\n";
  // 0.9 : 0.9 : 0.2 of 200 is 90 : 90 : 20 when latencies are alike; the noise
  // that is left still shifts b0 against b1, so only b2 is pinned down (round
  // robin would give it 67).
  EXPECT_LT(count["b2"], 45) << count["b0"] << "/" << count["b1"] << "/" << count["b2"];
  EXPECT_LT(count["b2"], count["b0"]);
  EXPECT_LT(count["b2"], count["b1"]);
}

TEST_F(BalancerE2E, ContentRulesRouteByHostAndPathPrefix) {
  std::string rules =
      "  rules:\n"
      "    - {pathPrefix: /api, selector: {matchLabels: {tier: api}}}\n"
      "    - {host: static.example.com, selector: {matchLabels: {tier: static}}}\n"
      "    - {pathPrefix: /empty, selector: {matchLabels: {tier: none}}}\n";
  start(manifest(rules, endpoints({"tier: api", "tier: static", "tier: other"})));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(who(http_get(listen_, "/api/v1/x")), "b0");
    EXPECT_EQ(who(http_get(listen_, "/api")), "b0");
    EXPECT_EQ(who(http_get(listen_, "/x.css", "STATIC.example.com:8080")), "b1");
  }
  // /apiv2 is not under /api: the default route (every endpoint).
  std::map<std::string, int> count;
  for (int i = 0; i < 9; ++i) ++count[who(http_get(listen_, "/apiv2"))];
  EXPECT_EQ(count.size(), 3u);
  HttpResult none = http_get(listen_, "/empty/x");
  EXPECT_EQ(none.status, 503);
  EXPECT_NE(none.body.find("no healthy endpoint for rule 2"), std::string::npos) << none.body;
}

// Decodes a chunked body; "" with *ok false when the framing is wrong.
std::string dechunk(const std::string& body, bool* ok) {
  std::string out;
  size_t at = 0;
  *ok = false;
  for (;;) {
    size_t eol = body.find("\r\n", at);
    if (eol == std::string::npos) return out;
    size_t size = std::stoul(body.substr(at, eol - at), nullptr, 16);
    at = eol + 2;
    if (size == 0) {
      *ok = body.compare(at, 2, "\r\n") == 0;
      return out;
    }
    if (at + size + 2 > body.size() || body.compare(at + size, 2, "\r\n") != 0) return out;
    out += body.substr(at, size);
    at += size + 2;
  }
}

TEST_F(BalancerE2E, StreamsChunkedAnswersAndSpeaksHttp10AndExpectContinue) {
  start(manifest("", endpoints()));

  // A 300 KB chunked answer (many reads and writes of the proxy) arrives whole.
  std::string raw = send_raw(listen_, "GET /chunked/300000 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t head_end = raw.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos) << raw.substr(0, 200);
  std::string head = raw.substr(0, head_end + 2);
  EXPECT_EQ(head.rfind("HTTP/1.1 200 ", 0), 0u) << head;
  EXPECT_NE(head.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << head;
  EXPECT_NE(head.find("Connection: close\r\n"), std::string::npos) << head;
  bool ok = false;
  std::string body = dechunk(raw.substr(head_end + 4), &ok);
  EXPECT_TRUE(ok) << "bad chunk framing";
  ASSERT_EQ(body.size(), 300000u);
  for (size_t i = 0; i < body.size(); i += 997) ASSERT_EQ(body[i], 'a' + i % 26) << "byte " << i;

  // An HTTP/1.0 client gets an HTTP/1.0 answer, and its connection closes.
  raw = send_raw(listen_, "GET /old HTTP/1.0\r\n\r\n");
  EXPECT_EQ(raw.rfind("HTTP/1.0 200 ", 0), 0u) << raw;
  EXPECT_NE(raw.find(" /old xff=127.0.0.1"), std::string::npos) << raw;

  // Expect: 100-continue: the proxy says 100, then forwards the whole body.
  int fd = connect_tcp(listen_);
  ASSERT_GE(fd, 0);
  std::string req = "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string got;
  char buf[4096];
  while (got.find("\r\n\r\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  std::string upload(5000, 'u');
  ::send(fd, upload.data(), upload.size(), MSG_NOSIGNAL);
  got.clear();
  while (got.find(" body=5000\n") == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << got;
  EXPECT_NE(got.find(" /up xff=127.0.0.1 body=5000\n"), std::string::npos) << got;
}

TEST_F(BalancerE2E, AHungBackendTimesOutWhileOthersServe) {
  start(manifest("  timeouts: {serverSeconds: 1}\n  healthCheck: {type: tcp}\n", endpoints()));
  backends_[0]->set_hang(true);
  const auto t0 = std::chrono::steady_clock::now();
  auto hung = std::async(std::launch::async, [&] {
    // Round robin over one loop: the first request goes to b0. The client
    // waits far longer than serverSeconds: the answer must come from the proxy.
    HttpResult r = http_get(listen_, "/slow", "", 60'000);
    return std::make_pair(r, std::chrono::steady_clock::now());
  });
  // Once b0 holds the request, the others are sent while it hangs.
  ASSERT_TRUE(wait_for([&] { return backends_[0]->requests() >= 1; }, kWait)) << "b0 never got the request";
  int ok = 0, timed_out = 0;
  for (int i = 0; i < 10; ++i) {
    HttpResult r = http_get(listen_, "/");
    if (r.status == 200 && who(r) != "b0") ++ok;
    if (r.status == 504) ++timed_out;
    if (r.status == 200 && who(r) == "b0") ADD_FAILURE() << "the hung backend answered";
  }
  auto [r, answered_at] = hung.get();
  EXPECT_EQ(r.status, 504) << r.body;
  EXPECT_NE(r.body.find("did not answer within timeouts.serverSeconds"), std::string::npos);
  // Not before serverSeconds (1 s): a lower bound, which a slow machine only raises.
  EXPECT_GE(std::chrono::duration<double>(answered_at - t0).count(), 0.9);
  // Requests picked for b0 meanwhile time out too (504); every other one
  // succeeds: none is lost.
  EXPECT_EQ(ok + timed_out, 10);
  EXPECT_GE(ok, 6);
  backends_[0]->set_hang(false);
}

TEST_F(BalancerE2E, GarbageAndStalledHeadersGetAnAnswerAndEveryoneElseIsServed) {
  start(manifest("  timeouts: {clientSeconds: 1, requestHeadSeconds: 1}\n", endpoints()));
  std::string garbage = send_raw(listen_, "\x16\x03\x01 this is not http\r\n\r\n");
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  ASSERT_TRUE(wait_for([&] { return metric(lb_.admin(), kClientConnections) == 0; }, kWait))
      << "the garbage connection was not let go";
  auto stalled = std::async(std::launch::async, [&] {
    return send_raw(listen_, "GET / HTTP/1.1\r\nHost: a\r\nX-Half: ");  // never finishes
  });
  // Served while the stalled client holds its connection — unless the machine
  // was so slow that its requestHeadSeconds ran out first (then it is over already).
  ASSERT_TRUE(wait_for(
      [&] {
        return metric(lb_.admin(), kClientConnections) >= 1 ||
               stalled.wait_for(0s) == std::future_status::ready;
      },
      kWait));
  EXPECT_EQ(http_get(listen_, "/").status, 200);
  std::string answer = stalled.get();
  EXPECT_EQ(answer.rfind("HTTP/1.1 408", 0), 0u) << answer;
  std::string huge = "GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20'000, 'a') + "\r\n\r\n";
  EXPECT_EQ(send_raw(listen_, huge).rfind("HTTP/1.1 431", 0), 0u);
  EXPECT_EQ(http_get(listen_, "/").status, 200);
  EXPECT_GE(eventual_metric(lb_.admin(), "corral_balancer_rejected_total{balancer=\"web\",reason=\"badRequest\"}",
                            at_least(2)),
            2);
  EXPECT_EQ(eventual_metric(lb_.admin(), "corral_balancer_rejected_total{balancer=\"web\",reason=\"headerTimeout\"}",
                            at_least(1)),
            1);
}

TEST_F(BalancerE2E, ConnectionsBeyondMaxConnectionsAreRefused) {
  start(manifest("  maxConnections: 2\n", endpoints()));
  int a = connect_tcp(listen_), b = connect_tcp(listen_);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  // The balancer has accepted both (the kernel completes a connect before that).
  ASSERT_TRUE(wait_for([&] { return metric(lb_.admin(), kClientConnections) == 2; }, kWait));
  HttpResult third = http_get(listen_, "/");
  EXPECT_EQ(third.status, 503);
  EXPECT_NE(third.body.find("spec.maxConnections"), std::string::npos);
  ::close(a);
  ::close(b);
  // ... and has seen both go.
  ASSERT_TRUE(wait_for([&] { return metric(lb_.admin(), kClientConnections) == 0; }, kWait));
  EXPECT_EQ(http_get(listen_, "/").status, 200);
}

TEST_F(BalancerE2E, TcpModeSplicesBytesAndPassesHalfClose) {
  start(manifest("", endpoints(), "tcp"));
  std::map<std::string, int> count;
  for (int i = 0; i < 6; ++i) {
    std::string got = send_raw(listen_, "hello", /*half_close=*/true);
    ASSERT_NE(got.find(":hello"), std::string::npos) << got;
    ++count[got.substr(0, got.find(':'))];
  }
  EXPECT_EQ(count, (std::map<std::string, int>{{"b0", 2}, {"b1", 2}, {"b2", 2}}));
  backends_[2]->stop();
  for (int i = 0; i < 6; ++i) EXPECT_NE(send_raw(listen_, "again", true).find(":again"), std::string::npos);
}

TEST_F(BalancerE2E, APortAlreadyTakenIsAClearError) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string taken = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  std::string yaml = manifest("", endpoints());
  yaml.replace(yaml.find("127.0.0.1:0"), 11, taken);
  std::ofstream(dir_.file("lb.yaml")) << yaml;
  std::string err;
  EXPECT_EQ(lb_.run_to_exit({"--file", dir_.file("lb.yaml")}, &err), 1);
  EXPECT_NE(err.find("balancer web: spec.listen " + taken + ": address already in use"), std::string::npos)
      << err;
  ::close(fd);
}

TEST_F(BalancerE2E, BadManifestsNameTheFileLineAndField) {
  std::string yaml = manifest("  algorithm: fastest\n  rules:\n    - {pathPrefix: api}\n", endpoints());
  std::ofstream(dir_.file("lb.yaml")) << yaml;
  std::string err;
  EXPECT_EQ(lb_.run_to_exit({"--file", dir_.file("lb.yaml")}, &err), 1);
  EXPECT_NE(err.find("lb.yaml:"), std::string::npos) << err;
  EXPECT_NE(err.find("spec.algorithm: must be one of roundRobin, leastConnections, sourceHash, weighted"),
            std::string::npos) << err;
  EXPECT_NE(err.find("spec.rules[0].pathPrefix: must start with '/'"), std::string::npos) << err;
}

TEST_F(BalancerE2E, TenThousandIdleConnectionsDoNotStopService) {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_max < 10'500) GTEST_SKIP() << "needs 10,500 file descriptors, the hard limit is " << lim.rlim_max;
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  // maxConnections above the idle crowd, no cap per client (they all come
  // from 127.0.0.1), and a request-head deadline longer than opening them all
  // takes on a slow machine (a silent connection is closed when it passes):
  // the limits themselves are other tests.
  start(manifest("  maxConnections: 10100\n  maxConnectionsPerClient: 0\n"
                 "  timeouts: {requestHeadSeconds: 600}\n",
                 endpoints()),
        {"--threads", "2"});
  std::vector<int> idle;
  for (int i = 0; i < 10'000; ++i) {
    int fd = connect_tcp(listen_);
    ASSERT_GE(fd, 0) << "connection " << i;
    idle.push_back(fd);
  }
  // Every idle client is held (none was dropped), and requests still flow.
  EXPECT_EQ(eventual_metric(lb_.admin(), kClientConnections, at_least(10'000)), 10'000);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(http_get(listen_, "/").status, 200);
  for (int fd : idle) ::close(fd);
}

}  // namespace balancer_test
}  // namespace corral::testing
