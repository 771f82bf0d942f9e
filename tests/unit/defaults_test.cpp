#include "api/defaults.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "api/fields.h"

namespace corral {
namespace defaults_test {

TEST(Defaults, VMSetTemplateGetsVMSetLabel) {
  VMSet v;
  v.metadata.name = "frontend";
  v.spec.templ.metadata.labels = {{"app", "web"}};
  apply_defaults(v);
  Labels want = {{"app", "web"}, {"corral.io/vmset", "frontend"}};
  EXPECT_EQ(v.spec.templ.metadata.labels, want);
}

TEST(Defaults, VMSetLabelWrittenByUserIsKept) {
  VMSet v;
  v.metadata.name = "frontend";
  v.spec.templ.metadata.labels = {{"corral.io/vmset", "other"}};
  apply_defaults(v);
  EXPECT_EQ(v.spec.templ.metadata.labels.at("corral.io/vmset"), "other");
}

TEST(Defaults, VMSetWithoutNameGetsNoLabel) {
  VMSet v;
  apply_defaults(v);
  EXPECT_TRUE(v.spec.templ.metadata.labels.empty());
}

TEST(Defaults, AntiAffinityTopologyKeyDefaultsToHostname) {
  VMSet v;
  v.metadata.name = "db";
  v.spec.antiAffinity = AntiAffinity{};
  apply_defaults(v);
  ASSERT_TRUE(v.spec.antiAffinity.has_value());
  EXPECT_EQ(v.spec.antiAffinity->topologyKey, "corral.io/hostname");
  EXPECT_EQ(v.spec.antiAffinity->mode, "required");
}

TEST(Defaults, AntiAffinityTopologyKeyWrittenByUserIsKept) {
  VMSet v;
  v.spec.antiAffinity = AntiAffinity{"zone", "preferred"};
  apply_defaults(v);
  EXPECT_EQ(v.spec.antiAffinity->topologyKey, "zone");
}

TEST(Defaults, NoAntiAffinityStaysUnset) {
  VMSet v;
  v.metadata.name = "db";
  apply_defaults(v);
  EXPECT_FALSE(v.spec.antiAffinity.has_value());
  EXPECT_FALSE(v.spec.spread.has_value());
}

TEST(Defaults, HealthCheckFollowsHttpMode) {
  Balancer b;
  b.spec.mode = "http";
  apply_defaults(b);
  EXPECT_EQ(b.spec.healthCheck.type, "http");
}

TEST(Defaults, HealthCheckFollowsTcpMode) {
  Balancer b;
  b.spec.mode = "tcp";
  apply_defaults(b);
  EXPECT_EQ(b.spec.healthCheck.type, "tcp");
}

TEST(Defaults, HealthCheckTypeWrittenByUserIsKept) {
  Balancer b;
  b.spec.mode = "http";
  b.spec.healthCheck.type = "tcp";
  apply_defaults(b);
  EXPECT_EQ(b.spec.healthCheck.type, "tcp");
}

TEST(Defaults, OtherKindsAreUnchanged) {
  Node n;
  n.metadata.name = "h";
  Json before = encode_value(n);
  apply_defaults(n);
  EXPECT_EQ(encode_value(n), before);
  Pool p;
  before = encode_value(p);
  apply_defaults(p);
  EXPECT_EQ(encode_value(p), before);
  VM vm;
  before = encode_value(vm);
  apply_defaults(vm);
  EXPECT_EQ(encode_value(vm), before);
  Event e;
  before = encode_value(e);
  apply_defaults(e);
  EXPECT_EQ(encode_value(e), before);
  EXPECT_TRUE(e.firstTimestamp.empty());
}

TEST(Defaults, AreIdempotent) {
  VMSet v;
  v.metadata.name = "frontend";
  v.spec.antiAffinity = AntiAffinity{};
  apply_defaults(v);
  Json once = encode_value(v);
  apply_defaults(v);
  EXPECT_EQ(encode_value(v), once);
}

}  // namespace defaults_test
}  // namespace corral
