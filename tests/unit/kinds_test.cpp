#include "api/kinds.h"

#include <gtest/gtest.h>

#include "api/json.h"

namespace corral {
namespace kinds_test {

Json parse(const char* text) { return *parse_json(text); }

std::vector<std::string> keys(const Json& j) {
  std::vector<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

const char* const kVMSet = R"({
  "spec": {"pool": "web", "replicas": 2,
           "template": {"spec": {"resources": {"cpu": "1", "memory": "1Gi"},
                                 "runtime": {"driver": "sim"}}}},
  "metadata": {"name": "frontend"},
  "kind": "VMSet",
  "apiVersion": "corral/v1"
})";

TEST(Kinds, NormalizePutsApiVersionAndKindFirst) {
  auto r = normalize_object(parse(kVMSet));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(keys(*r),
            (std::vector<std::string>{"apiVersion", "kind", "metadata", "spec", "status"}));
  EXPECT_EQ((*r)["apiVersion"], "corral/v1");
  EXPECT_EQ((*r)["kind"], "VMSet");
}

TEST(Kinds, NormalizeAppliesStaticAndDerivedDefaults) {
  auto r = normalize_object(parse(kVMSet));
  ASSERT_TRUE(r.ok()) << r.error().message;
  const Json& spec = (*r)["spec"];
  EXPECT_EQ(spec["fencing"], "none");
  EXPECT_EQ(spec["template"]["spec"]["restartPolicy"], "Always");
  EXPECT_EQ(spec["template"]["metadata"]["labels"], parse(R"({"corral.io/vmset": "frontend"})"));
}

TEST(Kinds, NormalizeDefaultsBalancerHealthCheckFromMode) {
  auto r = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Balancer",
    "metadata": {"name": "db"}, "spec": {"vmSet": "db", "listen": "0.0.0.0:5432", "mode": "tcp"}})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["spec"]["healthCheck"]["type"], "tcp");
}

TEST(Kinds, EnumValuesAreCamelCaseAndOldSpellingsAreRewrittenWithAWarning) {
  std::vector<Cause> warnings;
  auto pool = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Pool",
    "metadata": {"name": "web"}, "spec": {"placement": "least-loaded"}})"), &warnings);
  ASSERT_TRUE(pool.ok()) << pool.error().message;
  EXPECT_EQ((*pool)["spec"]["placement"], "leastLoaded");
  auto lb = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Balancer",
    "metadata": {"name": "db"}, "spec": {"vmSet": "db", "listen": "0.0.0.0:5432",
    "sessionAffinity": "None"}})"), &warnings);
  ASSERT_TRUE(lb.ok()) << lb.error().message;
  EXPECT_EQ((*lb)["spec"]["sessionAffinity"], "none");
  EXPECT_EQ(warnings, (std::vector<Cause>{
                          {"spec.placement", "\"least-loaded\" is deprecated, use \"leastLoaded\"", ""},
                          {"spec.sessionAffinity", "\"None\" is deprecated, use \"none\"", ""}}));
  // The current spellings pass without a word; the default is the new one.
  warnings.clear();
  auto current = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Balancer",
    "metadata": {"name": "db"}, "spec": {"vmSet": "db", "listen": "0.0.0.0:5432"}})"), &warnings);
  ASSERT_TRUE(current.ok()) << current.error().message;
  EXPECT_EQ((*current)["spec"]["sessionAffinity"], "none");
  EXPECT_TRUE(warnings.empty());
}

