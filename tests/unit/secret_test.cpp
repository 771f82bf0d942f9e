// Secrets and the env that refers to them: validation with field paths, the
// stored form (stringData merged into base64 data), the two env shapes,
// redaction, resolution for a heartbeat answer, and what corralctl prints.
#include <gtest/gtest.h>

#include "api/base64.h"
#include "api/json.h"
#include "api/kinds.h"
#include "cli/describe.h"
#include "cli/printers.h"
#include "controller/heartbeat/secret_env.h"

namespace corral {
namespace secret_test {

Json secret(const Json& fields) {
  Json o = {{"apiVersion", "corral/v1"}, {"kind", "Secret"}, {"metadata", {{"name", "db"}}}};
  for (auto it = fields.begin(); it != fields.end(); ++it) o[it.key()] = it.value();
  return o;
}

Json vm_with_env(const Json& env) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "VM"},
          {"metadata", {{"name", "web-1"}}},
          {"spec",
           {{"resources", {{"cpu", "1"}, {"memory", "1Gi"}}},
            {"runtime", {{"driver", "process"}, {"command", {"/bin/true"}}, {"env", env}}}}}};
}

Json secret_ref(const std::string& name, const std::string& secret, const std::string& key) {
  return {{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", secret}, {"key", key}}}}}};
}

// "field: message" of every cause, for compact assertions.
std::vector<std::string> causes(const Result<Json>& r) {
  std::vector<std::string> out;
  if (r) return out;
  for (const auto& c : r.error().causes) out.push_back(c.field + ": " + c.message);
  return out;
}

bool has_cause_at(const Result<Json>& r, const std::string& field) {
  if (r) return false;
  for (const auto& c : r.error().causes)
    if (c.field == field) return true;
  return false;
}

TEST(Base64, RoundTripsEveryLength) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  std::string bytes;
  for (int i = 0; i < 256; ++i) {
    bytes += static_cast<char>(i);
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
  }
  for (const char* bad : {"Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v\n", "Zm-v", "=Zm9"})
    EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
}

TEST(SecretKind, IsServedWithShortNameSecret) {
  const KindInfo* k = find_kind("secret");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->kind, "Secret");
  EXPECT_EQ(k->plural, "secrets");
  EXPECT_FALSE(k->has_status);
  EXPECT_EQ(find_kind("secrets"), k);
}

TEST(SecretKind, StringDataIsMergedIntoBase64DataAndDropped) {
  auto r = normalize_object(secret({{"data", {{"a", base64_encode("old")}, {"b", base64_encode("keep")}}},
                                    {"stringData", {{"a", "new"}, {"c", "plain"}}}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)["type"], "Opaque");
  EXPECT_EQ((*r)["data"], Json({{"a", base64_encode("new")}, {"b", base64_encode("keep")},
                                {"c", base64_encode("plain")}}));
  EXPECT_FALSE(r->contains("stringData"));
  // The stored form normalises to itself (apply compares it with what it sends).
  auto again = normalize_object(*r);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *r);
}

TEST(SecretKind, BadKeysValuesAndTypeNameTheirField) {
  auto r = normalize_object(secret({{"type", "kubernetes.io/tls"},
                                    {"data", {{"ok", "not base64!"}}},
                                    {"stringData", {{"bad key", "v"}, {"..", "v"}}}}));
  EXPECT_TRUE(has_cause_at(r, "type")) << ::testing::PrintToString(causes(r));
  EXPECT_TRUE(has_cause_at(r, "data.ok")) << ::testing::PrintToString(causes(r));
  EXPECT_TRUE(has_cause_at(r, "stringData.bad key")) << ::testing::PrintToString(causes(r));
  EXPECT_TRUE(has_cause_at(r, "stringData...")) << ::testing::PrintToString(causes(r));
  EXPECT_FALSE(normalize_object(secret({{"metadata", {{"name", "Bad_Name"}}}})).ok());
}

