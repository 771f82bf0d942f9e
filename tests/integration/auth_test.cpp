// Authentication, authorisation, TLS and the server's startup checks.
#include "api/json.h"
#include "controller/server/auth.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace auth_test {

constexpr const char* kVMs = "/apis/corral/v1/vms";
constexpr const char* kNodes = "/apis/corral/v1/nodes";
constexpr const char* kJson = "application/json";

constexpr const char* kTokens =
    "# token,user,role\n"
    "admin-token,root,admin\n"
    "\n"
    "viewer-token,alice,viewer\n"
    "node-a-token,agent-a,node:host-a\n"
    "node-b-token , agent-b , node:host-b\n"
    "lb-token,lb-1,balancer\n";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions o;
    o.tokens_file = write_file(h_.dir, "tokens.csv", kTokens);
    auto port = h_.start("memory", o);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    admin_ = h_.client("admin-token");
    viewer_ = h_.client("viewer-token");
    node_a_ = h_.client("node-a-token");
    ASSERT_EQ(admin_->Post(kNodes, node("host-b").dump(), kJson)->status, 201);
    ASSERT_EQ(admin_->Post(kVMs, vm("on-a", "host-a").dump(), kJson)->status, 201);
    ASSERT_EQ(admin_->Post(kVMs, vm("on-b", "host-b").dump(), kJson)->status, 201);
  }

  std::string snapshot() {
    std::string out;
    for (const char* p : {kVMs, kNodes, "/apis/corral/v1/events"}) {
      auto r = admin_->Get(p);
      EXPECT_TRUE(r && r->status == 200);
      if (r) out += r->body;
    }
    return out;
  }

  Json expect_status(const httplib::Result& r, int code, const std::string& reason,
                     const std::string& before) {
    EXPECT_TRUE(r);
    if (!r) return Json();
    EXPECT_EQ(r->status, code) << r->body;
    Json s = parse(r->body);
    EXPECT_EQ(s.value("kind", ""), "Status") << r->body;
    EXPECT_EQ(s.value("reason", ""), reason) << r->body;
    EXPECT_EQ(s.value("code", 0), code);
    EXPECT_EQ(snapshot(), before) << "a refused request changed what is stored";
    return s;
  }

  Json get(httplib::Client& c, const std::string& path) {
    auto r = c.Get(path);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return r ? parse(r->body) : Json();
  }

  Harness h_;
  std::unique_ptr<httplib::Client> admin_, viewer_, node_a_;
};

TEST_F(AuthTest, MissingOrUnknownTokenIs401) {
  const std::string before = snapshot();
  auto anon = h_.client("");
  auto wrong = h_.client("no-such-token");
  for (auto* c : {anon.get(), wrong.get()}) {
    expect_status(c->Get(kVMs), 401, "Unauthorized", before);
    expect_status(c->Post(kVMs, vm("x").dump(), kJson), 401, "Unauthorized", before);
    expect_status(c->Get("/apis"), 401, "Unauthorized", before);
    expect_status(c->Get("/apis/corral/v1"), 401, "Unauthorized", before);
    expect_status(c->Get("/metrics"), 401, "Unauthorized", before);
    expect_status(c->Get("/nowhere"), 401, "Unauthorized", before);
  }
  // A too-large body from a stranger: tests/security/api_request_head_integration_test.cpp
  // (refused on the head, before the body is read).
  // Health endpoints are open.
  EXPECT_EQ(anon->Get("/healthz")->status, 200);
  EXPECT_EQ(anon->Get("/readyz")->status, 200);
}

TEST_F(AuthTest, ViewerReadsButMayNotWrite) {
  const std::string before = snapshot();
  EXPECT_EQ(viewer_->Get(kVMs)->status, 200);
  EXPECT_EQ(viewer_->Get("/apis/corral/v1/vms/on-a")->status, 200);
  EXPECT_EQ(viewer_->Get("/apis")->status, 200);
  EXPECT_EQ(viewer_->Get("/apis/corral/v1/vms?watch=true&timeoutSeconds=1")->status, 200);
  Json s = expect_status(viewer_->Post(kVMs, vm("x").dump(), kJson), 403, "Forbidden", before);
  EXPECT_NE(s.value("message", "").find("user \"alice\" (viewer) may not create vms"),
            std::string::npos)
      << s.dump();
  Json on_a = get(*admin_, "/apis/corral/v1/vms/on-a");
  expect_status(viewer_->Put("/apis/corral/v1/vms/on-a", on_a.dump(), kJson), 403, "Forbidden",
                before);
  expect_status(viewer_->Put("/apis/corral/v1/vms/on-a/status", on_a.dump(), kJson), 403,
                "Forbidden", before);
  expect_status(viewer_->Delete("/apis/corral/v1/vms/on-a"), 403, "Forbidden", before);
}

