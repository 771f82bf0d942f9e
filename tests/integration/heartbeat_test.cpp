// The heartbeat route and HA admission through real HTTP: a Server with the
// HeartbeatService and the VMSet admission hook installed, as corral-controller
// wires them, over the in-memory store.
#include <gtest/gtest.h>

#include "api/json.h"
#include "api/heartbeat.h"
#include "api/kinds.h"
#include "controller/heartbeat/ha_admission.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace heartbeat_test {

constexpr const char* kJson = "application/json";
constexpr const char* kNodes = "/apis/corral/v1/nodes";
constexpr const char* kVMs = "/apis/corral/v1/vms";
constexpr const char* kVMSets = "/apis/corral/v1/vmsets";
constexpr const char* kPools = "/apis/corral/v1/pools";

constexpr const char* kTokens =
    "admin-token,root,admin\n"
    "viewer-token,alice,viewer\n"
    "node-a-token,agent-a,node:host-a\n";

class HeartbeatApiTest : public ::testing::Test {
 protected:
  void SetUp() override { start(/*with_heartbeats=*/true); }

  // Harness::start without starting: the hooks go in before start().
  void start(bool with_heartbeats) {
    h_.backend = store::open_memory_store(h_.clock);
    h_.store = std::make_unique<FaultyStore>(*h_.backend);
    server::ServerOptions o;
    o.tokens_file = write_file(h_.dir, "tokens.csv", kTokens);
    h_.server = std::make_unique<server::Server>(*h_.store, h_.clock, o);
    if (with_heartbeats) {
      service_ = std::make_unique<heartbeat::HeartbeatService>(*h_.store, leases_, h_.clock);
      h_.server->set_heartbeat_handler([this](const std::string& node, const Json& body, std::chrono::steady_clock::time_point) {
        return service_->handle_text(node, body);
      });
    }
    h_.server->set_admission([this](const KindInfo& kind, const Json& object,
                                    const store::RecordPtr& old) {
      return heartbeat::admit_vmset(*h_.store, kind, object, old);
    });
    auto port = h_.server->start();
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    h_.port = *port;
    admin_ = h_.client("admin-token");
    node_a_ = h_.client("node-a-token");
  }

  void TearDown() override {
    h_.server->stop();  // before the service its threads call
    service_.reset();
  }

  httplib::Result post(httplib::Client& c, const std::string& path, const Json& body) {
    return c.Post(path, body.dump(), kJson);
  }

  Json expect(const httplib::Result& r, int code, const std::string& reason = "") {
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, code) << r->body;
    Json j = parse(r->body);
    if (!reason.empty()) {
      EXPECT_EQ(j.value("reason", ""), reason) << r->body;
    }
    return j;
  }

  std::string snapshot() {
    std::string out;
    for (const char* p : {kNodes, kVMs, kVMSets}) {
      auto r = admin_->Get(p);
      EXPECT_TRUE(r && r->status == 200);
      if (r) out += r->body;
    }
    return out;
  }

  Harness h_;
  heartbeat::LeaseTable leases_;
  std::unique_ptr<heartbeat::HeartbeatService> service_;
  std::unique_ptr<httplib::Client> admin_, node_a_;
};

TEST_F(HeartbeatApiTest, HeartbeatRegistersAndAnswersWithBoundVms) {
  Json answer = expect(post(*node_a_, heartbeat_path("host-a"), heartbeat_body("host-a/1-aa")), 200);
  EXPECT_TRUE(from_json<HeartbeatResponse>(answer).ok()) << answer.dump();
  EXPECT_EQ(answer["node"], "host-a");
  EXPECT_EQ(answer["vms"], Json::array());
  Json node = expect(admin_->Get(std::string(kNodes) + "/host-a"), 200);
  EXPECT_EQ(node["metadata"]["labels"]["role"], "web");
  EXPECT_EQ(node["status"]["lease"]["holderIdentity"], "host-a/1-aa");

  // A VM bound by the scheduler reaches the agent through the watch-fed index.
  expect(post(*admin_, kVMs, vm("web-1", "host-a")), 201);
  EXPECT_TRUE(eventually([&] {
    auto r = post(*node_a_, heartbeat_path("host-a"), heartbeat_body("host-a/1-aa"));
    if (!r || r->status != 200) return false;
    Json a = parse(r->body);
    return a["vms"].size() == 1 && a["vms"][0]["name"] == "web-1";
  }));
}

