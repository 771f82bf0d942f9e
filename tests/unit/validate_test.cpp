#include "api/validate.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace corral {
namespace validate_test {

const char* const kSubdomainRule =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";

Quantity q(const std::string& text) { return *parse_quantity(text); }

// The smallest valid object of each kind; each test breaks one thing.
Pool valid_pool() {
  Pool p;
  p.metadata.name = "web";
  return p;
}

VMSpec valid_vm_spec() {
  VMSpec s;
  s.resources = {q("2"), q("4Gi")};
  s.runtime.driver = "process";
  s.runtime.command = {"/bin/sleep", "1000"};
  return s;
}

VMSet valid_vmset() {
  VMSet v;
  v.metadata.name = "frontend";
  v.spec.pool = "web";
  v.spec.templ.spec = valid_vm_spec();
  return v;
}

VM valid_vm() {
  VM v;
  v.metadata.name = "frontend-abc12";
  v.spec = valid_vm_spec();
  return v;
}

Balancer valid_balancer() {
  Balancer b;
  b.metadata.name = "front";
  b.spec.vmSet = "frontend";
  b.spec.listen = "0.0.0.0:8080";
  b.spec.healthCheck.type = "http";
  return b;
}

Event valid_event() {
  Event e;
  e.metadata.name = "vm-web-1.17a";
  e.involvedObject = {"VM", "web-1", ""};
  e.reason = "Scheduled";
  return e;
}

std::vector<Cause> only(const std::string& field, const std::string& message) {
  return {{field, message, ""}};
}

// The message of the one cause at `field`, or a note that there is none.
std::string message_at(const std::vector<Cause>& causes, const std::string& field) {
  for (const auto& c : causes)
    if (c.field == field) return c.message;
  std::string all;
  for (const auto& c : causes) all += " [" + c.field + ": " + c.message + "]";
  return "<no cause at " + field + ";" + all + ">";
}

// ---- building blocks ---------------------------------------------------------

TEST(Validate, Dns1123SubdomainAcceptsNames) {
  for (const char* ok : {"a", "web", "web-1", "a.b.c", "0abc", "x9"})
    EXPECT_EQ(check_dns1123_subdomain(ok), std::nullopt) << ok;
}

TEST(Validate, Dns1123SubdomainRejectsBadNames) {
  for (const char* bad : {"", "Web", "-web", "web-", "web_1", "a b", ".a", "a."})
    EXPECT_EQ(check_dns1123_subdomain(bad), kSubdomainRule) << bad;
  EXPECT_EQ(check_dns1123_subdomain(std::string(253, 'a')), std::nullopt);
  EXPECT_EQ(check_dns1123_subdomain(std::string(254, 'a')), "must be no more than 253 characters");
}

TEST(Validate, Dns1123LabelRejectsDotsAndLongNames) {
  EXPECT_EQ(check_dns1123_label("web-1"), std::nullopt);
  EXPECT_EQ(check_dns1123_label("a.b"),
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
            "'-', and must start and end with an alphanumeric character");
  EXPECT_EQ(check_dns1123_label(std::string(63, 'a')), std::nullopt);
  EXPECT_EQ(check_dns1123_label(std::string(64, 'a')), "must be no more than 63 characters");
}

TEST(Validate, LabelKeyAcceptsPrefixedAndPlainKeys) {
  for (const char* ok : {"app", "App_1", "a.b-c", "corral.io/vmset", "example.com/My.Name", "9"})
    EXPECT_EQ(check_label_key(ok), std::nullopt) << ok;
}

TEST(Validate, LabelKeyRejectsBadKeys) {
  const std::string name_rule =
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
      "end with an alphanumeric character";
  EXPECT_EQ(check_label_key(""), "name part must be non-empty");
  EXPECT_EQ(check_label_key("-app"), name_rule);
  EXPECT_EQ(check_label_key("app_"), name_rule);
  EXPECT_EQ(check_label_key("a b"), name_rule);
  EXPECT_EQ(check_label_key("corral.io/"), "name part must be non-empty");
  EXPECT_EQ(check_label_key("/app"), "prefix part must be non-empty");
  EXPECT_EQ(check_label_key("Corral.io/app"), std::string("prefix part ") + kSubdomainRule);
  EXPECT_EQ(check_label_key(std::string(64, 'a')), "name part must be no more than 63 characters");
  EXPECT_EQ(
      check_label_key("a/b/c").value_or("").rfind("a qualified name must have at most one '/'", 0),
      0u);
}

TEST(Validate, LabelValueMayBeEmpty) {
  EXPECT_EQ(check_label_value(""), std::nullopt);
  EXPECT_EQ(check_label_value("v1.2_x-Y"), std::nullopt);
  EXPECT_EQ(check_label_value("-x"),
            "a valid label must be an empty string or consist of alphanumeric characters, '-', "
            "'_' or '.', and must start and end with an alphanumeric character");
  EXPECT_EQ(check_label_value(std::string(64, 'a')), "must be no more than 63 characters");
}

// ---- metadata ----------------------------------------------------------------

TEST(Validate, AcceptsMinimalObjects) {
  EXPECT_EQ(validate(valid_pool()), std::vector<Cause>{});
  EXPECT_EQ(validate(valid_vmset()), std::vector<Cause>{});
  EXPECT_EQ(validate(valid_vm()), std::vector<Cause>{});
  EXPECT_EQ(validate(valid_balancer()), std::vector<Cause>{});
  EXPECT_EQ(validate(valid_event()), std::vector<Cause>{});
  Node n;
  n.metadata.name = "host-1";
  EXPECT_EQ(validate(n), std::vector<Cause>{});
}

TEST(Validate, RequiresName) {
  Pool p = valid_pool();
  p.metadata.name = "";
  EXPECT_EQ(validate(p), only("metadata.name", "required"));
}

TEST(Validate, RejectsUppercaseName) {
  Node n;
  n.metadata.name = "Host_1";
  EXPECT_EQ(validate(n), only("metadata.name", kSubdomainRule));
}

TEST(Validate, RejectsBadLabelsAndAnnotationKeys) {
  Pool p = valid_pool();
  p.metadata.labels = {{"-bad", "ok"}, {"good", "bad value"}};
  p.metadata.annotations = {{"note", "any text at all, even spaces!"}, {"bad key", "x"}};
  auto causes = validate(p);
  ASSERT_EQ(causes.size(), 3u);
  EXPECT_EQ(causes[0].field, "metadata.labels.-bad");
  EXPECT_EQ(causes[0].message.rfind("invalid key: name part must consist", 0), 0u);
  EXPECT_EQ(causes[1].field, "metadata.labels.good");
  EXPECT_EQ(causes[1].message.rfind("invalid value \"bad value\": a valid label", 0), 0u);
  EXPECT_EQ(causes[2].field, "metadata.annotations.bad key");
}

// ---- Pool --------------------------------------------------------------------

TEST(Validate, RejectsUnknownPlacement) {
  Pool p = valid_pool();
  p.spec.placement = "random";
  EXPECT_EQ(validate(p), only("spec.placement", "must be one of spread, binpack, leastLoaded"));
}

TEST(Validate, RejectsOvercommitBelowOne) {
  Pool p = valid_pool();
  p.spec.overcommit.cpu = 0.5;
  EXPECT_EQ(validate(p), only("spec.overcommit.cpu", "must be greater than or equal to 1"));
}

TEST(Validate, RejectsRatiosOutsideZeroToOne) {
  Pool p = valid_pool();
  p.spec.rebalance.maxImbalance = 1.5;
  p.spec.rebalance.highWatermark = -0.1;
  p.spec.rebalance.minGain = 0;  // the bounds are inclusive
  std::vector<Cause> want = {
      {"spec.rebalance.maxImbalance", "must be between 0 and 1, inclusive", ""},
      {"spec.rebalance.highWatermark", "must be between 0 and 1, inclusive", ""},
  };
  EXPECT_EQ(validate(p), want);
}

TEST(Validate, RejectsZeroIntervalsAndNegativeCounts) {
  Pool p = valid_pool();
  p.spec.rebalance.intervalSeconds = 0;
  p.spec.rebalance.maxMovesPerRound = -1;
  p.spec.rebalance.cooldownSeconds = -1;
  p.spec.failover.nodeGraceSeconds = 0;
  p.spec.failover.tolerateNodeFailures = -2;
  std::vector<Cause> want = {
      {"spec.rebalance.intervalSeconds", "must be greater than or equal to 1", ""},
      {"spec.rebalance.maxMovesPerRound", "must be greater than or equal to 0", ""},
      {"spec.rebalance.cooldownSeconds", "must be greater than or equal to 0", ""},
      {"spec.failover.nodeGraceSeconds", "must be greater than or equal to 1", ""},
      {"spec.failover.tolerateNodeFailures", "must be greater than or equal to 0", ""},
  };
  EXPECT_EQ(validate(p), want);
}

TEST(Validate, ChecksNodeSelectorLabels) {
  Pool p = valid_pool();
  p.spec.nodeSelector = {{"role", "web server"}};
  auto causes = validate(p);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.nodeSelector.role");
}

// ---- VMSet -------------------------------------------------------------------

TEST(Validate, RejectsNegativeReplicas) {
  VMSet v = valid_vmset();
  v.spec.replicas = -1;
  EXPECT_EQ(validate(v), only("spec.replicas", "must be greater than or equal to 0"));
}

TEST(Validate, AcceptsZeroReplicas) {
  VMSet v = valid_vmset();
  v.spec.replicas = 0;
  EXPECT_EQ(validate(v), std::vector<Cause>{});
}

TEST(Validate, RequiresPoolReference) {
  VMSet v = valid_vmset();
  v.spec.pool = "";
  EXPECT_EQ(validate(v), only("spec.pool", "required"));
  v.spec.pool = "Web";
  EXPECT_EQ(validate(v), only("spec.pool", kSubdomainRule));
}

TEST(Validate, RequiresTemplateResources) {
  VMSet v = valid_vmset();
  v.spec.templ.spec.resources = {};
  std::vector<Cause> want = {
      {"spec.template.spec.resources.cpu", "required", ""},
      {"spec.template.spec.resources.memory", "required", ""},
  };
  EXPECT_EQ(validate(v), want);
}

TEST(Validate, RejectsZeroAndNegativeResources) {
  VMSet v = valid_vmset();
  v.spec.templ.spec.resources = {q("0"), q("-1Gi")};
  std::vector<Cause> want = {
      {"spec.template.spec.resources.cpu", "must be greater than 0", ""},
      {"spec.template.spec.resources.memory", "must be greater than 0", ""},
  };
  EXPECT_EQ(validate(v), want);
}

TEST(Validate, RejectsBindingInTemplate) {
  VMSet v = valid_vmset();
  v.spec.templ.spec.nodeName = "host-1";
  v.spec.templ.spec.epoch = 3;
  std::vector<Cause> want = {
      {"spec.template.spec.nodeName", "must not be set in a template; the scheduler binds VMs", ""},
      {"spec.template.spec.epoch", "must not be set in a template; the scheduler sets it", ""},
  };
  EXPECT_EQ(validate(v), want);
}

TEST(Validate, ChecksTemplateLabels) {
  VMSet v = valid_vmset();
  v.spec.templ.metadata.labels = {{"app", "front end"}};
  auto causes = validate(v);
  ASSERT_EQ(causes.size(), 1u);
  EXPECT_EQ(causes[0].field, "spec.template.metadata.labels.app");
}

TEST(Validate, ProcessDriverNeedsCommand) {
  VMSet v = valid_vmset();
  v.spec.templ.spec.runtime.command = {};
  EXPECT_EQ(validate(v),
            only("spec.template.spec.runtime.command", "required for the process driver"));
  v.spec.templ.spec.runtime.driver = "sim";
  EXPECT_EQ(validate(v), std::vector<Cause>{});
}

TEST(Validate, QemuDriverNeedsAKernelOrAnImageAtAbsolutePaths) {
  VMSet v = valid_vmset();
  RuntimeSpec& rt = v.spec.templ.spec.runtime;
  rt.driver = "qemu";
  rt.command = {};
  EXPECT_EQ(validate(v), only("spec.template.spec.runtime.kernel",
                              "required for the qemu driver (or image)"));
  rt.kernel = "/srv/guest/vmlinuz";
  rt.initrd = "/srv/guest/initramfs";
  rt.cmdline = "quiet";
  rt.guestPort = 80;
  EXPECT_EQ(validate(v), std::vector<Cause>{});
  rt.kernel = "";
  rt.image = "/srv/guest/disk.qcow2";
  rt.initrd = "guest/initramfs";
  rt.guestPort = 70000;
  auto causes = validate(v);
  EXPECT_EQ(message_at(causes, "spec.template.spec.runtime.initrd"), "must be an absolute path");
  EXPECT_EQ(message_at(causes, "spec.template.spec.runtime.cmdline"), "requires kernel");
  EXPECT_EQ(message_at(causes, "spec.template.spec.runtime.guestPort"),
            "must be between 1 and 65535 (0: none)");
  EXPECT_EQ(causes.size(), 4u);  // initrd twice: relative, and without a kernel
  rt.image = "disk.img";
  rt.initrd = "";
  rt.cmdline = "a\nb";
  rt.guestPort = -1;
  causes = validate(v);
  EXPECT_EQ(message_at(causes, "spec.template.spec.runtime.image"), "must be an absolute path");
  EXPECT_EQ(message_at(causes, "spec.template.spec.runtime.guestPort"),
            "must be between 1 and 65535 (0: none)");
}

TEST(Validate, RejectsUnknownDriverAndRestartPolicy) {
  VM vm = valid_vm();
  vm.spec.runtime.driver = "docker";
  vm.spec.restartPolicy = "Sometimes";
  vm.spec.fencing = "stonith";
  std::vector<Cause> want = {
      {"spec.runtime.driver", "must be one of process, libvirt, qemu, sim", ""},
      {"spec.restartPolicy", "must be one of Always, OnFailure, Never", ""},
      {"spec.fencing", "must be one of none, selfFence", ""},
  };
  EXPECT_EQ(validate(vm), want);
}

TEST(Validate, SpreadNeedsTopologyKey) {
  VMSet v = valid_vmset();
  v.spec.spread = SpreadPolicy{"", 0};
  std::vector<Cause> want = {
      {"spec.spread.topologyKey", "required", ""},
      {"spec.spread.maxSkew", "must be greater than or equal to 1", ""},
  };
  EXPECT_EQ(validate(v), want);
  v.spec.spread = SpreadPolicy{"zone", 1};
  EXPECT_EQ(validate(v), std::vector<Cause>{});
}

TEST(Validate, ChecksAntiAffinity) {
  VMSet v = valid_vmset();
  v.spec.antiAffinity = AntiAffinity{"bad key", "always"};
  auto causes = validate(v);
  ASSERT_EQ(causes.size(), 2u);
  EXPECT_EQ(causes[0].field, "spec.antiAffinity.topologyKey");
  EXPECT_EQ(causes[1], (Cause{"spec.antiAffinity.mode", "must be one of required, preferred", ""}));
}

TEST(Validate, DisruptionBudgetIsCountOrPercent) {
  VMSet v = valid_vmset();
  for (const char* ok : {"0%", "25%", "100%"}) {
    v.spec.disruption.maxUnavailable = IntOrString{true, 0, ok};
    EXPECT_EQ(validate(v), std::vector<Cause>{}) << ok;
  }
  for (const char* bad : {"101%", "25", "x%", "%", "-5%"}) {
    v.spec.disruption.maxUnavailable = IntOrString{true, 0, bad};
    EXPECT_EQ(validate(v), only("spec.disruption.maxUnavailable",
                                "must be an integer or a percentage from \"0%\" to \"100%\""))
        << bad;
  }
  v.spec.disruption.maxUnavailable = IntOrString{false, -1, ""};
  EXPECT_EQ(validate(v),
            only("spec.disruption.maxUnavailable", "must be greater than or equal to 0"));
}

TEST(Validate, RejectsUnknownFencing) {
  VMSet v = valid_vmset();
  v.spec.fencing = "stonith";
  EXPECT_EQ(validate(v), only("spec.fencing", "must be one of none, selfFence"));
}

TEST(Validate, VMSetNameMustFitInALabel) {
  VMSet v = valid_vmset();
  v.metadata.name = std::string(64, 'a');
  EXPECT_EQ(validate(v), only("metadata.name",
                              "must be no more than 63 characters (it is the "
                              "corral.io/vmset label of its VMs)"));
}

// ---- VM ----------------------------------------------------------------------

TEST(Validate, VMRequiresResources) {
  VM vm = valid_vm();
  vm.spec.resources.memory = {};
  EXPECT_EQ(validate(vm), only("spec.resources.memory", "required"));
}

TEST(Validate, ChecksTolerations) {
  VM vm = valid_vm();
  vm.spec.tolerations = {
      {"dedicated", "Exists", "gpu", ""},
      {"", "Equal", "", ""},
      {"", "Exists", "", "Sometimes"},
      {"x", "Like", "", ""},
  };
  std::vector<Cause> want = {
      {"spec.tolerations[0].value", "must be empty when operator is Exists", ""},
      {"spec.tolerations[1].operator", "must be Exists when key is empty", ""},
      {"spec.tolerations[2].effect", "must be one of NoSchedule, PreferNoSchedule, NoExecute", ""},
      {"spec.tolerations[3].operator", "must be one of Equal, Exists", ""},
  };
  EXPECT_EQ(validate(vm), want);
}

TEST(Validate, RejectsNegativeRestartsAndUsage) {
  VM vm = valid_vm();
  vm.status.restarts = -1;
  vm.status.usage.cpu = q("-1");
  vm.status.phase = "Sleeping";
  std::vector<Cause> want = {
      {"status.phase",
       "must be one of Pending, Scheduled, Starting, Running, Failed, Lost, Terminating", ""},
      {"status.restarts", "must be greater than or equal to 0", ""},
      {"status.usage.cpu", "must be greater than or equal to 0", ""},
  };
  EXPECT_EQ(validate(vm), want);
}

TEST(Validate, ChecksConditionStatus) {
  VM vm = valid_vm();
  vm.status.conditions = {{"Ready", "Maybe", "", "", "", 0}};
  EXPECT_EQ(validate(vm),
            only("status.conditions[0].status", "must be one of True, False, Unknown"));
}

// ---- Node --------------------------------------------------------------------

TEST(Validate, ChecksTaints) {
  Node n;
  n.metadata.name = "host-1";
  n.spec.taints = {{"", "", "NoSchedule"}, {"gpu", "yes", "Never"}};
  std::vector<Cause> want = {
      {"spec.taints[0].key", "required", ""},
      {"spec.taints[1].effect", "must be one of NoSchedule, PreferNoSchedule, NoExecute", ""},
  };
  EXPECT_EQ(validate(n), want);
}

TEST(Validate, NodeAvailabilityIsARatio) {
  Node n;
  n.metadata.name = "host-1";
  n.status.availability = 1.01;
  n.status.capacity.memory = q("-1");
  std::vector<Cause> want = {
      {"status.capacity.memory", "must be greater than or equal to 0", ""},
      {"status.availability", "must be between 0 and 1, inclusive", ""},
  };
  EXPECT_EQ(validate(n), want);
}

// ---- Balancer ----------------------------------------------------------------

TEST(Validate, BalancerNeedsSelectorOrVMSet) {
  Balancer b = valid_balancer();
  b.spec.vmSet = "";
  EXPECT_EQ(validate(b), only("spec.selector", "one of spec.selector or spec.vmSet is required"));
  b.spec.vmSet = "frontend";
  b.spec.selector.matchLabels = {{"app", "web"}};
  EXPECT_EQ(validate(b),
            only("spec.vmSet", "must not be set together with spec.selector; use one of them"));
  b.spec.vmSet = "";
  EXPECT_EQ(validate(b), std::vector<Cause>{});
}

TEST(Validate, BalancerSelectorIsValidated) {
  Balancer b = valid_balancer();
  b.spec.vmSet = "";
  b.spec.selector.matchExpressions = {{"app", "Equals", {"web"}}};
  EXPECT_EQ(validate(b), only("spec.selector.matchExpressions[0].operator",
                              "must be one of In, NotIn, Exists, DoesNotExist"));
}

TEST(Validate, BalancerListenIsHostPort) {
  Balancer b = valid_balancer();
  const std::string rule = "must be \"host:port\" with a port from 0 to 65535";
  for (const char* bad : {"8080", ":8080", "host:", "host:-1", "host:65536", "host:80a", "a:b:80"}) {
    b.spec.listen = bad;
    EXPECT_EQ(validate(b), only("spec.listen", rule)) << bad;
  }
  // Port 0: any free port (tests, and copies that report where they listen).
  for (const char* ok : {"127.0.0.1:0", "127.0.0.1:1", "localhost:65535", "[::1]:8080"}) {
    b.spec.listen = ok;
    EXPECT_EQ(validate(b), std::vector<Cause>{}) << ok;
  }
  b.spec.listen = "";
  EXPECT_EQ(validate(b), only("spec.listen", "required"));
}

TEST(Validate, BalancerEnumerations) {
  Balancer b = valid_balancer();
  b.spec.mode = "udp";
  b.spec.algorithm = "random";
  b.spec.sessionAffinity = "cookie";
  b.spec.healthCheck.type = "icmp";
  std::vector<Cause> want = {
      {"spec.mode", "must be one of tcp, http", ""},
      {"spec.algorithm", "must be one of roundRobin, leastConnections, sourceHash, weighted", ""},
      {"spec.healthCheck.type", "must be one of tcp, http", ""},
      {"spec.sessionAffinity", "must be one of none, sourceIP", ""},
  };
  EXPECT_EQ(validate(b), want);
}

TEST(Validate, BalancerRulesOnlyInHttpMode) {
  Balancer b = valid_balancer();
  b.spec.mode = "tcp";
  b.spec.healthCheck.type = "tcp";
  b.spec.rules = {BalancerRule{"", "/api", {}}};
  EXPECT_EQ(validate(b), only("spec.rules", "only allowed in http mode"));
}

TEST(Validate, BalancerRulePathAndSelector) {
  Balancer b = valid_balancer();
  BalancerRule r;
  r.pathPrefix = "api";
  r.selector.matchExpressions = {{"tier", "In", {}}};
  b.spec.rules = {BalancerRule{"", "/ok", {}}, r};
  std::vector<Cause> want = {
      {"spec.rules[1].pathPrefix", "must start with '/'", ""},
      {"spec.rules[1].selector.matchExpressions[0].values",
       "must be specified when operator is In or NotIn", ""},
  };
  EXPECT_EQ(validate(b), want);
}

TEST(Validate, BalancerHealthCheckAndLimits) {
  Balancer b = valid_balancer();
  b.spec.healthCheck.intervalSeconds = 0;
  b.spec.healthCheck.timeoutSeconds = 0;
  b.spec.healthCheck.rise = 0;
  b.spec.healthCheck.fall = 0;
  b.spec.maxConnections = 0;
  auto causes = validate(b);
  EXPECT_EQ(causes.size(), 5u);
  EXPECT_EQ(message_at(causes, "spec.healthCheck.intervalSeconds"),
            "must be greater than or equal to 1");
  EXPECT_EQ(message_at(causes, "spec.healthCheck.timeoutSeconds"),
            "must be greater than or equal to 1");
  EXPECT_EQ(message_at(causes, "spec.healthCheck.rise"), "must be greater than or equal to 1");
  EXPECT_EQ(message_at(causes, "spec.healthCheck.fall"), "must be greater than or equal to 1");
  EXPECT_EQ(message_at(causes, "spec.maxConnections"), "must be greater than or equal to 1");
}

TEST(Validate, RejectsNegativeEndpointWeight) {
  Balancer b = valid_balancer();
  Endpoint e;
  e.weight = -0.5;
  b.status.endpoints = {e};
  EXPECT_EQ(validate(b), only("status.endpoints[0].weight", "must be greater than or equal to 0"));
}

// ---- Event -------------------------------------------------------------------

TEST(Validate, EventNeedsInvolvedObjectAndReason) {
  Event e = valid_event();
  e.involvedObject = {};
  e.reason = "";
  e.type = "Info";
  std::vector<Cause> want = {
      {"involvedObject.kind", "required", ""},
      {"involvedObject.name", "required", ""},
      {"reason", "required", ""},
      {"type", "must be one of Normal, Warning", ""},
  };
  EXPECT_EQ(validate(e), want);
}

TEST(Validate, ReportsEveryProblemAtOnce) {
  VMSet v = valid_vmset();
  v.metadata.name = "";
  v.spec.pool = "";
  v.spec.replicas = -3;
  v.spec.templ.spec.resources = {};
  auto causes = validate(v);
  EXPECT_EQ(causes.size(), 5u);
  EXPECT_EQ(message_at(causes, "metadata.name"), "required");
  EXPECT_EQ(message_at(causes, "spec.pool"), "required");
  EXPECT_EQ(message_at(causes, "spec.replicas"), "must be greater than or equal to 0");
}

}  // namespace validate_test
}  // namespace corral
