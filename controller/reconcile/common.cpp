#include "controller/reconcile/common.h"

#include <algorithm>
#include <cstdio>
#include <optional>

#include "api/quantity.h"

namespace corral::reconcile {

bool pool_selects(const Pool& pool, const Node& node) {
  for (const auto& [key, value] : pool.spec.nodeSelector) {
    auto it = node.metadata.labels.find(key);
    if (it == node.metadata.labels.end() || it->second != value) return false;
  }
  return true;
}

NodeFailover failover_for(const Node& node, const std::vector<Pool>& pools) {
  const FailoverPolicy defaults;
  NodeFailover out;
  for (const Pool& pool : pools) {
    if (!pool_selects(pool, node)) continue;
    const FailoverPolicy& f = pool.spec.failover;
    if (f.nodeGraceSeconds > 0) {
      std::chrono::milliseconds grace = std::chrono::seconds(f.nodeGraceSeconds);
      out.grace = out.in_pool && out.grace.count() > 0 ? std::min(out.grace, grace) : grace;
    }
    const std::chrono::seconds restart(std::max(0, f.restartWindowSeconds));
    out.restart_window = out.in_pool ? std::min(out.restart_window, restart) : restart;
    if (f.availabilityWindowSeconds > 0) {
      std::chrono::seconds window(f.availabilityWindowSeconds);
      out.availability_window =
          out.availability_window.count() > 0 ? std::min(out.availability_window, window) : window;
    }
    out.in_pool = true;
  }
  if (out.grace.count() <= 0) out.grace = std::chrono::seconds(defaults.nodeGraceSeconds);
  if (!out.in_pool) out.restart_window = std::chrono::seconds(defaults.restartWindowSeconds);
  if (out.availability_window.count() <= 0)
    out.availability_window = std::chrono::seconds(defaults.availabilityWindowSeconds);
  return out;
}

double node_load(const Node& node) {
  double load = 0;
  const ResourceList& a = node.status.allocatable;
  const ResourceList& u = node.status.usage;
  if (a.cpu.milli > 0) load = std::max(load, static_cast<double>(u.cpu.milli) / a.cpu.milli);
  if (a.memory.milli > 0)
    load = std::max(load, static_cast<double>(u.memory.milli) / a.memory.milli);
  return load;
}

bool owned_by(const VM& vm, const VMSet& vmset) {
  for (const OwnerReference& ref : vm.metadata.ownerReferences) {
    if (ref.controller && ref.kind == VMSet::kKind && !vmset.metadata.uid.empty() &&
        ref.uid == vmset.metadata.uid)
      return true;
  }
  return false;
}

std::string format_cpu(int64_t milli) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(milli) / 1000.0);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

std::string format_memory(int64_t milli) { return Quantity::from_bytes(milli / 1000).text; }

namespace {

// Kubernetes' generateName alphabet: no vowels (no accidental words), no
// look-alikes (0/o, 1/l, 3/e).
constexpr std::string_view kNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";

// splitmix64: a tiny, well-mixed generator; deterministic for a seed.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

std::string generate_name(const std::string& base, size_t suffix_length, uint64_t& state,
                          std::set<std::string>& taken) {
  // Terminates: 27^5 ≈ 14 million suffixes per base, far more than VMs exist.
  for (;;) {
    std::string suffix;
    uint64_t bits = splitmix64(state);
    for (size_t c = 0; c < suffix_length; ++c) {
      if (bits < kNameAlphabet.size()) bits = splitmix64(state);
      suffix += kNameAlphabet[bits % kNameAlphabet.size()];
      bits /= kNameAlphabet.size();
    }
    std::string name = base + "-" + suffix;
    if (taken.insert(name).second) return name;
  }
}

}  // namespace corral::reconcile