TEST(SecretKind, IsBoundedTo64KiB) {
  std::string big(kMaxSecretBytes, 'x');
  auto r = normalize_object(secret({{"stringData", {{"k", big}}}}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has_cause_at(r, "stringData")) << ::testing::PrintToString(causes(r));
  EXPECT_NE(r.error().to_string().find("65536"), std::string::npos) << r.error().to_string();
  EXPECT_TRUE(normalize_object(secret({{"stringData", {{"k", std::string(60 * 1024, 'x')}}}})).ok());
}

TEST(SecretRedaction, KeepsKeysAndReplacesEveryValue) {
  auto stored = normalize_object(secret({{"stringData", {{"password", "hunter2"}, {"user", "app"}}}}));
  ASSERT_TRUE(stored.ok());
  Json r = redact_secret_values(*stored);
  EXPECT_EQ(r["data"], Json({{"password", "<redacted>"}, {"user", "<redacted>"}}));
  EXPECT_EQ(r["metadata"], (*stored)["metadata"]);
  EXPECT_EQ(r.dump().find(base64_encode("hunter2")), std::string::npos);
  EXPECT_EQ(redact_secret_values(Json({{"stringData", {{"k", "v"}}}}))["stringData"]["k"], "<redacted>");
}

TEST(Env, TheMapFormIsStillAcceptedAndWrittenAsAMap) {
  auto r = normalize_object(vm_with_env({{"B", "2"}, {"A", "1"}}));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)["spec"]["runtime"]["env"].dump(), R"({"A":"1","B":"2"})");
  // A list of plain values is the same environment, stored as before.
  auto listed = normalize_object(
      vm_with_env(Json::array({{{"name", "B"}, {"value", "2"}}, {{"name", "A"}, {"value", "1"}}})));
  ASSERT_TRUE(listed.ok()) << listed.error().to_string();
  EXPECT_EQ((*listed)["spec"]["runtime"]["env"], (*r)["spec"]["runtime"]["env"]);
}

TEST(Env, SecretKeyRefsAreKeptInTheListForm) {
  Json env = Json::array({{{"name", "MODE"}, {"value", "prod"}}, secret_ref("PASSWORD", "db", "password")});
  auto r = normalize_object(vm_with_env(env));
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ((*r)["spec"]["runtime"]["env"], env);
  auto vm = from_json<VM>(*r);
  ASSERT_TRUE(vm.ok());
  EXPECT_TRUE(vm->spec.runtime.env.has_secret_refs());
  EXPECT_EQ(*vm->spec.runtime.env.find("MODE"), "prod");
  EXPECT_EQ(vm->spec.runtime.env.find("PASSWORD"), nullptr);
}

TEST(Env, BadEntriesNameTheirFieldPath) {
  Json bad_ref = secret_ref("B", "Not_A_Name", "bad/key");
  Json both = secret_ref("C", "db", "k");
  both["value"] = "x";
  Json no_source = {{"name", "D"}, {"valueFrom", Json::object()}};
  Json env = Json::array({{{"value", "nameless"}}, bad_ref, both, no_source, {{"name", "B"}, {"value", "dup"}},
                          {{"name", "E"}, {"valueFrom", {{"secretKeyRef", {{"key", "k"}}}}}}});
  auto r = normalize_object(vm_with_env(env));
  ASSERT_FALSE(r.ok());
  const std::string p = "spec.runtime.env";
  for (const std::string& field :
       {p + "[0].name", p + "[1].valueFrom.secretKeyRef.name", p + "[1].valueFrom.secretKeyRef.key",
        p + "[2].value", p + "[3].valueFrom.secretKeyRef", p + "[4].name",
        p + "[5].valueFrom.secretKeyRef.name"})
    EXPECT_TRUE(has_cause_at(r, field)) << field << " in " << ::testing::PrintToString(causes(r));
  // The map form names the key.
  auto m = normalize_object(vm_with_env({{"A=B", "1"}}));
  EXPECT_TRUE(has_cause_at(m, p + ".A=B")) << ::testing::PrintToString(causes(m));
  // Neither a string nor a list.
  EXPECT_TRUE(has_cause_at(normalize_object(vm_with_env("A=1")), p));
}