TEST_F(AuthTest, NodeWritesNodesOnlyThroughItsHeartbeat) {
  // Its own Node is registered by its heartbeat (tests/integration/heartbeat_test.cpp);
  // the main path and /status are the admin's and the heartbeat's
  // (tests/security/node_restriction_test.cpp has the attacks).
  ASSERT_EQ(admin_->Post(kNodes, node("host-a").dump(), kJson)->status, 201);
  const std::string before = snapshot();
  Json mine = get(*node_a_, "/apis/corral/v1/nodes/host-a");
  mine["metadata"]["labels"] = {{"zone", "z1"}};
  Json s = expect_status(node_a_->Put("/apis/corral/v1/nodes/host-a", mine.dump(), kJson), 403,
                         "Forbidden", before);
  EXPECT_NE(s.value("message", "").find("labels, taints, unschedulable and drain are the admin's"),
            std::string::npos)
      << s.dump();
  mine["status"]["phase"] = "Ready";
  expect_status(node_a_->Put("/apis/corral/v1/nodes/host-a/status", mine.dump(), kJson), 403,
                "Forbidden", before);

  Json b = get(*node_a_, "/apis/corral/v1/nodes/host-b");
  b["metadata"]["labels"] = {{"stolen", "yes"}};
  s = expect_status(node_a_->Put("/apis/corral/v1/nodes/host-b", b.dump(), kJson), 403, "Forbidden",
                    before);
  EXPECT_NE(
      s.value("message", "").find("user \"agent-a\" (node:host-a) may not update nodes/host-b"),
      std::string::npos)
      << s.dump();
  b["status"]["phase"] = "NotReady";
  expect_status(node_a_->Put("/apis/corral/v1/nodes/host-b/status", b.dump(), kJson), 403,
                "Forbidden", before);
  expect_status(node_a_->Post(kNodes, node("host-c").dump(), kJson), 403, "Forbidden", before);
  expect_status(node_a_->Post(kNodes, node("host-a2").dump(), kJson), 403, "Forbidden", before);
  expect_status(node_a_->Delete("/apis/corral/v1/nodes/host-a"), 403, "Forbidden", before);
}

TEST_F(AuthTest, NodeReportsVMsOnlyThroughItsHeartbeat) {
  // Reading its own VM by name is allowed; another node's is not.
  Json on_a = get(*node_a_, "/apis/corral/v1/vms/on-a");
  const std::string before = snapshot();
  on_a["status"]["phase"] = "Running";
  Json s = expect_status(node_a_->Put("/apis/corral/v1/vms/on-a/status", on_a.dump(), kJson), 403,
                         "Forbidden", before);
  EXPECT_NE(s.value("message", "").find("through its heartbeat"), std::string::npos) << s.dump();
  expect_status(node_a_->Get("/apis/corral/v1/vms/on-b"), 403, "Forbidden", before);
  Json on_b = get(*admin_, "/apis/corral/v1/vms/on-b");
  on_b["status"]["phase"] = "Failed";
  expect_status(node_a_->Put("/apis/corral/v1/vms/on-b/status", on_b.dump(), kJson), 403,
                "Forbidden", before);
  // Nor the spec of its own VM, nor creating or deleting VMs.
  Json mine = get(*admin_, "/apis/corral/v1/vms/on-a");
  mine["spec"]["resources"]["cpu"] = "4";
  expect_status(node_a_->Put("/apis/corral/v1/vms/on-a", mine.dump(), kJson), 403, "Forbidden",
                before);
  expect_status(node_a_->Post(kVMs, vm("new", "host-a").dump(), kJson), 403, "Forbidden", before);
  expect_status(node_a_->Delete("/apis/corral/v1/vms/on-a"), 403, "Forbidden", before);
}

