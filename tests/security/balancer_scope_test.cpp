// Issue 15 §2: a balancer token wrote endpoint addresses into a Balancer it
// does not serve. `balancer:<name>[+<name>...]` scopes a token to named
// Balancers; the unscoped `balancer` role still works, with a warning at load.
#include "controller/server/auth.h"
#include "tests/security/node_restriction_fixture.h"

namespace corral::testing::security {
namespace balancer_scope_test {

class BalancerScope : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    for (const char* name : {"front", "back", "other"}) {
      Json b = {
          {"apiVersion", "corral/v1"},
          {"kind", "Balancer"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"vmSet", "web"},
            {"listen", std::string("127.0.0.1:") + (std::string(name) == "front"  ? "8080"
                                                    : std::string(name) == "back" ? "8081"
                                                                                  : "8082")}}}};
      auto r = post(*admin_, "balancers", b);
      ASSERT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    }
  }

  httplib::Result write_endpoints(httplib::Client& c, const std::string& name) {
    Json b = get("balancers/" + name);
    b["status"]["endpoints"] = {{{"vm", "evil"}, {"address", "203.0.113.66:443"}, {"epoch", 1}}};
    b["status"]["reportedBy"] = "attacker";
    return put(c, "balancers/" + name + "/status", b);
  }
};

TEST_F(BalancerScope, ScopedTokenWritesOnlyItsBalancersStatus) {
  auto front_only = h_.client("lb-front-token");
  auto both = h_.client("lb-both-token");
  auto r = write_endpoints(*front_only, "front");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = write_endpoints(*both, "back");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;

  const std::string before = snapshot();
  Json s = refused(write_endpoints(*front_only, "back"), 403, "Forbidden", before);
  EXPECT_EQ(s.value("message", ""),
            "user \"lb-front\" (balancer:front) may not update balancers/back/status: this token "
            "serves only Balancer(s) front");
  refused(write_endpoints(*both, "other"), 403, "Forbidden", before);
  // Never a spec, scoped or not.
  Json spec = get("balancers/front");
  spec["spec"]["listen"] = "0.0.0.0:1";
  refused(put(*front_only, "balancers/front", spec), 403, "Forbidden", before);
}

// Even its own Balancer: a balancer token reports health, connections and
// drained for the endpoints the controller published; it cannot add, move or
// re-address one (clients would follow it there).
TEST_F(BalancerScope, ABalancerReportsHealthButCannotRewriteEndpoints) {
  Json b = get("balancers/front");
  b["status"]["endpoints"] = {{{"vm", "web-1"},
                               {"node", "host-a"},
                               {"address", "127.0.0.1:9001"},
                               {"epoch", 2},
                               {"weight", 0.5}}};
  auto published = put(*admin_, "balancers/front/status", b);  // as the endpoints loop does
  ASSERT_TRUE(published && published->status == 200) << (published ? published->body : "");
  b = parse(published->body);
  b["status"]["endpoints"][0]["health"] = "Unhealthy";
  b["status"]["endpoints"][0]["activeConnections"] = 7;
  b["status"]["endpoints"][0]["address"] = "203.0.113.66:443";
  b["status"]["endpoints"][0]["weight"] = 1.0;
  b["status"]["endpoints"].push_back(
      {{"vm", "evil"}, {"address", "203.0.113.66:443"}, {"epoch", 1}});
  b["status"]["reportedBy"] = "lb-front-1";
  auto front_only = h_.client("lb-front-token");
  auto r = put(*front_only, "balancers/front/status", b);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json stored = get("balancers/front");
  ASSERT_EQ(stored["status"]["endpoints"].size(), 1u) << stored.dump();
  const Json& ep = stored["status"]["endpoints"][0];
  EXPECT_EQ(ep["address"], "127.0.0.1:9001");
  EXPECT_EQ(ep["weight"], 0.5);
  EXPECT_EQ(ep["health"], "Unhealthy");
  EXPECT_EQ(ep["activeConnections"], 7);
  EXPECT_EQ(stored["status"]["reportedBy"], "lb-front-1");
}

TEST_F(BalancerScope, UnscopedRoleStillWritesEveryBalancerButWarnsAtLoad) {
  auto any = h_.client("lb-any-token");
  for (const char* name : {"front", "back", "other"}) {
    auto r = write_endpoints(*any, name);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
  }
  auto auth = server::Authenticator::from_text(kTokens, "tokens.csv");
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  ASSERT_EQ(auth->warnings().size(), 1u);
  EXPECT_NE(auth->warnings()[0].find("tokens.csv:6: role balancer (user \"lb-any\") is unscoped"),
            std::string::npos)
      << auth->warnings()[0];
}

TEST(BalancerScopeSyntax, MalformedScopedRolesAreRefusedAtLoad) {
  for (const char* role :
       {"balancer:", "balancer:+", "balancer:a+", "balancer:a++b", "balancer:+a"}) {
    auto auth = server::Authenticator::from_text(std::string("t,u,") + role + "\n", "f");
    ASSERT_FALSE(auth.ok()) << role;
    EXPECT_NE(auth.error().message.find("f:1: role"), std::string::npos) << auth.error().message;
  }
  auto ok = server::Authenticator::from_text("t,u,balancer:a+b-2\n", "f");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  auto who = ok->authenticate("Bearer t");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->balancers, (std::vector<std::string>{"a", "b-2"}));
  EXPECT_TRUE(ok->warnings().empty());
}

}  // namespace balancer_scope_test
}  // namespace corral::testing::security
