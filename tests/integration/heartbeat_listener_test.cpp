// The event-driven heartbeat listener (controller/server/heartbeat_listener.h)
// over real loopback sockets: a Server started with it and the real
// HeartbeatService, and the agent's HttpControlPlane moving its beats there
// and back to the API port when the listener goes away.
#include <gtest/gtest.h>

#include <cstdlib>

#include "api/json.h"
#include "agent/control_plane.h"
#include "api/heartbeat.h"
#include "api/kinds.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace heartbeat_listener_test {

constexpr const char* kJson = "application/json";
constexpr const char* kTokens =
    "admin-token,root,admin\n"
    "node-a-token,agent-a,node:host-a\n";

HeartbeatRequest beat(const std::string& holder) {
  HeartbeatRequest r;
  r.holderIdentity = holder;
  r.time = format_time(std::chrono::system_clock::now());
  r.capacity.cpu = Quantity::from_milli(4000);
  r.capacity.memory = Quantity::from_bytes(8LL << 30);
  r.allocatable = r.capacity;
  r.usage.cpu = Quantity::from_milli(1000);
  r.usage.memory = Quantity::from_bytes(1LL << 30);
  r.address = "127.0.0.1:4100";
  r.driver = "sim";
  r.agentVersion = "test";
  return r;
}

class HeartbeatListenerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(/*heartbeat_port=*/0); }

  // `heartbeat_port` -1: no listener. The API port is kept across restarts.
  // With `tls`, both ports serve HTTPS with a self-signed certificate
  // (cert_, also the agents' CA).
  void start(int heartbeat_port, bool tls = false) {
    if (!backend_) backend_ = store::open_memory_store(clock_);
    if (!service_)
      service_ = std::make_unique<heartbeat::HeartbeatService>(*backend_, leases_, clock_);
    server::ServerOptions o;
    o.port = api_port_;
    o.tokens_file = write_file(dir_, "tokens.csv", kTokens);
    o.heartbeat_port = heartbeat_port;
    o.max_body_bytes = 64 * 1024;
    if (tls) {
      o.tls_cert_file = cert_;
      o.tls_key_file = key_;
    }
    server_ = std::make_unique<server::Server>(*backend_, clock_, o);
    server_->set_heartbeat_handler(
        [this](const std::string& node, const Json& body, std::chrono::steady_clock::time_point) {
          return service_->handle_text(node, body);
        });
    auto port = server_->start();
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    api_port_ = *port;
  }

  void TearDown() override {
    server_->stop();
    service_.reset();
  }

  std::unique_ptr<httplib::Client> listener_client(const std::string& token) {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", server_->heartbeat_port());
    c->set_keep_alive(true);
    c->set_read_timeout(5, 0);
    if (!token.empty()) c->set_bearer_token_auth(token);
    return c;
  }

  agent::ControlPlaneOptions agent_options(const std::string& token) const {
    agent::ControlPlaneOptions o;
    o.server = "http://127.0.0.1:" + std::to_string(api_port_);
    o.token = token;
    return o;
  }

  // A self-signed certificate for 127.0.0.1; false when openssl is missing.
  bool make_certificate() {
    cert_ = dir_.file("cert.pem");
    key_ = dir_.file("key.pem");
    const std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " + key_ + " -out " + cert_ +
        " > /dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  TempDir dir_;
  std::string cert_, key_;
  RealClock clock_;
  heartbeat::LeaseTable leases_;
  std::unique_ptr<store::Store> backend_;
  std::unique_ptr<heartbeat::HeartbeatService> service_;
  std::unique_ptr<server::Server> server_;
  int api_port_ = 0;
};

TEST_F(HeartbeatListenerTest, ServesManyBeatsOverOneKeptConnection) {
  ASSERT_GT(server_->heartbeat_port(), 0);
  ASSERT_NE(server_->heartbeat_port(), server_->port());
  auto c = listener_client("node-a-token");
  for (int i = 0; i < 5; ++i) {
    auto r = c->Post(heartbeat_path("host-a"), to_json(beat("host-a/1")).dump(), kJson);
    ASSERT_TRUE(r) << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200) << r->body;
    EXPECT_NE(r->get_header_value("Connection"), "close");
    Json answer = parse(r->body);
    EXPECT_EQ(answer["node"], "host-a");
  }
  EXPECT_EQ(leases_.current("host-a")->renewals, 5);
  EXPECT_TRUE(backend_->get("Node", "host-a").ok()) << "registered by its first beat";
}