TEST(Kinds, KubernetesWellKnownNodeLabelsInTopologyKeysBecomeCorralsWithAWarning) {
  std::vector<Cause> warnings;
  auto set = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "web"}, "spec": {"pool": "web", "replicas": 2,
    "spread": {"topologyKey": "topology.kubernetes.io/zone"},
    "antiAffinity": {"topologyKey": "kubernetes.io/hostname"},
    "template": {"spec": {"resources": {"cpu": "1", "memory": "1Gi"}, "runtime": {"driver": "sim"}}}}})"), &warnings);
  ASSERT_TRUE(set.ok()) << set.error().message;
  EXPECT_EQ((*set)["spec"]["spread"]["topologyKey"], "topology.corral.io/zone");
  EXPECT_EQ((*set)["spec"]["antiAffinity"]["topologyKey"], "corral.io/hostname");
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_EQ(warnings[0].field, "spec.spread.topologyKey");
  EXPECT_NE(warnings[0].message.find("\"topology.corral.io/zone\" (used instead)"), std::string::npos)
      << warnings[0].message;
  EXPECT_EQ(warnings[1].field, "spec.antiAffinity.topologyKey");
  // Any other key is the user's own label, kept as written.
  warnings.clear();
  auto own = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "web"}, "spec": {"pool": "web", "spread": {"topologyKey": "rack"},
    "template": {"spec": {"resources": {"cpu": "1", "memory": "1Gi"}, "runtime": {"driver": "sim"}}}}})"), &warnings);
  ASSERT_TRUE(own.ok()) << own.error().message;
  EXPECT_EQ((*own)["spec"]["spread"]["topologyKey"], "rack");
  EXPECT_TRUE(warnings.empty());
}

TEST(Kinds, NormalizeIsIdempotent) {
  auto once = normalize_object(parse(kVMSet));
  ASSERT_TRUE(once.ok());
  auto twice = normalize_object(*once);
  ASSERT_TRUE(twice.ok()) << twice.error().message;
  EXPECT_EQ(*twice, *once);
}

TEST(Kinds, NormalizeRequiresApiVersionAndKind) {
  auto r = normalize_object(parse(R"({"metadata": {"name": "x"}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  std::vector<Cause> want = {
      {"apiVersion", "required: must be \"corral/v1\"", ""},
      {"kind", "required: one of Node, Pool, VMSet, VM, Balancer, Secret, Event", ""},
  };
  EXPECT_EQ(r.error().causes, want);
}

TEST(Kinds, NormalizeRejectsUnknownApiVersionAndKind) {
  auto r = normalize_object(parse(R"({"apiVersion": "apps/v1", "kind": "Deployment"})"));
  ASSERT_FALSE(r.ok());
  std::vector<Cause> want = {
      {"apiVersion", "unknown apiVersion \"apps/v1\": must be \"corral/v1\"", ""},
      {"kind", "unknown kind \"Deployment\": one of Node, Pool, VMSet, VM, Balancer, Secret, Event", ""},
  };
  EXPECT_EQ(r.error().causes, want);
}

TEST(Kinds, NormalizeWantsTheExactKindName) {
  // "vmset" finds the kind on the command line, but an object must say "VMSet".
  auto r = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "vmset"})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().causes.at(0).field, "kind");
}

TEST(Kinds, NormalizeRejectsNonObject) {
  auto r = normalize_object(parse("[1]"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().causes, (std::vector<Cause>{{"", "expected an object, got array", ""}}));
}

TEST(Kinds, NormalizeReportsUnknownFields) {
  auto r = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Pool",
    "metadata": {"name": "web"}, "spec": {"placment": "binpack"}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().causes,
            (std::vector<Cause>{{"spec.placment", "unknown field \"placment\"", ""}}));
}

TEST(Kinds, NormalizeReportsValidationCauses) {
  auto r = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "VMSet",
    "metadata": {"name": "frontend"},
    "spec": {"pool": "web", "replicas": -1,
             "template": {"spec": {"resources": {"cpu": "1"}, "runtime": {"driver": "sim"}}}}})"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  std::vector<Cause> want = {
      {"spec.replicas", "must be greater than or equal to 0", ""},
      {"spec.template.spec.resources.memory", "required", ""},
  };
  EXPECT_EQ(r.error().causes, want);
  EXPECT_EQ(r.error().message,
            "VMSet \"frontend\" is invalid: spec.replicas: must be greater than or equal to 0, "
            "spec.template.spec.resources.memory: required");
}

