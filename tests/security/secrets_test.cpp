// Issue 15 §2, Secrets: a Secret's values are read whole by admins, redacted
// for viewers and balancers (get, list and watch alike), never read by node
// tokens through the API; the node of a VM that takes a value from a Secret
// receives the value in its heartbeat answer only, and a VM whose Secret or
// key is missing is not sent (not started) until it appears.
#include <thread>

#include "api/base64.h"
#include "tests/security/node_restriction_fixture.h"

namespace corral::testing::security {
namespace secrets_test {

constexpr const char* kPassword = "hunter2-s3cret";

Json secret(const std::string& name, const Json& string_data) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "Secret"},
          {"metadata", {{"name", name}}},
          {"stringData", string_data}};
}

// A VM bound to `node` whose env takes DB_PASSWORD from secret/db key `key`.
Json vm_using(const std::string& name, const std::string& node, const std::string& key) {
  Json o = vm(name, node);
  o["spec"]["runtime"]["env"] = Json::array(
      {{{"name", "MODE"}, {"value", "prod"}},
       {{"name", "DB_PASSWORD"},
        {"valueFrom", {{"secretKeyRef", {{"name", "db"}, {"key", key}}}}}}});
  return o;
}

// Every event of a watch that the server ends after a second.
std::string watch_body(httplib::Client& c, const std::string& rest) {
  std::string body;
  auto r = c.Get(std::string(kApi) + rest, [&](const char* data, size_t n) {
    body.append(data, n);
    return true;
  });
  EXPECT_TRUE(r && r->status == 200) << (r ? std::to_string(r->status) + body : "no answer");
  return body;
}

class Secrets : public SecurityTest {
 protected:
  void SetUp() override {
    SecurityTest::SetUp();
    viewer_ = h_.client("viewer-token");
    balancer_ = h_.client("lb-any-token");
    auto r = post(*node_a_, "nodes/host-a/heartbeat", heartbeat_body("host-a/1-aa"));
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    auto created = post(*admin_, "secrets", secret("db", {{"password", kPassword}, {"user", "app"}}));
    ASSERT_TRUE(created && created->status == 201) << (created ? created->body : "no answer");
  }

  // The env the heartbeat answer gives host-a for `vm`, or null when it is not sent.
  Json answered_env(const std::string& vm_name) {
    EXPECT_TRUE(service_->sync().ok());
    auto r = post(*node_a_, "nodes/host-a/heartbeat", heartbeat_body("host-a/1-aa"));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r) return Json();
    const Json answer = parse(r->body);
    for (const auto& v : answer["vms"])
      if (v.value("name", "") == vm_name) return v["runtime"]["env"];
    return Json();
  }

  std::unique_ptr<httplib::Client> viewer_, balancer_;
};

TEST_F(Secrets, AdminReadsTheValues) {
  Json s = get("secrets/db");
  EXPECT_EQ(s["data"]["password"], base64_encode(kPassword)) << s.dump();
  EXPECT_EQ(s["data"]["user"], base64_encode("app"));
  EXPECT_FALSE(s.contains("stringData")) << "stringData is write-only";
}

TEST_F(Secrets, ViewerAndBalancerSeeEveryValueRedactedInGetListAndWatch) {
  const std::string encoded = base64_encode(kPassword);
  for (auto* c : {viewer_.get(), balancer_.get()}) {
    auto one = c->Get(path("secrets/db"));
    ASSERT_TRUE(one && one->status == 200) << (one ? one->body : "no answer");
    Json s = parse(one->body);
    EXPECT_EQ(s["data"]["password"], "<redacted>") << one->body;
    EXPECT_EQ(s["data"]["user"], "<redacted>");
    auto all = c->Get(path("secrets"));
    ASSERT_TRUE(all && all->status == 200);
    EXPECT_EQ(parse(all->body)["items"][0]["data"]["password"], "<redacted>") << all->body;
    std::string events = watch_body(*c, "secrets?watch=true&timeoutSeconds=1");
    EXPECT_NE(events.find("\"password\":\"<redacted>\""), std::string::npos) << events;
    for (const std::string& body : {one->body, all->body, events}) {
      EXPECT_EQ(body.find(kPassword), std::string::npos) << body;
      EXPECT_EQ(body.find(encoded), std::string::npos) << body;
    }
  }
  // A change streams redacted too (a watch from the current revision).
  const std::string rv = get("secrets/db")["metadata"].value("resourceVersion", "");
  Json changed = get("secrets/db");
  changed["stringData"] = {{"password", "rotated-value"}};
  ASSERT_EQ(put(*admin_, "secrets/db", changed)->status, 200);
  std::string events = watch_body(*viewer_, "secrets?watch=true&timeoutSeconds=1&resourceVersion=" + rv);
  EXPECT_NE(events.find("MODIFIED"), std::string::npos) << events;
  EXPECT_EQ(events.find("rotated-value"), std::string::npos) << events;
  EXPECT_EQ(events.find(base64_encode("rotated-value")), std::string::npos) << events;
}