TEST_F(HeartbeatListenerTest, ApiPortAnswersNameTheListenerAndCloseTheConnection) {
  httplib::Client api("127.0.0.1", api_port_);
  api.set_bearer_token_auth("node-a-token");
  auto r = api.Post(heartbeat_path("host-a"), to_json(beat("host-a/1")).dump(), kJson);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Connection"), "close");
  EXPECT_EQ(parse(r->body)["heartbeatEndpoint"],
            "http://127.0.0.1:" + std::to_string(server_->heartbeat_port()));
}

// A client's made-up methods are counted as verb "OTHER" on both ports: a
// label per method would let anyone grow /metrics without bound.
TEST_F(HeartbeatListenerTest, MadeUpMethodsDoNotBecomeMetricSeries) {
  for (int port : {server_->heartbeat_port(), api_port_}) {
    httplib::Client c("127.0.0.1", port);
    c.set_bearer_token_auth("admin-token");
    for (int i = 0; i < 20; ++i) {
      httplib::Request req;
      req.method = "XMETHOD" + std::to_string(i);
      req.path = i % 2 ? heartbeat_path("host-a") : "/apis/corral/v1/vms";
      auto r = c.send(req);
      ASSERT_TRUE(r) << httplib::to_string(r.error());
      EXPECT_GE(r->status, 400);
    }
  }
  httplib::Client api("127.0.0.1", api_port_);
  api.set_bearer_token_auth("admin-token");
  auto m = api.Get("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  EXPECT_EQ(m->body.find("XMETHOD"), std::string::npos) << "no series per made-up method";
  EXPECT_NE(m->body.find("verb=\"OTHER\""), std::string::npos) << m->body.substr(0, 2000);
}

TEST_F(HeartbeatListenerTest, RefusesWhatItDoesNotServeWithAStatus) {
  auto admin = listener_client("admin-token");
  auto r = admin->Get("/apis/corral/v1/vms");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(parse(r->body)["message"].get<std::string>().find("serves only POST"),
            std::string::npos)
      << r->body;

  auto anonymous = listener_client("");
  r = anonymous->Post(heartbeat_path("host-a"), to_json(beat("host-a/1")).dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401) << r->body;

  auto node_a = listener_client("node-a-token");
  r = node_a->Post(heartbeat_path("host-b"), to_json(beat("host-b/1")).dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(parse(r->body)["reason"], "Forbidden");

  r = node_a->Post(heartbeat_path("host-a"), "{not json", kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400) << r->body;

  Json impossible = to_json(beat("host-a/1"));
  impossible["usage"]["cpu"] = "-1";
  r = node_a->Post(heartbeat_path("host-a"), impossible.dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;

  r = node_a->Post(heartbeat_path("host-a"), std::string(100 * 1024, ' '), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_FALSE(backend_->get("Node", "host-b").ok()) << "nothing was written for refusals";
}

TEST_F(HeartbeatListenerTest, AgentMovesToTheListenerAndBackWhenItGoes) {
  agent::HttpControlPlane cp(agent_options("node-a-token"));
  auto first = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const std::string listener = "http://127.0.0.1:" + std::to_string(server_->heartbeat_port());
  EXPECT_EQ(cp.heartbeat_endpoint(), listener) << "learned from the API port's answer";
  auto second = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(cp.heartbeat_endpoint(), listener);

  // The controller comes back without its listener: the beat that finds it
  // gone goes to the API port at once, and nothing is lost.
  server_->stop();
  start(/*heartbeat_port=*/-1);
  auto third = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(third.ok()) << third.error().to_string();
  EXPECT_EQ(cp.heartbeat_endpoint(), "");
  EXPECT_EQ(leases_.current("host-a")->renewals, 3);
}

// Several controllers on etcd: a follower answers a beat with 503 naming the
// leader; the agent sends that beat to the leader at once, then beats on the
// leader's listener.
TEST_F(HeartbeatListenerTest, AFollowerNamesTheLeaderAndTheBeatGoesThereAtOnce) {
  const std::string leader_url = "http://127.0.0.1:" + std::to_string(api_port_);
  server::ServerOptions o;
  o.tokens_file = write_file(dir_, "follower-tokens.csv", kTokens);
  o.heartbeat_port = -1;
  server::Server follower(*backend_, clock_, o);
  int follower_beats = 0;
  follower.set_heartbeat_handler([&](const std::string&, const Json&, std::chrono::steady_clock::time_point) -> Result<std::string> {
    ++follower_beats;
    return not_the_leader("c1", leader_url);
  });
  auto port = follower.start();
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  agent::ControlPlaneOptions options = agent_options("node-a-token");
  options.server = "http://127.0.0.1:" + std::to_string(*port) + "," + leader_url;
  agent::HttpControlPlane cp(options);
  auto first = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  EXPECT_EQ(follower_beats, 1);
  EXPECT_EQ(leases_.current("host-a")->renewals, 1) << "the same beat, sent on to the leader";
  EXPECT_EQ(cp.heartbeat_endpoint(),
            "http://127.0.0.1:" + std::to_string(server_->heartbeat_port()));
  ASSERT_TRUE(cp.heartbeat("host-a", beat("host-a/1")).ok());
  EXPECT_EQ(follower_beats, 1) << "later beats go to the leader's listener";
  follower.stop();
}

// While no controller leads (an election), a follower cannot name one: that
// beat fails, and the next goes to the next controller of the list.
TEST_F(HeartbeatListenerTest, WhileNoOneLeadsTheNextBeatTriesTheNextController) {
  server::ServerOptions o;
  o.tokens_file = write_file(dir_, "follower-tokens.csv", kTokens);
  o.heartbeat_port = -1;
  server::Server follower(*backend_, clock_, o);
  follower.set_heartbeat_handler(
      [](const std::string&, const Json&, std::chrono::steady_clock::time_point) -> Result<std::string> {
        return not_the_leader("", "");
      });
  auto port = follower.start();
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  agent::ControlPlaneOptions options = agent_options("node-a-token");
  options.server = "http://127.0.0.1:" + std::to_string(*port) + ",http://127.0.0.1:" +
                   std::to_string(api_port_);
  agent::HttpControlPlane cp(options);
  auto first = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kUnavailable);
  EXPECT_NE(first.error().message.find("no controller leads yet"), std::string::npos)
      << first.error().message;
  auto second = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(leases_.current("host-a")->renewals, 1);
  follower.stop();
}

// Before, a controller with TLS started no listener, and agents paid a TLS
// handshake per beat on the API port. Now the listener serves the same
// certificate: the agent learns an https:// endpoint and beats there,
// verifying it with its CA, and a plain-HTTP client gets no heartbeat through.
TEST_F(HeartbeatListenerTest, WithTlsTheListenerServesHttpsAndTheAgentBeatsThere) {
  if (std::system("openssl version > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "the openssl command line tool is not installed";
  ASSERT_TRUE(make_certificate());
  server_->stop();
  api_port_ = 0;
  start(/*heartbeat_port=*/0, /*tls=*/true);
  ASSERT_GT(server_->heartbeat_port(), 0) << "a TLS controller serves its heartbeat listener too";

  auto options = agent_options("node-a-token");
  options.server = "https://127.0.0.1:" + std::to_string(api_port_);
  options.ca_file = cert_;
  agent::HttpControlPlane cp(options);
  auto first = cp.heartbeat("host-a", beat("host-a/1"));
  ASSERT_TRUE(first.ok()) << first.error().to_string();
  const std::string listener = "https://127.0.0.1:" + std::to_string(server_->heartbeat_port());
  EXPECT_EQ(cp.heartbeat_endpoint(), listener);
  for (int i = 0; i < 3; ++i) {
    auto next = cp.heartbeat("host-a", beat("host-a/1"));
    ASSERT_TRUE(next.ok()) << next.error().to_string();
  }
  EXPECT_EQ(cp.heartbeat_endpoint(), listener) << "the beats stayed on the listener";
  EXPECT_EQ(leases_.current("host-a")->renewals, 4);

  // Plain HTTP to the listener: no heartbeat gets through, nothing renews.
  auto plain = listener_client("node-a-token");
  plain->set_read_timeout(3, 0);
  auto r = plain->Post(heartbeat_path("host-a"), to_json(beat("host-a/1")).dump(), kJson);
  EXPECT_TRUE(!r || r->status != 200);
  EXPECT_EQ(leases_.current("host-a")->renewals, 4);
}

}  // namespace heartbeat_listener_test
}  // namespace corral::testing