TEST_F(AuthTest, NodeCreatesEvents) {
  Json ev = {{"apiVersion", "corral/v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "ev-1"}}},
             {"involvedObject", {{"kind", "VM"}, {"name", "on-a"}}},
             {"reason", "Started"},
             {"message", "vm/on-a started"}};
  auto r = node_a_->Post("/apis/corral/v1/events", ev.dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  const std::string before = snapshot();
  expect_status(node_a_->Delete("/apis/corral/v1/events/ev-1"), 403, "Forbidden", before);
}

TEST_F(AuthTest, BalancerWritesOnlyBalancerStatusAndEvents) {
  auto lb = h_.client("lb-token");
  Json front = {{"apiVersion", "corral/v1"},
                {"kind", "Balancer"},
                {"metadata", {{"name", "front"}}},
                {"spec", {{"vmSet", "web"}, {"listen", "0.0.0.0:80"}}}};
  auto created = admin_->Post("/apis/corral/v1/balancers", front.dump(), kJson);
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(lb->Get("/apis/corral/v1/vms")->status, 200);
  Json mine = get(*lb, "/apis/corral/v1/balancers/front");
  mine["status"]["reportedBy"] = "lb-1";
  auto st = lb->Put("/apis/corral/v1/balancers/front/status", mine.dump(), kJson);
  ASSERT_TRUE(st);
  EXPECT_EQ(st->status, 200) << st->body;
  Json ev = {{"apiVersion", "corral/v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "lb-ev-1"}}},
             {"involvedObject", {{"kind", "Balancer"}, {"name", "front"}}},
             {"reason", "BackendDown"},
             {"message", "vm/web-1 failed its health check"}};
  auto posted = lb->Post("/apis/corral/v1/events", ev.dump(), kJson);
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 201) << posted->body;

  const std::string before = snapshot();
  Json spec = get(*lb, "/apis/corral/v1/balancers/front");
  spec["spec"]["listen"] = "0.0.0.0:81";
  Json s = expect_status(lb->Put("/apis/corral/v1/balancers/front", spec.dump(), kJson), 403,
                         "Forbidden", before);
  EXPECT_NE(s.value("message", "").find("user \"lb-1\" (balancer) may not update balancers/front"),
            std::string::npos)
      << s.dump();
  Json on_a = get(*lb, "/apis/corral/v1/vms/on-a");
  on_a["status"]["phase"] = "Failed";
  expect_status(lb->Put("/apis/corral/v1/vms/on-a/status", on_a.dump(), kJson), 403, "Forbidden",
                before);
  expect_status(lb->Post(kVMs, vm("x").dump(), kJson), 403, "Forbidden", before);
  expect_status(lb->Delete("/apis/corral/v1/balancers/front"), 403, "Forbidden", before);
}

TEST(AuthRoles, BalancerRoleByVerbAndResource) {
  auto auth = server::Authenticator::from_text("t1,lb-1,balancer\n", "tokens");
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  auto who = auth->authenticate("Bearer t1");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(who->role, "balancer");
  EXPECT_TRUE(who->node_name.empty());
  auto allowed = [&](const std::string& verb, const std::string& resource,
                     const std::string& subresource = "") {
    return server::authorize(*who, {verb, resource, "front", subresource}, nullptr).ok();
  };
  for (const char* verb : {"get", "list", "watch"})
    for (const char* resource : {"balancers", "vms", "nodes", "events", "pools"})
      EXPECT_TRUE(allowed(verb, resource)) << verb << " " << resource;
  EXPECT_TRUE(allowed("update", "balancers", "status"));
  EXPECT_TRUE(allowed("create", "events"));
  EXPECT_FALSE(allowed("update", "balancers"));
  EXPECT_FALSE(allowed("create", "balancers"));
  EXPECT_FALSE(allowed("delete", "balancers"));
  EXPECT_FALSE(allowed("update", "vms", "status"));
  EXPECT_FALSE(allowed("update", "nodes", "status"));
  EXPECT_FALSE(allowed("update", "nodes", "heartbeat"));
  EXPECT_FALSE(allowed("update", "events"));
  EXPECT_FALSE(allowed("delete", "events"));
  EXPECT_FALSE(allowed("create", "vms"));
}

// Issue 15.2: a tokens file other users may read is refused at start (and
// at reload), with the chmod that fixes it.
TEST(AuthFile, TokensFileOpenToOthersIsRefused) {
  Harness h;
  server::ServerOptions o;
  o.tokens_file = write_file(h.dir, "tokens.csv", "t1,u1,admin\n");
  ::chmod(o.tokens_file.c_str(), 0640);
  auto r = h.start("memory", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("mode 0640"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("chmod 600 " + o.tokens_file), std::string::npos)
      << r.error().message;
}

// Revoking a token needs no restart: reload() swaps the whole table; a file
// that does not load leaves the old one in force.
TEST(AuthFile, ReloadSwapsTheTokensOrKeepsThemWhenTheFileIsBad) {
  TempDir dir;
  const std::string path = write_file(dir, "tokens.csv", "old,u1,admin\n");
  auto auth = server::Authenticator::from_file(path);
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  ASSERT_TRUE(auth->authenticate("Bearer old").ok());
  write_file(dir, "tokens.csv", "new,u2,viewer\nnewer,u3,admin\n");
  auto reloaded = auth->reload(path);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_EQ(*reloaded, 2u);
  EXPECT_FALSE(auth->authenticate("Bearer old").ok()) << "revoked";
  EXPECT_EQ(auth->authenticate("Bearer new")->role, "viewer");
  write_file(dir, "tokens.csv", "new,u2\n");
  EXPECT_FALSE(auth->reload(path).ok());
  EXPECT_TRUE(auth->authenticate("Bearer new").ok()) << "the previous tokens stay";
  EXPECT_FALSE(server::Authenticator().reload(path).ok()) << "authentication off: nothing to reload";
}

// Issue 15 §2: the node role as Kubernetes' NodeRestriction has it, verb by
// verb; the attacks through real HTTP are in tests/security/.
TEST(AuthRoles, NodeRoleWritesOnlyItsHeartbeatAndEvents) {
  auto auth = server::Authenticator::from_text("t1,agent-a,node:host-a\n", "tokens");
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  auto who = auth->authenticate("Bearer t1");
  ASSERT_TRUE(who.ok());
  server::BoundNodeLookup bound = [](const std::string& vm) -> Result<std::optional<std::string>> {
    if (vm == "mine") return std::optional<std::string>("host-a");
    if (vm == "theirs") return std::optional<std::string>("host-b");
    return std::optional<std::string>();
  };
  auto allowed = [&](const std::string& verb, const std::string& resource, const std::string& name,
                     const std::string& subresource = "") {
    return server::authorize(*who, {verb, resource, name, subresource}, bound).ok();
  };
  EXPECT_TRUE(allowed("update", "nodes", "host-a", "heartbeat"));
  EXPECT_FALSE(allowed("update", "nodes", "host-b", "heartbeat"));
  EXPECT_TRUE(allowed("create", "events", ""));
  EXPECT_TRUE(allowed("create", "events", "e1"));
  for (const char* verb : {"create", "update", "delete"}) {
    EXPECT_FALSE(allowed(verb, "nodes", "host-a")) << verb;
    EXPECT_FALSE(allowed(verb, "nodes", "")) << verb;
  }
  EXPECT_FALSE(allowed("update", "nodes", "host-a", "status"));
  EXPECT_FALSE(allowed("update", "vms", "mine", "status"));
  EXPECT_FALSE(allowed("update", "vms", "theirs", "status"));
  EXPECT_FALSE(allowed("update", "events", "e1"));
  EXPECT_FALSE(allowed("delete", "events", "e1"));
  EXPECT_FALSE(allowed("update", "balancers", "front", "status"));
  // Reads: not VMSets; VMs only its own, by name.
  EXPECT_TRUE(allowed("get", "vms", "mine"));
  EXPECT_FALSE(allowed("get", "vms", "theirs"));
  EXPECT_FALSE(allowed("get", "vms", "absent"));
  EXPECT_FALSE(allowed("list", "vms", ""));
  EXPECT_FALSE(allowed("watch", "vms", ""));
  for (const char* verb : {"get", "list", "watch"}) {
    EXPECT_FALSE(allowed(verb, "vmsets", "")) << verb;
    EXPECT_TRUE(allowed(verb, "nodes", "")) << verb;
    EXPECT_TRUE(allowed(verb, "pools", "")) << verb;
    EXPECT_TRUE(allowed(verb, "balancers", "")) << verb;
  }
  EXPECT_TRUE(allowed("get", "", ""));  // discovery, /metrics
}

TEST(AuthRoles, ScopedBalancerRoleUpdatesOnlyItsBalancers) {
  auto auth = server::Authenticator::from_text("t1,lb-1,balancer:front+back\n", "tokens");
  ASSERT_TRUE(auth.ok()) << auth.error().message;
  auto who = auth->authenticate("Bearer t1");
  ASSERT_TRUE(who.ok());
  EXPECT_TRUE(who->is_balancer());
  auto allowed = [&](const std::string& verb, const std::string& name,
                     const std::string& subresource = "status") {
    return server::authorize(*who, {verb, "balancers", name, subresource}, nullptr).ok();
  };
  EXPECT_TRUE(allowed("update", "front"));
  EXPECT_TRUE(allowed("update", "back"));
  EXPECT_FALSE(allowed("update", "other"));
  EXPECT_FALSE(allowed("update", "front", ""));
  EXPECT_TRUE(allowed("get", "other", ""));
  EXPECT_TRUE(server::authorize(*who, {"create", "events", "", ""}, nullptr).ok());
}

TEST(AuthFile, MalformedLineIsAStartupErrorNamingFileAndLine) {
  Harness h;
  server::ServerOptions o;
  o.tokens_file = write_file(h.dir, "tokens.csv", "# ok\nt1,u1,admin\nt2,u2\n");
  auto r = h.start("memory", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(o.tokens_file + ":3:"), std::string::npos) << r.error().message;

  auto bad_role = server::Authenticator::from_text("t,u,root\n", "f");
  ASSERT_FALSE(bad_role.ok());
  EXPECT_NE(bad_role.error().message.find("f:1: unknown role \"root\""), std::string::npos);
  EXPECT_FALSE(server::Authenticator::from_text("t,u,node:\n", "f").ok());
  EXPECT_FALSE(server::Authenticator::from_text("t,u,admin\nt,v,viewer\n", "f").ok());
  auto missing = server::Authenticator::from_file(h.dir.file("absent.csv"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("absent.csv"), std::string::npos);
}

TEST(AuthStartup, NoTokensOnlyOnLoopback) {
  EXPECT_TRUE(server::is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(server::is_loopback_host("127.4.5.6"));
  EXPECT_TRUE(server::is_loopback_host("::1"));
  EXPECT_TRUE(server::is_loopback_host("localhost"));
  EXPECT_FALSE(server::is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(server::is_loopback_host("::"));
  EXPECT_FALSE(server::is_loopback_host("10.0.0.1"));

  Harness h;
  server::ServerOptions o;
  o.host = "0.0.0.0";
  auto r = h.start("memory", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("without authentication"), std::string::npos)
      << r.error().message;
}

TEST(AuthStartup, NoTokensOnLoopbackServesEveryoneAsAdmin) {
  Harness h;
  ASSERT_TRUE(h.start("memory").ok());
  auto c = h.client("");
  auto r = c->Post(kVMs, vm("open").dump(), kJson);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version > /dev/null 2>&1") != 0)
      GTEST_SKIP() << "the openssl command line tool is not installed";
    cert_ = h_.dir.file("cert.pem");
    key_ = h_.dir.file("key.pem");
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        key_ + " -out " + cert_ + " > /dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  Harness h_;
  std::string cert_, key_;
};

TEST_F(TlsTest, ServesHttpsWithTheGivenCertificate) {
  server::ServerOptions o;
  o.tls_cert_file = cert_;
  o.tls_key_file = key_;
  o.tokens_file = write_file(h_.dir, "tokens.csv", "tok,root,admin\n");
  auto port = h_.start("memory", o);
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  EXPECT_EQ(h_.server->base_url(), "https://127.0.0.1:" + std::to_string(*port));

  httplib::SSLClient c("127.0.0.1", *port);
  c.set_ca_cert_path(cert_.c_str());
  c.enable_server_certificate_verification(true);
  c.set_bearer_token_auth("tok");
  auto created = c.Post(kVMs, vm("secure").dump(), kJson);
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 201) << created->body;
  auto got = c.Get("/apis/corral/v1/vms/secure");
  ASSERT_TRUE(got);
  EXPECT_EQ(got->status, 200);

  // Plain HTTP to the TLS port gets no answer.
  httplib::Client plain("127.0.0.1", *port);
  plain.set_read_timeout(3);
  auto r = plain.Get("/healthz");
  EXPECT_TRUE(!r || r->status != 200);
}

TEST_F(TlsTest, MissingCertificateIsAStartupErrorNamingTheFile) {
  server::ServerOptions o;
  o.tls_cert_file = h_.dir.file("nope.pem");
  o.tls_key_file = key_;
  auto r = h_.start("memory", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nope.pem"), std::string::npos) << r.error().message;

  Harness h2;
  server::ServerOptions only_cert;
  only_cert.tls_cert_file = cert_;
  EXPECT_FALSE(h2.start("memory", only_cert).ok());

  Harness h3;
  server::ServerOptions garbage;
  garbage.tls_cert_file = write_file(h3.dir, "garbage.pem", "not a certificate\n");
  garbage.tls_key_file = key_;
  auto g = h3.start("memory", garbage);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.error().message.find("garbage.pem"), std::string::npos) << g.error().message;
}

}  // namespace auth_test
}  // namespace corral::testing
