// Shared by tests/security/{node_restriction,event_limits,balancer_scope,
// reported_capacity}_test.cpp: a real Server on loopback port 0 with the
// HeartbeatService installed (as corral-controller wires it), tokens for an
// admin, a viewer, two nodes and three balancer roles, and a snapshot of everything
// stored so that a refused request can be shown to have changed nothing.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/heartbeat.h"
#include "api/json.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing::security {

inline constexpr const char* kJson = "application/json";
inline constexpr const char* kApi = "/apis/corral/v1/";

inline constexpr const char* kTokens =
    "admin-token,root,admin\n"
    "node-a-token,agent-a,node:host-a\n"
    "node-b-token,agent-b,node:host-b\n"
    "lb-front-token,lb-front,balancer:front\n"
    "lb-both-token,lb-both,balancer:front+back\n"
    "lb-any-token,lb-any,balancer\n"
    "viewer-token,watcher,viewer\n";

class SecurityTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  // Harness::start without starting: the heartbeat handler goes in first.
  void start(server::ServerOptions o) {
    if (h_.server) {
      h_.server->stop();
      service_.reset();
    }
    h_.backend = store::open_memory_store(h_.clock);
    h_.store = std::make_unique<FaultyStore>(*h_.backend);
    o.tokens_file = write_file(h_.dir, "tokens.csv", kTokens);
    h_.server = std::make_unique<server::Server>(*h_.store, h_.clock, o);
    heartbeat::HeartbeatOptions ho;
    ho.watch_poll = std::chrono::milliseconds(20);
    service_ = std::make_unique<heartbeat::HeartbeatService>(*h_.store, leases_, h_.clock, ho);
    h_.server->set_heartbeat_handler(
        [this](const std::string& node, const Json& body, std::chrono::steady_clock::time_point) {
          return service_->handle_text(node, body);
        });
    h_.server->set_agent_log_reader(agent_logs_);
    auto port = h_.server->start();
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    h_.port = *port;
    admin_ = h_.client("admin-token");
    node_a_ = h_.client("node-a-token");
  }

  void TearDown() override {
    if (h_.server) h_.server->stop();  // before the service its threads call
    service_.reset();
  }

  static std::string path(const std::string& rest) { return std::string(kApi) + rest; }

  httplib::Result post(httplib::Client& c, const std::string& rest, const Json& body) {
    return c.Post(path(rest), body.dump(), kJson);
  }
  httplib::Result put(httplib::Client& c, const std::string& rest, const Json& body) {
    return c.Put(path(rest), body.dump(), kJson);
  }

  Json get(const std::string& rest) {
    auto r = admin_->Get(path(rest));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return r ? parse(r->body) : Json();
  }

  // Everything stored, as the admin lists it.
  std::string snapshot() {
    std::string out;
    for (const char* kind : {"nodes", "vms", "vmsets", "events", "balancers"}) {
      auto r = admin_->Get(path(kind));
      EXPECT_TRUE(r && r->status == 200);
      if (r) out += r->body;
    }
    return out;
  }

  // The answer has `code` and `reason`, and nothing stored changed.
  Json refused(const httplib::Result& r, int code, const std::string& reason,
               const std::string& before) {
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, code) << r->body;
    Json s = parse(r->body);
    EXPECT_EQ(s.value("reason", ""), reason) << r->body;
    EXPECT_EQ(snapshot(), before) << "a refused request changed what is stored";
    return s;
  }

  Harness h_;
  // Installed by start() when set (a test's fake); null: the log route answers 503.
  server::AgentLogReader* agent_logs_ = nullptr;
  heartbeat::LeaseTable leases_;
  std::unique_ptr<heartbeat::HeartbeatService> service_;
  std::unique_ptr<httplib::Client> admin_, node_a_;
};

}  // namespace corral::testing::security