TEST(Env, VMSetTemplatesTakeSecretKeyRefsToo) {
  Json set = {{"apiVersion", "corral/v1"},
              {"kind", "VMSet"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"pool", "p"},
                {"template", {{"spec", vm_with_env(Json::array({secret_ref("X", "db", "")}))["spec"]}}}}}};
  auto r = normalize_object(set);
  EXPECT_TRUE(has_cause_at(r, "spec.template.spec.runtime.env[0].valueFrom.secretKeyRef.key"))
      << ::testing::PrintToString(causes(r));
}

// ---- resolution for the heartbeat answer (controller/heartbeat/secret_env.h) ----

Json bound_with(const Json& env) { return {{"name", "web-1"}, {"epoch", 1}, {"runtime", {{"env", env}}}}; }

TEST(SecretEnv, ResolvesEveryReferenceInPlace) {
  heartbeat::SecretSnapshot secrets;
  secrets["db"] = std::make_shared<heartbeat::SecretValues>(heartbeat::SecretValues{{"password", "hunter2"}});
  Json env = Json::array({{{"name", "MODE"}, {"value", "prod"}}, secret_ref("PASSWORD", "db", "password")});
  auto r = heartbeat::resolve_secret_env(bound_with(env), secrets);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["runtime"]["env"], Json::array({{{"name", "MODE"}, {"value", "prod"}},
                                                 {{"name", "PASSWORD"}, {"value", "hunter2"}}}));
  // The map form carries no references: sent as it is.
  Json plain = bound_with({{"A", "1"}});
  EXPECT_EQ(*heartbeat::resolve_secret_env(plain, secrets), plain);
}

TEST(SecretEnv, MissingSecretOrKeyIsNamed) {
  heartbeat::SecretSnapshot secrets;
  secrets["db"] = std::make_shared<heartbeat::SecretValues>(heartbeat::SecretValues{{"user", "app"}});
  auto no_key = heartbeat::resolve_secret_env(bound_with(Json::array({secret_ref("P", "db", "password")})), secrets);
  ASSERT_FALSE(no_key.ok());
  EXPECT_EQ(no_key.error().message, "secret \"db\" has no key \"password\"");
  auto no_secret = heartbeat::resolve_secret_env(bound_with(Json::array({secret_ref("P", "other", "k")})), secrets);
  ASSERT_FALSE(no_secret.ok());
  EXPECT_EQ(no_secret.error().message, "secret \"other\" not found");
}

// ---- corralctl ----------------------------------------------------------------------

TEST(SecretCli, GetShowsTypeAndKeyCountDescribeShowsSizesNeverValues) {
  auto stored = normalize_object(secret({{"stringData", {{"password", "hunter2"}, {"user", "a"}}}}));
  ASSERT_TRUE(stored.ok());
  const KindInfo& kind = *find_kind("Secret");
  auto rows = cli::table_rows(kind, {*stored}, false, std::chrono::system_clock::now(), false);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], (cli::Row{"NAME", "TYPE", "DATA", "AGE"}));
  EXPECT_EQ(rows[1][1], "Opaque");
  EXPECT_EQ(rows[1][2], "2");
  std::string text = cli::describe_object(kind, *stored, {}, std::chrono::system_clock::now());
  EXPECT_NE(text.find("password:   7 bytes"), std::string::npos) << text;
  EXPECT_NE(text.find("user:       1 byte"), std::string::npos) << text;
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find(base64_encode("hunter2")), std::string::npos) << text;
  // As a viewer reads it.
  std::string redacted = cli::describe_object(kind, redact_secret_values(*stored), {}, std::chrono::system_clock::now());
  EXPECT_NE(redacted.find("password:   <redacted>"), std::string::npos) << redacted;
}

}  // namespace secret_test
}  // namespace corral