TEST_F(Secrets, ViewerMayNotWriteSecrets) {
  const std::string before = snapshot();
  auto r = post(*viewer_, "secrets", secret("mine", {{"k", "v"}}));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403) << r->body;
  EXPECT_EQ(viewer_->Delete(path("secrets/db"))->status, 403);
  EXPECT_EQ(snapshot(), before);
}

TEST_F(Secrets, NodeTokenGets403OnSecretsAndOnOtherNodesVms) {
  ASSERT_EQ(post(*admin_, "vms", vm_using("on-b", "host-b", "password"))->status, 201);
  for (const char* p : {"secrets", "secrets/db", "secrets?watch=true&timeoutSeconds=1", "vms/on-b"}) {
    auto r = node_a_->Get(path(p));
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 403) << p << ": " << r->body;
    EXPECT_EQ(r->body.find(kPassword), std::string::npos);
  }
}

TEST_F(Secrets, OnlyTheBoundNodesHeartbeatCarriesTheValue) {
  ASSERT_EQ(post(*admin_, "vms", vm_using("on-a", "host-a", "password"))->status, 201);
  Json env = answered_env("on-a");
  ASSERT_TRUE(env.is_array()) << env.dump();
  Json want = Json::array({{{"name", "MODE"}, {"value", "prod"}},
                           {{"name", "DB_PASSWORD"}, {"value", kPassword}}});
  EXPECT_EQ(env, want);
  // Stored (and read by viewers) with the reference only.
  for (auto* c : {admin_.get(), viewer_.get()}) {
    auto r = c->Get(path("vms/on-a"));
    ASSERT_TRUE(r && r->status == 200);
    EXPECT_EQ(r->body.find(kPassword), std::string::npos) << r->body;
    EXPECT_NE(r->body.find("secretKeyRef"), std::string::npos) << r->body;
  }
  // host-b's VM never reaches host-a.
  ASSERT_EQ(post(*admin_, "vms", vm_using("on-b", "host-b", "password"))->status, 201);
  EXPECT_TRUE(answered_env("on-b").is_null());
}

TEST_F(Secrets, MissingKeyHoldsTheVmBackWithAnEventUntilItAppears) {
  ASSERT_EQ(post(*admin_, "vms", vm_using("on-a", "host-a", "token"))->status, 201);
  EXPECT_TRUE(answered_env("on-a").is_null()) << "a VM whose key is missing must not be sent";
  const std::string why = "secret \"db\" has no key \"token\"";
  Json stored = get("vms/on-a");
  EXPECT_EQ(stored["status"].value("message", ""), why) << stored.dump();
  ASSERT_TRUE(stored["status"]["conditions"].is_array()) << stored.dump();
  EXPECT_EQ(stored["status"]["conditions"][0]["reason"], "CreateVMConfigError");
  Json events = get("events?fieldSelector=involvedObject.name%3Don-a");
  ASSERT_EQ(events["items"].size(), 1u) << events.dump();
  EXPECT_EQ(events["items"][0]["reason"], "VMConfigError");
  EXPECT_NE(events["items"][0].value("message", "").find(why), std::string::npos);
  // Asked again: reported once, not once per heartbeat.
  EXPECT_TRUE(answered_env("on-a").is_null());
  EXPECT_EQ(get("events?fieldSelector=involvedObject.name%3Don-a")["items"][0]["count"], 1);

  Json s = get("secrets/db");
  s["stringData"] = {{"token", "t0k3n"}};
  ASSERT_EQ(put(*admin_, "secrets/db", s)->status, 200);
  Json env = answered_env("on-a");
  ASSERT_TRUE(env.is_array()) << "sent once the key exists";
  EXPECT_EQ(env[1]["value"], "t0k3n");
}

TEST_F(Secrets, MissingSecretIsNamed) {
  Json o = vm_using("on-a", "host-a", "password");
  o["spec"]["runtime"]["env"][1]["valueFrom"]["secretKeyRef"]["name"] = "nope";
  ASSERT_EQ(post(*admin_, "vms", o)->status, 201);
  EXPECT_TRUE(answered_env("on-a").is_null());
  EXPECT_EQ(get("vms/on-a")["status"].value("message", ""), "secret \"nope\" not found");
}

TEST_F(Secrets, BadReferencesAre422NamingTheField) {
  Json o = vm_using("bad", "", "password");
  o["spec"]["runtime"]["env"][1]["valueFrom"]["secretKeyRef"] = {{"name", "Bad_Name"}};
  o["spec"]["runtime"]["env"][0]["name"] = "";
  auto r = post(*admin_, "vms", o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  for (const char* field : {"spec.runtime.env[0].name", "spec.runtime.env[1].valueFrom.secretKeyRef.name",
                            "spec.runtime.env[1].valueFrom.secretKeyRef.key"})
    EXPECT_NE(r->body.find(field), std::string::npos) << field << ": " << r->body;
}

}  // namespace secrets_test
}  // namespace corral::testing::security
