// Issue 15 §3, the agent's endpoint: each attack on a real LocalEndpoint on a
// loopback port 0, with the safe answer asserted. Time is a FakeClock (the
// signatures' time, the sync limiter, the loop's pulse), never a sleep.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/endpoint_guard.h"
#include "agent/local_endpoint.h"
#include "agent/loop_health.h"
#include "agent/watched_control_plane.h"
#include "api/heartbeat.h"
#include "api/json.h"
#include "api/kinds.h"
#include "base/clock.h"
#include "client/agent_auth.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_endpoint_test {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string kMaster(64, 'a');

httplib::Headers as_headers(const std::vector<std::string>& lines) {
  httplib::Headers out;
  for (const std::string& line : lines) {
    const size_t colon = line.find(':');
    out.emplace(line.substr(0, colon), line.substr(colon + 2));
  }
  return out;
}

// One agent's endpoint, node "host-1", in signed mode with its key set.
class AgentEndpoint : public ::testing::Test {
 protected:
  AgentEndpoint() : guard_(guard_options("host-1"), clock_), health_(clock_, seconds(20)) {
    std::filesystem::create_directories(dir_.path() / "logs");
    guard_.set_key(derive_agent_key(kMaster, "host-1"));
    LocalEndpointOptions o;
    o.log_dir = dir_.path() / "logs";
    o.on_sync = [this] { ++syncs_; };
    o.guard = &guard_;
    o.health = &health_;
    o.clock = &clock_;
    endpoint_ = std::make_unique<LocalEndpoint>(o, registry_);
    auto started = endpoint_->start();
    EXPECT_TRUE(started.ok()) << started.error().message;
    client_ = std::make_unique<httplib::Client>(endpoint_->base_url());
  }

  static EndpointGuardOptions guard_options(const std::string& node) {
    EndpointGuardOptions o;
    o.node = node;
    o.mode = EndpointGuardOptions::Mode::kSigned;
    return o;
  }

