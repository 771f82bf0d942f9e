// Issue 15 §3: "a node chooses the address peers probe". The agent address a
// heartbeat reports must be the address the heartbeat comes from (an
// unspecified host is filled in with it); anything else is 403 and stores
// nothing, unless the controller trusts reported addresses (NAT).
#include "controller/server/node_address.h"
#include "tests/security/node_restriction_fixture.h"

namespace corral::testing::security {
namespace node_address_test {

using server::settle_reported_address;

std::string settled(const std::string& reported, const std::string& source, bool trust = false) {
  Json body = {{"address", reported}};
  auto r = settle_reported_address(body, "host-a", source, trust);
  return r ? body["address"].get<std::string>() : "403: " + r.error().message;
}

TEST(NodeAddress, OnlyTheSourceAddressIsTakenAndAnUnspecifiedHostBecomesIt) {
  EXPECT_EQ(settled("10.0.0.7:4100", "10.0.0.7"), "10.0.0.7:4100");
  EXPECT_EQ(settled("10.0.0.7:4100", "::ffff:10.0.0.7"), "10.0.0.7:4100") << "dual-stack peer";
  EXPECT_EQ(settled("[fd00::7]:4100", "fd00::7"), "[fd00::7]:4100");
  EXPECT_EQ(settled("0.0.0.0:4100", "10.0.0.7"), "10.0.0.7:4100");
  EXPECT_EQ(settled("[::]:4100", "fd00::7"), "[fd00::7]:4100");
  EXPECT_EQ(settled("[::]:4100", "::ffff:10.0.0.7"), "10.0.0.7:4100");

  const std::string other = settled("10.0.0.8:4100", "10.0.0.7");
  EXPECT_EQ(other.rfind("403: node/host-a reports agent address 10.0.0.8:4100 but its heartbeat "
                        "comes from 10.0.0.7",
                        0),
            0u)
      << other;
  EXPECT_NE(other.find("--trust-node-addresses"), std::string::npos) << other;
  EXPECT_NE(settled("metadata.internal:80", "10.0.0.7").find("(not an IP address)"),
            std::string::npos);
  EXPECT_EQ(settled("127.0.0.1:4100", "10.0.0.7").rfind("403: ", 0), 0u)
      << "loopback is somebody else's from another host";

  EXPECT_EQ(settled("10.0.0.8:4100", "10.0.0.7", true), "10.0.0.8:4100");
  EXPECT_EQ(settled("metadata.internal:80", "10.0.0.7", true), "metadata.internal:80");

  Json none = {{"holderIdentity", "x"}};
  EXPECT_TRUE(settle_reported_address(none, "host-a", "10.0.0.7", false));
  EXPECT_FALSE(none.contains("address"));
}

class NodeAddressHttp : public SecurityTest {
 protected:
  std::string stored_address() { return get("nodes/host-a").value("/status/address"_json_pointer, ""); }
};

TEST_F(NodeAddressHttp, AForeignAddressIs403OnBothPortsAndAWildcardOneIsTheSource) {
  server::ServerOptions o;
  o.heartbeat_port = 0;
  start(o);
  auto listener = std::make_unique<httplib::Client>("127.0.0.1", h_.server->heartbeat_port());
  listener->set_bearer_token_auth("node-a-token");

  const std::string before = snapshot();
  for (httplib::Client* c : {node_a_.get(), listener.get()}) {
    Json body = heartbeat_body("host-a/1-aa");
    body["address"] = "10.9.9.9:4100";
    Json s = refused(post(*c, "nodes/host-a/heartbeat", body), 403, "Forbidden", before);
    EXPECT_NE(s.value("message", "").find("comes from 127.0.0.1"), std::string::npos) << s.dump();
  }

  Json body = heartbeat_body("host-a/1-aa");
  body["address"] = "0.0.0.0:4100";
  auto r = post(*listener, "nodes/host-a/heartbeat", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(stored_address(), "127.0.0.1:4100");
}

TEST_F(NodeAddressHttp, TrustedAddressesAreKeptAsReported) {
  server::ServerOptions o;
  o.trust_node_addresses = true;
  start(o);
  Json body = heartbeat_body("host-a/1-aa");
  body["address"] = "10.9.9.9:4100";
  auto r = post(*node_a_, "nodes/host-a/heartbeat", body);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(stored_address(), "10.9.9.9:4100");
}

}  // namespace node_address_test
}  // namespace corral::testing::security
