// Issue 15, VM logs through the API (GET vms/<name>/log, controller/server/vm_log.h):
// the controller reads a log from the VM's agent with its own signature, so
// who may ask is the API's to judge. Admins and viewers read logs (Kubernetes'
// view role reads pods/log); a node token may not, not even its own VMs' (an
// agent has those on its disk), and a balancer token may not (the data plane
// needs endpoints, not what workloads print). A refused caller never makes
// the controller call an agent.
#include "tests/security/node_restriction_fixture.h"
#include "tests/unit/fake_agent_log_reader.h"

namespace corral::testing::security {
namespace vm_log_test {

class VmLogAccess : public SecurityTest {
 protected:
  void SetUp() override {
    agent_logs_ = &reader_;
    SecurityTest::SetUp();
    auto r = post(*node_a_, "nodes/host-a/heartbeat", heartbeat_body("host-a/1-aa"));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    auto created = post(*admin_, "vms", vm("web-1", "host-a"));
    ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "no answer");
    reader_.replies["127.0.0.1:4100"] = {200, "listening on :8080\n"};
  }

  FakeAgentLogReader reader_;
};

TEST_F(VmLogAccess, AdminAndViewerReadTheLog) {
  for (const char* token : {"admin-token", "viewer-token"}) {
    auto r = h_.client(token)->Get(path("vms/web-1/log?tailLines=5"));
    ASSERT_TRUE(r) << token;
    EXPECT_EQ(r->status, 200) << token << ": " << r->body;
    EXPECT_EQ(r->body, "listening on :8080\n") << token;
    EXPECT_EQ(r->get_header_value("Content-Type"), "text/plain; charset=utf-8");
  }
  EXPECT_EQ(reader_.calls(),
            (std::vector<std::string>{"host-a 127.0.0.1:4100 /v1/logs/web-1?tailLines=5",
                                      "host-a 127.0.0.1:4100 /v1/logs/web-1?tailLines=5"}));
}

TEST_F(VmLogAccess, NodeTokensGet403EvenForTheirOwnVms) {
  const std::string before = snapshot();
  for (const char* token : {"node-a-token", "node-b-token"}) {
    Json s = refused(h_.client(token)->Get(path("vms/web-1/log")), 403, "Forbidden", before);
    EXPECT_NE(s.value("message", "").find("nodes may not read VM logs"), std::string::npos)
        << s.dump();
  }
  EXPECT_TRUE(reader_.calls().empty());
}

TEST_F(VmLogAccess, BalancerTokensGet403) {
  const std::string before = snapshot();
  for (const char* token : {"lb-any-token", "lb-front-token", "lb-both-token"}) {
    Json s = refused(h_.client(token)->Get(path("vms/web-1/log")), 403, "Forbidden", before);
    EXPECT_NE(s.value("message", "").find("balancers may not read VM logs"), std::string::npos)
        << s.dump();
  }
  // The same tokens still read the VM itself.
  auto r = h_.client("lb-any-token")->Get(path("vms/web-1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(reader_.calls().empty());
}

TEST_F(VmLogAccess, NoTokenOrAnUnknownOneGets401) {
  const std::string before = snapshot();
  refused(h_.client("")->Get(path("vms/web-1/log")), 401, "Unauthorized", before);
  refused(h_.client("forged-token")->Get(path("vms/web-1/log")), 401, "Unauthorized", before);
  EXPECT_TRUE(reader_.calls().empty());
}

}  // namespace vm_log_test
}  // namespace corral::testing::security
