#include "api/validate.h"

#include <cctype>
#include <cstdint>
#include <initializer_list>
#include <sstream>

#include "api/field_path.h"
#include "api/selector.h"

namespace corral {

namespace {

constexpr size_t kMaxSubdomain = 253;
constexpr size_t kMaxLabel = 63;

const char* const kSubdomainRule =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
const char* const kLabelRule =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character";
const char* const kNamePartRule =
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character";
const char* const kLabelValueRule =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

std::string too_long(size_t max) {
  return "must be no more than " + std::to_string(max) + " characters";
}

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])? — the name part of a label key and
// every non-empty label value.
bool is_qualified_token(std::string_view s) {
  if (s.empty() || !is_alnum(s.front()) || !is_alnum(s.back())) return false;
  for (char c : s)
    if (!is_alnum(c) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string fmt_number(double d) {
  std::ostringstream os;
  os << d;
  return os.str();
}

std::string join_words(std::initializer_list<const char*> words) {
  std::string out;
  for (const char* w : words) {
    if (!out.empty()) out += ", ";
    out += w;
  }
  return out;
}

// Collects causes for one object. Every check adds at most one cause per field
// so that a single mistake reads as a single line.
class Checker {
 public:
  void add(std::string field, std::string message) {
    causes_.push_back({std::move(field), std::move(message), ""});
  }
  void add_all(const std::vector<Cause>& causes) {
    causes_.insert(causes_.end(), causes.begin(), causes.end());
  }

  void required(const std::string& field, const std::string& value) {
    if (value.empty()) add(field, "required");
  }
  template <class N>
  void at_least(const std::string& field, N value, N min) {
    if (value < min) add(field, "must be greater than or equal to " + fmt_number(min));
  }
  void ratio(const std::string& field, double value) {
    if (!(value >= 0.0 && value <= 1.0)) add(field, "must be between 0 and 1, inclusive");
  }
  // Empty is allowed (the field is optional or defaulted elsewhere) unless required.
  void one_of(const std::string& field, const std::string& value,
              std::initializer_list<const char*> allowed, bool allow_empty = false) {
    if (value.empty() && allow_empty) return;
    for (const char* a : allowed)
      if (value == a) return;
    add(field, "must be one of " + join_words(allowed));
  }
  void non_negative(const std::string& field, const Quantity& q) {
    if (!q.empty() && q.milli < 0) add(field, "must be greater than or equal to 0");
  }
  void resources_non_negative(const std::string& path, const ResourceList& r) {
    non_negative(join_path(path, "cpu"), r.cpu);
    non_negative(join_path(path, "memory"), r.memory);
  }
  // Requests: both must be written and positive.
  void resources_required(const std::string& path, const ResourceList& r) {
    for (auto [key, q] : {std::pair{"cpu", &r.cpu}, std::pair{"memory", &r.memory}}) {
      std::string field = join_path(path, key);
      if (q->empty())
        add(field, "required");
      else if (q->milli <= 0)
        add(field, "must be greater than 0");
    }
  }
  void object_name(const std::string& field, const std::string& name) {
    if (name.empty()) return add(field, "required");
    if (auto e = check_dns1123_subdomain(name)) add(field, *e);
  }
  void label_key(const std::string& field, const std::string& key) {
    if (auto e = check_label_key(key)) add(field, *e);
  }
  // Keys in a map are named in the path the way the decoder names them.
  void labels(const std::string& path, const Labels& labels) {
    for (const auto& [k, v] : labels) {
      std::string field = join_path(path, k);
      if (auto e = check_label_key(k)) add(field, "invalid key: " + *e);
      if (auto e = check_label_value(v)) add(field, "invalid value \"" + v + "\": " + *e);
    }
  }
  void annotations(const std::string& path, const std::map<std::string, std::string>& a) {
    for (const auto& [k, v] : a) {
      (void)v;  // annotation values are free text
      if (auto e = check_label_key(k)) add(join_path(path, k), "invalid key: " + *e);
    }
  }
  void conditions(const std::string& path, const std::vector<Condition>& conds) {
    for (size_t i = 0; i < conds.size(); ++i) {
      std::string p = index_path(path, i);
      required(join_path(p, "type"), conds[i].type);
      one_of(join_path(p, "status"), conds[i].status, {condition_status::kTrue, condition_status::kFalse, condition_status::kUnknown});
    }
  }
  void meta(const ObjectMeta& m) {
    object_name("metadata.name", m.name);
    labels("metadata.labels", m.labels);
    annotations("metadata.annotations", m.annotations);
    at_least<int64_t>("metadata.generation", m.generation, 0);
  }
  void selector(const std::string& path, const LabelSelector& sel) {
    auto s = Selector::from(sel, path);
    if (!s) add_all(s.error().causes);
  }

  std::vector<Cause> take() { return std::move(causes_); }

 private:
  std::vector<Cause> causes_;
};

void check_taint(Checker& c, const std::string& p, const Taint& t) {
  if (t.key.empty())
    c.add(join_path(p, "key"), "required");
  else
    c.label_key(join_path(p, "key"), t.key);
  if (auto e = check_label_value(t.value)) c.add(join_path(p, "value"), *e);
  c.one_of(join_path(p, "effect"), t.effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"});
}

void check_toleration(Checker& c, const std::string& p, const Toleration& t) {
  c.one_of(join_path(p, "operator"), t.op, {"Equal", "Exists"});
  if (!t.key.empty()) c.label_key(join_path(p, "key"), t.key);
  if (t.op == "Exists" && !t.value.empty())
    c.add(join_path(p, "value"), "must be empty when operator is Exists");
  // Only Exists can match every key; an Equal with no key could match nothing.
  if (t.op == "Equal" && t.key.empty())
    c.add(join_path(p, "operator"), "must be Exists when key is empty");
  if (t.op == "Equal")
    if (auto e = check_label_value(t.value)) c.add(join_path(p, "value"), *e);
  c.one_of(join_path(p, "effect"), t.effect, {"NoSchedule", "PreferNoSchedule", "NoExecute"},
           /*allow_empty=*/true);
}

// A QEMU guest boots a kernel (with an optional initramfs and arguments) or a
// disk image; its files are paths on the node, so absolute.
void check_qemu_runtime(Checker& c, const std::string& p, const RuntimeSpec& r) {
  if (r.kernel.empty() && r.image.empty())
    c.add(join_path(p, "kernel"), "required for the qemu driver (or image)");
  const std::pair<const char*, const std::string*> files[] = {
      {"kernel", &r.kernel}, {"initrd", &r.initrd}, {"image", &r.image}};
  for (const auto& [field, value] : files)
    if (!value->empty() && (*value)[0] != '/') c.add(join_path(p, field), "must be an absolute path");
  if (r.kernel.empty()) {
    if (!r.initrd.empty()) c.add(join_path(p, "initrd"), "requires kernel");
    if (!r.cmdline.empty()) c.add(join_path(p, "cmdline"), "requires kernel");
  }
  if (r.cmdline.find_first_of("\n\r") != std::string::npos)
    c.add(join_path(p, "cmdline"), "must be one line");
  if (r.guestPort < 0 || r.guestPort > 65535)
    c.add(join_path(p, "guestPort"), "must be between 1 and 65535 (0: none)");
}

void check_runtime(Checker& c, const std::string& p, const RuntimeSpec& r) {
  c.one_of(join_path(p, "driver"), r.driver, {"process", "libvirt", "qemu", "sim"});
  if (r.driver == "process") {
    if (r.command.empty() || r.command[0].empty())
      c.add(join_path(p, "command"), "required for the process driver");
  }
  if (r.driver == "qemu") check_qemu_runtime(c, p, r);
  c.resources_non_negative(join_path(p, "sim"), ResourceList{r.sim.cpu, r.sim.memory});
  c.add_all(validate_env(join_path(p, "env"), r.env));
}

// The spec shared by a VM and a VMSet's template; a template may not carry the
// binding, which only the scheduler writes.
void check_vm_spec(Checker& c, const std::string& p, const VMSpec& s, bool in_template) {
  c.resources_required(join_path(p, "resources"), s.resources);
  check_runtime(c, join_path(p, "runtime"), s.runtime);
  c.one_of(join_path(p, "restartPolicy"), s.restartPolicy, {"Always", "OnFailure", "Never"});
  for (size_t i = 0; i < s.tolerations.size(); ++i)
    check_toleration(c, index_path(join_path(p, "tolerations"), i), s.tolerations[i]);
  if (in_template) {
    if (!s.nodeName.empty())
      c.add(join_path(p, "nodeName"), "must not be set in a template; the scheduler binds VMs");
    if (s.epoch != 0)
      c.add(join_path(p, "epoch"), "must not be set in a template; the scheduler sets it");
  } else {
    if (!s.nodeName.empty())
      if (auto e = check_dns1123_subdomain(s.nodeName)) c.add(join_path(p, "nodeName"), *e);
    c.at_least<int64_t>(join_path(p, "epoch"), s.epoch, 0);
  }
  c.one_of(join_path(p, "fencing"), s.fencing, {"none", "selfFence"});
}

// "host:port" with a non-empty host (an IPv6 host in brackets) and a port
// 1..65535 (0..65535 with allow_any_port: 0 is "any free port").
std::optional<std::string> check_host_port(const std::string& s, bool allow_any_port = false) {
  const std::string rule = allow_any_port ? "must be \"host:port\" with a port from 0 to 65535"
                                          : "must be \"host:port\" with a port from 1 to 65535";
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0) return rule;
  std::string host = s.substr(0, colon), port = s.substr(colon + 1);
  if (host.find(':') != std::string::npos && !(host.front() == '[' && host.back() == ']'))
    return rule;
  if (port.empty() || port.size() > 5) return rule;
  for (char ch : port)
    if (!std::isdigit(static_cast<unsigned char>(ch))) return rule;
  int n = std::stoi(port);
  if (n < (allow_any_port ? 0 : 1) || n > 65535) return rule;
  return std::nullopt;
}

// An int ≥ 0 or "0%".."100%".
std::optional<std::string> check_int_or_percent(const IntOrString& v) {
  if (!v.is_string) {
    if (v.int_value < 0) return "must be greater than or equal to 0";
    return std::nullopt;
  }
  const std::string rule = "must be an integer or a percentage from \"0%\" to \"100%\"";
  const std::string& s = v.str_value;
  if (s.size() < 2 || s.size() > 4 || s.back() != '%') return rule;
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return rule;
  if (std::stoi(s.substr(0, s.size() - 1)) > 100) return rule;
  return std::nullopt;
}

bool selector_empty(const LabelSelector& s) {
  return s.matchLabels.empty() && s.matchExpressions.empty();
}

}  // namespace

// ---- building blocks ----------------------------------------------------------

std::optional<std::string> check_dns1123_subdomain(std::string_view name) {
  if (name.size() > kMaxSubdomain) return too_long(kMaxSubdomain);
  if (name.empty() || !is_lower_alnum(name.front()) || !is_lower_alnum(name.back()))
    return kSubdomainRule;
  for (char c : name)
    if (!is_lower_alnum(c) && c != '-' && c != '.') return kSubdomainRule;
  return std::nullopt;
}

std::optional<std::string> check_dns1123_label(std::string_view name) {
  if (name.size() > kMaxLabel) return too_long(kMaxLabel);
  if (name.empty() || !is_lower_alnum(name.front()) || !is_lower_alnum(name.back()))
    return kLabelRule;
  for (char c : name)
    if (!is_lower_alnum(c) && c != '-') return kLabelRule;
  return std::nullopt;
}

std::optional<std::string> check_label_key(std::string_view key) {
  std::string_view name = key;
  auto slash = key.find('/');
  if (slash != std::string_view::npos) {
    std::string_view prefix = key.substr(0, slash);
    name = key.substr(slash + 1);
    if (prefix.empty()) return std::string("prefix part must be non-empty");
    if (auto e = check_dns1123_subdomain(prefix)) return "prefix part " + *e;
    if (name.find('/') != std::string_view::npos)
      return std::string(
          "a qualified name must have at most one '/': an optional DNS subdomain prefix and "
          "'/' before the name (e.g. 'example.com/MyName')");
  }
  if (name.empty()) return std::string("name part must be non-empty");
  if (name.size() > kMaxLabel) return "name part " + too_long(kMaxLabel);
  if (!is_qualified_token(name)) return std::string(kNamePartRule);
  return std::nullopt;
}

std::optional<std::string> check_label_value(std::string_view value) {
  if (value.size() > kMaxLabel) return too_long(kMaxLabel);
  if (!value.empty() && !is_qualified_token(value)) return std::string(kLabelValueRule);
  return std::nullopt;
}

// ---- kinds --------------------------------------------------------------------

std::vector<Cause> validate(const Node& node) {
  Checker c;
  c.meta(node.metadata);
  for (size_t i = 0; i < node.spec.taints.size(); ++i)
    check_taint(c, index_path("spec.taints", i), node.spec.taints[i]);
  const NodeStatus& st = node.status;
  c.resources_non_negative("status.capacity", st.capacity);
  c.resources_non_negative("status.allocatable", st.allocatable);
  c.resources_non_negative("status.usage", st.usage);
  c.conditions("status.conditions", st.conditions);
  c.at_least<int32_t>("status.lease.durationSeconds", st.lease.durationSeconds, 0);
  c.ratio("status.availability", st.availability);
  c.one_of("status.driver", st.driver, {"process", "libvirt", "qemu", "sim"}, /*allow_empty=*/true);
  return c.take();
}

std::vector<Cause> validate(const Pool& pool) {
  Checker c;
  c.meta(pool.metadata);
  const PoolSpec& s = pool.spec;
  c.labels("spec.nodeSelector", s.nodeSelector);
  c.at_least("spec.overcommit.cpu", s.overcommit.cpu, 1.0);
  c.at_least("spec.overcommit.memory", s.overcommit.memory, 1.0);
  c.one_of("spec.placement", s.placement, {"spread", "binpack", "leastLoaded"});
  const RebalancePolicy& r = s.rebalance;
  c.ratio("spec.rebalance.maxImbalance", r.maxImbalance);
  c.ratio("spec.rebalance.highWatermark", r.highWatermark);
  c.ratio("spec.rebalance.minGain", r.minGain);
  c.at_least<int32_t>("spec.rebalance.holdSeconds", r.holdSeconds, 0);
  c.at_least<int32_t>("spec.rebalance.intervalSeconds", r.intervalSeconds, 1);
  c.at_least<int32_t>("spec.rebalance.maxMovesPerRound", r.maxMovesPerRound, 0);
  c.at_least<int32_t>("spec.rebalance.cooldownSeconds", r.cooldownSeconds, 0);
  const FailoverPolicy& f = s.failover;
  c.at_least<int32_t>("spec.failover.nodeGraceSeconds", f.nodeGraceSeconds, 1);
  c.at_least<int32_t>("spec.failover.tolerateNodeFailures", f.tolerateNodeFailures, 0);
  c.at_least<int32_t>("spec.failover.availabilityWindowSeconds", f.availabilityWindowSeconds, 1);
  c.at_least<int32_t>("spec.failover.restartWindowSeconds", f.restartWindowSeconds, 0);
  const PoolStatus& st = pool.status;
  c.resources_non_negative("status.capacity", st.capacity);
  c.resources_non_negative("status.schedulable", st.schedulable);
  c.resources_non_negative("status.allocated", st.allocated);
  c.resources_non_negative("status.used", st.used);
  c.conditions("status.conditions", st.conditions);
  return c.take();
}

std::vector<Cause> validate(const VMSet& vmset) {
  Checker c;
  c.meta(vmset.metadata);
  // The name becomes the corral.io/vmset label of every VM, so it must also be
  // a valid label value.
  if (vmset.metadata.name.size() > kMaxLabel)
    c.add("metadata.name", too_long(kMaxLabel) + " (it is the corral.io/vmset label of its VMs)");
  const VMSetSpec& s = vmset.spec;
  c.object_name("spec.pool", s.pool);
  c.at_least<int32_t>("spec.replicas", s.replicas, 0);
  c.labels("spec.template.metadata.labels", s.templ.metadata.labels);
  c.annotations("spec.template.metadata.annotations", s.templ.metadata.annotations);
  check_vm_spec(c, "spec.template.spec", s.templ.spec, /*in_template=*/true);
  if (s.spread) {
    if (s.spread->topologyKey.empty())
      c.add("spec.spread.topologyKey", "required");
    else
      c.label_key("spec.spread.topologyKey", s.spread->topologyKey);
    c.at_least<int32_t>("spec.spread.maxSkew", s.spread->maxSkew, 1);
  }
  if (s.antiAffinity) {
    if (!s.antiAffinity->topologyKey.empty())
      c.label_key("spec.antiAffinity.topologyKey", s.antiAffinity->topologyKey);
    c.one_of("spec.antiAffinity.mode", s.antiAffinity->mode, {"required", "preferred"});
  }
  if (auto e = check_int_or_percent(s.disruption.maxUnavailable))
    c.add("spec.disruption.maxUnavailable", *e);
  c.one_of("spec.fencing", s.fencing, {"none", "selfFence"});
  const VMSetStatus& st = vmset.status;
  c.at_least<int32_t>("status.replicas", st.replicas, 0);
  c.at_least<int32_t>("status.scheduled", st.scheduled, 0);
  c.at_least<int32_t>("status.running", st.running, 0);
  c.at_least<int32_t>("status.ready", st.ready, 0);
  c.ratio("status.availability", st.availability);
  c.conditions("status.conditions", st.conditions);
  return c.take();
}

std::vector<Cause> validate(const VM& vm) {
  Checker c;
  c.meta(vm.metadata);
  check_vm_spec(c, "spec", vm.spec, /*in_template=*/false);
  const VMStatus& st = vm.status;
  c.one_of("status.phase", st.phase,
           {vm_phase::kPending, vm_phase::kScheduled, vm_phase::kStarting, vm_phase::kRunning,
            vm_phase::kFailed, vm_phase::kLost, vm_phase::kTerminating},
           /*allow_empty=*/true);
  c.at_least<int64_t>("status.epoch", st.epoch, 0);
  c.at_least<int32_t>("status.restarts", st.restarts, 0);
  c.at_least<int64_t>("status.pid", st.pid, 0);
  c.resources_non_negative("status.usage", st.usage);
  c.conditions("status.conditions", st.conditions);
  return c.take();
}

std::vector<Cause> validate(const Balancer& balancer) {
  Checker c;
  c.meta(balancer.metadata);
  const BalancerSpec& s = balancer.spec;
  bool has_selector = !selector_empty(s.selector);
  if (has_selector && !s.vmSet.empty())
    c.add("spec.vmSet", "must not be set together with spec.selector; use one of them");
  else if (!has_selector && s.vmSet.empty())
    c.add("spec.selector", "one of spec.selector or spec.vmSet is required");
  if (has_selector) c.selector("spec.selector", s.selector);
  if (!s.vmSet.empty())
    if (auto e = check_dns1123_subdomain(s.vmSet)) c.add("spec.vmSet", *e);
  if (s.listen.empty())
    c.add("spec.listen", "required");
  else if (auto e = check_host_port(s.listen, /*allow_any_port=*/true))
    c.add("spec.listen", *e);
  c.one_of("spec.mode", s.mode, {"tcp", "http"});
  c.one_of("spec.algorithm", s.algorithm,
           {"roundRobin", "leastConnections", "sourceHash", "weighted"});
  if (!s.rules.empty() && s.mode != "http") c.add("spec.rules", "only allowed in http mode");
  for (size_t i = 0; i < s.rules.size(); ++i) {
    std::string p = index_path("spec.rules", i);
    const BalancerRule& r = s.rules[i];
    if (!r.pathPrefix.empty() && r.pathPrefix.front() != '/')
      c.add(join_path(p, "pathPrefix"), "must start with '/'");
    c.selector(join_path(p, "selector"), r.selector);
  }
  const HealthCheck& h = s.healthCheck;
  // Empty means "follow the mode"; apply_defaults fills it in.
  c.one_of("spec.healthCheck.type", h.type, {"tcp", "http"}, /*allow_empty=*/true);
  if (h.type == "http" && (h.path.empty() || h.path.front() != '/'))
    c.add("spec.healthCheck.path", "must start with '/'");
  c.at_least<int32_t>("spec.healthCheck.intervalSeconds", h.intervalSeconds, 1);
  c.at_least<int32_t>("spec.healthCheck.timeoutSeconds", h.timeoutSeconds, 1);
  c.at_least<int32_t>("spec.healthCheck.rise", h.rise, 1);
  c.at_least<int32_t>("spec.healthCheck.fall", h.fall, 1);
  c.one_of("spec.sessionAffinity", s.sessionAffinity, {"none", "sourceIP"});
  c.at_least<int32_t>("spec.timeouts.connectSeconds", s.timeouts.connectSeconds, 1);
  c.at_least<int32_t>("spec.timeouts.clientSeconds", s.timeouts.clientSeconds, 1);
  c.at_least<int32_t>("spec.timeouts.serverSeconds", s.timeouts.serverSeconds, 1);
  c.at_least<int32_t>("spec.timeouts.drainSeconds", s.timeouts.drainSeconds, 0);
  c.at_least<int32_t>("spec.timeouts.requestHeadSeconds", s.timeouts.requestHeadSeconds, 1);
  c.at_least<int32_t>("spec.maxConnections", s.maxConnections, 1);
  c.at_least<int32_t>("spec.maxConnectionsPerClient", s.maxConnectionsPerClient, 0);
  const BalancerStatus& st = balancer.status;
  for (size_t i = 0; i < st.endpoints.size(); ++i) {
    std::string p = index_path("status.endpoints", i);
    c.at_least(join_path(p, "weight"), st.endpoints[i].weight, 0.0);
    c.at_least<int64_t>(join_path(p, "epoch"), st.endpoints[i].epoch, 0);
    c.at_least<int64_t>(join_path(p, "activeConnections"), st.endpoints[i].activeConnections, 0);
    c.one_of(join_path(p, "health"), st.endpoints[i].health, {endpoint_health::kHealthy, endpoint_health::kUnhealthy,
                                                          endpoint_health::kUnknown});
  }
  c.conditions("status.conditions", st.conditions);
  return c.take();
}

std::vector<Cause> validate(const Event& event) {
  Checker c;
  c.meta(event.metadata);
  c.required("involvedObject.kind", event.involvedObject.kind);
  c.required("involvedObject.name", event.involvedObject.name);
  c.required("reason", event.reason);
  c.one_of("type", event.type, {event_type::kNormal, event_type::kWarning});
  c.at_least<int32_t>("count", event.count, 0);
  return c.take();
}

std::vector<Cause> validate(const Secret& secret) {
  Checker c;
  c.meta(secret.metadata);
  c.add_all(validate_secret_data(secret));
  return c.take();
}

}  // namespace corral