TEST_F(HeartbeatApiTest, SecondAgentIsRefusedWhileTheLeaseIsFresh) {
  expect(post(*node_a_, heartbeat_path("host-a"), heartbeat_body("host-a/1-aa")), 200);
  Json s = expect(post(*node_a_, heartbeat_path("host-a"), heartbeat_body("host-a/2-bb")), 409,
                  "Conflict");
  EXPECT_NE(s["message"].get<std::string>().find("held by agent host-a/1-aa"), std::string::npos)
      << s.dump();
}

TEST_F(HeartbeatApiTest, ImpossibleValuesAre422WithFieldPaths) {
  Json body = heartbeat_body("host-a/1-aa");
  body["usage"]["cpu"] = "-1";
  Json s = expect(post(*node_a_, heartbeat_path("host-a"), body), 422, "Invalid");
  ASSERT_TRUE(s["details"]["causes"].is_array()) << s.dump();
  EXPECT_EQ(s["details"]["causes"][0]["field"], "usage.cpu") << s.dump();
  expect(admin_->Get(std::string(kNodes) + "/host-a"), 404);
}

TEST_F(HeartbeatApiTest, OnlyTheNodesOwnTokenOrAnAdminMayBeat) {
  const std::string before = snapshot();
  expect(post(*node_a_, heartbeat_path("host-b"), heartbeat_body("host-b/1-aa")), 403, "Forbidden");
  auto viewer = h_.client("viewer-token");
  expect(post(*viewer, heartbeat_path("host-a"), heartbeat_body("host-a/1-aa")), 403, "Forbidden");
  expect(h_.client("")->Post(heartbeat_path("host-a"), heartbeat_body("x/1").dump(), kJson), 401);
  EXPECT_EQ(snapshot(), before);
  expect(admin_->Get(heartbeat_path("host-a")), 405);
  expect(post(*admin_, heartbeat_path("host-b"), heartbeat_body("host-b/1-aa")), 200);
}

TEST(HeartbeatApiNoHandler, IsNotFound) {
  Harness h;
  server::ServerOptions o;
  ASSERT_TRUE(h.start("memory", o).ok());
  auto r = h.client()->Post(heartbeat_path("host-a"), heartbeat_body("host-a/1").dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_NE(r->body.find("heartbeats are not served by this server"), std::string::npos);
}

TEST_F(HeartbeatApiTest, HaAdmissionRefusesAVMSetThePoolCannotSurviveANodeLoss) {
  expect(post(*admin_, kPools,
              {{"apiVersion", "corral/v1"},
               {"kind", "Pool"},
               {"metadata", {{"name", "web"}}},
               {"spec",
                {{"nodeSelector", {{"role", "web"}}},
                 {"failover", {{"tolerateNodeFailures", 1}}}}}}),
         201);
  // Two Ready 4-CPU nodes: losing the larger leaves 4 CPU.
  for (const char* name : {"n1", "n2"}) {
    Json n = node(name);
    n["metadata"]["labels"] = {{"role", "web"}};
    Json created = expect(post(*admin_, kNodes, n), 201);
    created["status"] = {{"phase", "Ready"},
                         {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})},
                         {"capacity", {{"cpu", "4"}, {"memory", "8Gi"}}},
                         {"allocatable", {{"cpu", "4"}, {"memory", "8Gi"}}}};
    expect(admin_->Put(std::string(kNodes) + "/" + name + "/status", created.dump(), kJson), 200);
  }
  const std::string before = snapshot();
  Json s = expect(post(*admin_, kVMSets, vmset("frontend", 6)), 422, "Invalid");
  EXPECT_NE(s["message"].get<std::string>().find(
                "pool web tolerates 1 node failure(s): after losing the 1 largest node(s), 4 CPU "
                "would remain for 6 CPU requested"),
            std::string::npos)
      << s.dump();
  EXPECT_EQ(s["details"]["causes"][0]["field"], "spec.replicas") << s.dump();
  EXPECT_EQ(snapshot(), before) << "a refused VMSet changed what is stored";

  // Within what survives a loss: admitted; scaling past it: refused, unchanged.
  Json created = expect(post(*admin_, kVMSets, vmset("frontend", 4)), 201);
  Json bigger = vmset("frontend", 5);
  bigger["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"];
  const std::string before_update = snapshot();
  expect(admin_->Put(std::string(kVMSets) + "/frontend", bigger.dump(), kJson), 422, "Invalid");
  EXPECT_EQ(snapshot(), before_update);
  Json smaller = vmset("frontend", 2);
  expect(admin_->Put(std::string(kVMSets) + "/frontend", smaller.dump(), kJson), 200);
}

}  // namespace heartbeat_test
}  // namespace corral::testing
