#include "api/defaults.h"

#include "api/node_labels.h"

namespace corral {

// The label every VM of a VMSet carries, so that the VMSet (and a Balancer with
// spec.vmSet) can find its VMs by selector.
inline constexpr const char* kVMSetLabel = "corral.io/vmset";
// The node label the agent sets to its own name; anti-affinity over it keeps
// replicas on distinct hosts.
inline constexpr const char* kHostnameLabel = node_label::kHostname;

namespace {
void respell(std::string& value, const char* field, const char* old_value, const char* current,
             std::vector<Cause>& out) {
  if (value != old_value) return;
  out.push_back({field, "\"" + value + "\" is deprecated, use \"" + current + "\"", ""});
  value = current;
}
}  // namespace

std::vector<Cause> respell_old_values(Pool& pool) {
  std::vector<Cause> out;
  respell(pool.spec.placement, "spec.placement", "least-loaded", "leastLoaded", out);
  return out;
}

std::vector<Cause> respell_old_values(VMSet& vmset) {
  // A user from Kubernetes writes its well-known labels; Corral's agents set
  // their own (api/node_labels.h).
  std::vector<Cause> out;
  auto topology = [&](std::string& key, const char* field) {
    for (auto [kubernetes, corral] :
         {std::pair{node_label::kKubernetesHostname, node_label::kHostname},
          std::pair{node_label::kKubernetesZone, node_label::kZone}}) {
      if (key != kubernetes) continue;
      out.push_back({field, "\"" + key + "\" is Kubernetes' label; Corral's agents set \"" +
                                std::string(corral) + "\" (used instead)",
                     ""});
      key = corral;
    }
  };
  if (vmset.spec.spread) topology(vmset.spec.spread->topologyKey, "spec.spread.topologyKey");
  if (vmset.spec.antiAffinity)
    topology(vmset.spec.antiAffinity->topologyKey, "spec.antiAffinity.topologyKey");
  return out;
}

std::vector<Cause> respell_old_values(Balancer& balancer) {
  std::vector<Cause> out;
  respell(balancer.spec.sessionAffinity, "spec.sessionAffinity", "None", "none", out);
  return out;
}

void apply_defaults(Node&) {
  // Nothing in a Node depends on another field; see the initialisers in types.h.
}

void apply_defaults(Pool&) {
  // Nothing in a Pool depends on another field; see the initialisers in types.h.
}

void apply_defaults(VMSet& vmset) {
  // An empty name is refused by validation; a label with an empty value would
  // only make that error harder to read.
  if (!vmset.metadata.name.empty())
    vmset.spec.templ.metadata.labels.try_emplace(kVMSetLabel, vmset.metadata.name);
  if (vmset.spec.antiAffinity && vmset.spec.antiAffinity->topologyKey.empty())
    vmset.spec.antiAffinity->topologyKey = kHostnameLabel;
  // spec.fencing and spec.restartPriority are copied into each VM by the VMSet
  // reconciler when it stamps the VM, not into the template here: the
  // template's own fencing has a static default ("none") and copying would
  // overwrite what the user wrote there.
}

void apply_defaults(VM&) {
  // Nothing in a VM depends on another field: the VMSet reconciler fills in
  // what a VM inherits from its set when it creates it.
}

void apply_defaults(Balancer& balancer) {
  // Health checks speak the protocol the balancer proxies unless told otherwise.
  if (balancer.spec.healthCheck.type.empty())
    balancer.spec.healthCheck.type = balancer.spec.mode == "tcp" ? "tcp" : "http";
}

void apply_defaults(Event&) {
  // Nothing in an Event depends on another field; timestamps are the server's.
}

}  // namespace corral