TEST(Kinds, NormalizeEventHasTopLevelFields) {
  auto r = normalize_object(parse(R"({"apiVersion": "corral/v1", "kind": "Event",
    "metadata": {"name": "web-1.1"}, "involvedObject": {"kind": "VM", "name": "web-1"},
    "reason": "Scheduled", "message": "bound to host-1"})"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ((*r)["type"], "Normal");
  EXPECT_EQ((*r)["count"], 1);
  EXPECT_FALSE(r->contains("spec"));
}

TEST(Kinds, FindsKindsByAnyName) {
  struct Case {
    const char* name;
    const char* kind;
  };
  for (auto c :
       {Case{"Node", "Node"}, Case{"nodes", "Node"}, Case{"no", "Node"}, Case{"pool", "Pool"},
        Case{"pools", "Pool"}, Case{"vmset", "VMSet"}, Case{"VMSETS", "VMSet"}, Case{"vm", "VM"},
        Case{"vms", "VM"}, Case{"lb", "Balancer"}, Case{"balancers", "Balancer"},
        Case{"ev", "Event"}, Case{"Events", "Event"}}) {
    const KindInfo* k = find_kind(c.name);
    ASSERT_NE(k, nullptr) << c.name;
    EXPECT_EQ(k->kind, c.kind) << c.name;
  }
  EXPECT_EQ(find_kind("pods"), nullptr);
  EXPECT_EQ(find_kind(""), nullptr);
}

TEST(Kinds, FindsKindByPluralExactly) {
  ASSERT_NE(find_kind_by_plural("vmsets"), nullptr);
  EXPECT_EQ(find_kind_by_plural("vmsets")->kind, "VMSet");
  EXPECT_EQ(find_kind_by_plural("VMSets"), nullptr);
  EXPECT_EQ(find_kind_by_plural("vmset"), nullptr);
}

TEST(Kinds, EventHasNoStatus) {
  EXPECT_FALSE(find_kind("Event")->has_status);
  EXPECT_TRUE(find_kind("VM")->has_status);
  EXPECT_FALSE(find_kind("Secret")->has_status);
  EXPECT_EQ(all_kinds().size(), 7u);
}

TEST(Kinds, FromJsonIsStrictButAppliesNoDefaults) {
  auto vmset = from_json<VMSet>(parse(kVMSet));
  ASSERT_TRUE(vmset.ok()) << vmset.error().message;
  EXPECT_TRUE(vmset->spec.templ.metadata.labels.empty());
  auto bad = from_json<VMSet>(parse(R"({"kind": "VMSet", "spec": {"replica": 1}})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().causes,
            (std::vector<Cause>{{"spec.replica", "unknown field \"replica\"", ""}}));
}

TEST(Kinds, FieldValueReadsDottedPaths) {
  Json vm = parse(R"({"spec": {"nodeName": "host-1", "epoch": 3, "x": null},
                      "status": {"ready": true}})");
  EXPECT_EQ(field_value(vm, "spec.nodeName"), "host-1");
  EXPECT_EQ(field_value(vm, "spec.epoch"), "3");
  EXPECT_EQ(field_value(vm, "status.ready"), "true");
  EXPECT_EQ(field_value(vm, "spec.x"), "");
  EXPECT_EQ(field_value(vm, "spec.missing"), "");
  EXPECT_EQ(field_value(vm, "spec.nodeName.deeper"), "");
}

// A short name that equals another kind's name, plural or singular would make
// `corralctl get` mean two things (VMSet once had "vms", VM's plural).
TEST(Kinds, ShortNamesNeverShadowAnotherKind) {
  for (const auto& k : all_kinds()) {
    for (const auto& s : k.short_names) {
      const KindInfo* found = find_kind(s);
      ASSERT_NE(found, nullptr) << s;
      EXPECT_EQ(found->kind, k.kind) << "short name " << s << " of " << k.kind;
    }
  }
}

}  // namespace kinds_test
}  // namespace corral