  int64_t unix_now() const {
    return std::chrono::duration_cast<seconds>(clock_.now().time_since_epoch()).count();
  }
  // Signed as the controller signs (loops/agent_signer.h), for `node`.
  httplib::Headers signed_for(const std::string& node, const std::string& method,
                              const std::string& path, const std::string& body,
                              int64_t at = 0) const {
    return as_headers(sign_agent_request(derive_agent_key(kMaster, node), node, method, path, body,
                                         at ? at : unix_now()));
  }
  // Sends `request` on a connection of its own; everything read until the
  // peer closes (bounded by the endpoint's read timeout).
  std::string raw_exchange(const std::string& request) const {
    const std::string address = endpoint_->address();
    const int port = std::stoi(address.substr(address.rfind(':') + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    std::string out;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
      timeval tv{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      char buf[4096];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return out;
  }
  std::string probe_body(const std::string& address, const std::string& node) const {
    ProbeRequest r;
    r.address = address;
    r.node = node;
    r.timeoutMs = 500;
    return to_json(r).dump();
  }

  corral::testing::TempDir dir_;
  FakeClock clock_;
  EndpointGuard guard_;
  LoopHealth health_;
  metrics::Registry registry_;
  std::atomic<int> syncs_{0};
  std::unique_ptr<LocalEndpoint> endpoint_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(AgentEndpoint, UnauthenticatedLogsSyncAndProbeGet401) {
  auto logs = client_->Get("/v1/logs/web-1");
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->status, 401);
  EXPECT_NE(logs->body.find("signed by the controller"), std::string::npos) << logs->body;
  // Counters only, for a Prometheus scrape, which cannot sign.
  auto metrics = client_->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  auto sync = client_->Post("/v1/sync", "{}", "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 401);
  auto probe = client_->Post("/v1/probe", probe_body("127.0.0.1:1", ""), "application/json");
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 401);
  EXPECT_EQ(syncs_, 0);
  // A bearer token means nothing here: the agent cannot check it.
  httplib::Headers bearer{{"Authorization", "Bearer admin-token"}};
  auto with_token = client_->Post("/v1/sync", bearer, "{}", "application/json");
  ASSERT_TRUE(with_token);
  EXPECT_EQ(with_token->status, 401);
  // /healthz stays open (peers' probes) and names the node.
  auto health = client_->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->get_header_value(kAgentNodeHeader), "host-1");
}

TEST_F(AgentEndpoint, SignedCallsOfTheControllerAreTaken) {
  auto sync = client_->Post("/v1/sync", signed_for("host-1", "POST", "/v1/sync", "{}"), "{}",
                            "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 202) << sync->body;
  EXPECT_EQ(syncs_, 1);
  auto logs = client_->Get("/v1/logs/web-1?tailLines=5",
                           signed_for("host-1", "GET", "/v1/logs/web-1?tailLines=5", ""));
  ASSERT_TRUE(logs);
  EXPECT_EQ(logs->status, 404) << logs->body;  // through the guard: there is no log
}

TEST_F(AgentEndpoint, AnotherNodesKeyIsRefused) {
  // host-2's agent holds host-2's key only: what it signs does not open host-1.
  auto as_other = client_->Post("/v1/sync", signed_for("host-2", "POST", "/v1/sync", "{}"), "{}",
                                "application/json");
  ASSERT_TRUE(as_other);
  EXPECT_EQ(as_other->status, 401);
  EXPECT_NE(as_other->body.find("signed for node \"host-2\""), std::string::npos) << as_other->body;
  auto headers = as_headers(sign_agent_request(derive_agent_key(kMaster, "host-2"), "host-1", "POST",
                                               "/v1/sync", "{}", unix_now()));
  auto forged = client_->Post("/v1/sync", headers, "{}", "application/json");
  ASSERT_TRUE(forged);
  EXPECT_EQ(forged->status, 401);
  EXPECT_NE(forged->body.find("bad signature"), std::string::npos) << forged->body;
  EXPECT_EQ(syncs_, 0);
}

TEST_F(AgentEndpoint, ProbeOfAnAddressTheControllerDidNotSignIsRefused) {
  // SSRF / port-scan oracle: a signed probe's target cannot be changed.
  const std::string asked = probe_body("127.0.0.1:7070", "host-2");
  auto headers = signed_for("host-1", "POST", "/v1/probe", asked);
  auto altered = client_->Post("/v1/probe", headers, probe_body("10.0.0.1:22", ""), "application/json");
  ASSERT_TRUE(altered);
  EXPECT_EQ(altered->status, 401);
  EXPECT_NE(altered->body.find("does not match"), std::string::npos) << altered->body;
}

TEST_F(AgentEndpoint, ReplayedAndStaleSignaturesAreRefused) {
  auto headers = signed_for("host-1", "POST", "/v1/sync", "{}");
  auto first = client_->Post("/v1/sync", headers, "{}", "application/json");
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 202);
  clock_.advance(seconds(1));  // past the sync limiter
  auto replay = client_->Post("/v1/sync", headers, "{}", "application/json");
  ASSERT_TRUE(replay);
  EXPECT_EQ(replay->status, 401);
  EXPECT_NE(replay->body.find("replay"), std::string::npos) << replay->body;
  auto stale = client_->Post("/v1/sync", signed_for("host-1", "POST", "/v1/sync", "{}", unix_now() - 60),
                             "{}", "application/json");
  ASSERT_TRUE(stale);
  EXPECT_EQ(stale->status, 401);
  EXPECT_NE(stale->body.find("outside"), std::string::npos) << stale->body;
  EXPECT_EQ(syncs_, 1);
}

TEST_F(AgentEndpoint, NoKeyYetIs503) {
  EndpointGuard fresh(guard_options("host-1"), clock_);
  LocalEndpointOptions o;
  o.guard = &fresh;
  LocalEndpoint endpoint(o, registry_);
  ASSERT_TRUE(endpoint.start().ok());
  httplib::Client client(endpoint.base_url());
  auto res = client.Post("/v1/sync", signed_for("host-1", "POST", "/v1/sync", "{}"), "{}",
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("no endpoint key yet"), std::string::npos) << res->body;
}

TEST_F(AgentEndpoint, OversizedBodyIs413AndChunkedIs411) {
  const std::string big(65 * 1024, 'x');
  auto res = client_->Post("/v1/probe", signed_for("host-1", "POST", "/v1/probe", big), big,
                           "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  // Unauthenticated, the cap holds too (the head is judged first).
  auto anon = client_->Post("/v1/sync", big, "application/json");
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 413);
  // Chunked: httplib's own cap covers only Content-Length. Sent by hand: the
  // answer comes before the body is read, and the connection closes.
  const std::string answer = raw_exchange(
      "POST /v1/probe HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
      "Content-Type: application/json\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 411", 0), 0u) << answer;
  // The open route too: a chunked body to /healthz is not read either.
  const std::string health = raw_exchange(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n");
  EXPECT_EQ(health.rfind("HTTP/1.1 411", 0), 0u) << health;
}

TEST_F(AgentEndpoint, SyncCannotSpinTheLoop) {
  int accepted = 0, limited = 0;
  // Bounded: 20 calls, each signed afresh (distinct bodies' hashes, same path).
  for (int i = 0; i < 20; ++i) {
    const std::string body = "{\"n\":" + std::to_string(i) + "}";
    auto res = client_->Post("/v1/sync", signed_for("host-1", "POST", "/v1/sync", body), body,
                             "application/json");
    ASSERT_TRUE(res);
    if (res->status == 202) ++accepted;
    if (res->status == 429) {
      ++limited;
      EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    }
  }
  EXPECT_EQ(accepted, 1);  // the fake clock did not move: one forced round
  EXPECT_EQ(limited, 19);
  clock_.advance(milliseconds(250));
  const std::string body = "{\"n\":20}";
  auto later = client_->Post("/v1/sync", signed_for("host-1", "POST", "/v1/sync", body), body,
                             "application/json");
  ASSERT_TRUE(later);
  EXPECT_EQ(later->status, 202);
  EXPECT_EQ(syncs_, 2);
}

TEST_F(AgentEndpoint, HealthzSays503WhenTheSyncLoopIsWedged) {
  clock_.advance(seconds(20));
  auto ok = client_->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  clock_.advance(seconds(1));  // 21 s without a round, the limit is 20 s
  auto wedged = client_->Get("/healthz");
  ASSERT_TRUE(wedged);
  EXPECT_EQ(wedged->status, 503);
  EXPECT_NE(wedged->body.find("wedged"), std::string::npos) << wedged->body;
  health_.beat();
  auto again = client_->Get("/healthz");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST_F(AgentEndpoint, AProbeAnsweredByAnotherNodeIsNotReachable) {
  // The suspect's recorded address leads to host-1 (this endpoint), not to
  // host-3: a misreported address must not make host-3 look alive.
  EndpointGuard prober_guard(guard_options("host-2"), clock_);
  prober_guard.set_key(derive_agent_key(kMaster, "host-2"));
  LocalEndpointOptions o;
  o.guard = &prober_guard;
  o.clock = &clock_;
  LocalEndpoint prober(o, registry_);
  ASSERT_TRUE(prober.start().ok());
  httplib::Client client(prober.base_url());
  auto ask = [&](const std::string& node) {
    const std::string body = probe_body(endpoint_->address(), node);
    auto res = client.Post("/v1/probe", signed_for("host-2", "POST", "/v1/probe", body), body,
                           "application/json");
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    auto parsed = parse_json(res->body);
    auto out = from_json<ProbeResponse>(*parsed);
    EXPECT_TRUE(out.ok());
    return *out;
  };
  ProbeResponse wrong = ask("host-3");
  EXPECT_FALSE(wrong.reachable);
  EXPECT_NE(wrong.message.find("not node host-3"), std::string::npos) << wrong.message;
  EXPECT_TRUE(ask("host-1").reachable);
  // A wedged suspect is not reachable either: its /healthz says 503.
  clock_.advance(seconds(21));
  ProbeResponse wedged = ask("host-1");
  EXPECT_FALSE(wedged.reachable);
  EXPECT_NE(wedged.message.find("503"), std::string::npos) << wedged.message;
}

TEST(AgentEndpointOpen, WithoutATokenAWebPageIsStillRefused) {
  FakeClock clock;
  EndpointGuardOptions go;
  go.node = "host-1";
  go.mode = EndpointGuardOptions::Mode::kOpen;
  EndpointGuard guard(go, clock);
  metrics::Registry registry;
  LocalEndpointOptions o;
  o.guard = &guard;
  o.on_sync = [] {};
  LocalEndpoint endpoint(o, registry);
  ASSERT_TRUE(endpoint.start().ok());
  httplib::Client client(endpoint.base_url());
  auto local = client.Post("/v1/sync", "{}", "application/json");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 202);
  auto page = client.Post("/v1/sync", {{"Origin", "http://evil.example"}}, "{}", "application/json");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 403);
}

// The agent asks for its key in every beat and takes it from the answer.
class KeyControlPlane final : public ControlPlane {
 public:
  Result<HeartbeatResponse> heartbeat(const std::string&, const HeartbeatRequest& request) override {
    asked = request.endpointAuth;
    HeartbeatResponse r;
    r.endpointKey = derive_agent_key(kMaster, "host-1");
    return r;
  }
  bool asked = false;
};

TEST(AgentEndpointKey, TheHeartbeatAnswerBringsTheKeyAndIsTheLoopsPulse) {
  FakeClock clock;
  EndpointGuardOptions go;
  go.node = "host-1";
  EndpointGuard guard(go, clock);
  LoopHealth health(clock, seconds(5));
  KeyControlPlane inner;
  WatchedControlPlane watched(inner, &guard, &health);
  clock.advance(seconds(6));
  EXPECT_TRUE(health.wedged().has_value());
  EXPECT_FALSE(guard.has_key());
  ASSERT_TRUE(watched.heartbeat("host-1", HeartbeatRequest{}).ok());
  EXPECT_TRUE(inner.asked);
  EXPECT_TRUE(guard.has_key());
  EXPECT_FALSE(health.wedged().has_value());
}

}  // namespace agent_endpoint_test
}  // namespace corral::agent
