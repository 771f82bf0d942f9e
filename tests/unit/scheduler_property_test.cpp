// Randomised invariants of the scheduler over many generated clusters (fixed
// seeds, so a failure reproduces): it never binds where it must not, never
// promises more than allocatable × overcommit, never breaks required
// anti-affinity or maxSkew, never leaves a VM pending that had a place, and
// gives the same answer for the same input.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "controller/scheduler/predicates.h"
#include "controller/scheduler/scheduler.h"
#include "tests/unit/scheduler_fixtures.h"

namespace corral::scheduler {
namespace scheduler_property_test {

using namespace corral::scheduler::testing;

constexpr int kClusters = 200;
constexpr uint32_t kSeed = 20261125;
const std::vector<std::string> kZones = {"a", "b", "c", "d"};
const std::vector<std::string> kRoles = {"web", "db"};  // pools select on these: disjoint
const std::vector<std::string> kTaintKeys = {"dedicated", "maintenance", "old-cpu"};
const std::vector<std::string> kEffects = {"NoSchedule", "NoExecute", "PreferNoSchedule"};

struct Cluster {
  std::vector<Node> nodes;
  std::vector<Pool> pools;
  std::vector<VMSet> vmsets;
  std::vector<VM> vms;  // already bound, Running (policy-free background)
  std::vector<VmRequest> pending;
  std::map<std::string, std::vector<Toleration>> set_tolerations;
};

class Gen {
 public:
  explicit Gen(uint32_t seed) : rng_(seed) {}
  int range(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(range(0, static_cast<int>(v.size()) - 1))];
  }
  std::mt19937& rng() { return rng_; }

  Cluster cluster(int min_nodes, int max_nodes) {
    Cluster c;
    const int n = range(min_nodes, max_nodes);
    const int zones = range(1, static_cast<int>(kZones.size()));
    for (int i = 0; i < n; ++i) {
      Labels labels{{"role", pick(kRoles)}};
      if (!chance(0.05)) labels["zone"] = kZones[static_cast<size_t>(range(0, zones - 1))];
      Node node =
          make_node("node-" + std::to_string(i), range(2, 32), range(2, 64), labels, !chance(0.2));
      if (chance(0.05)) node.status.conditions.clear();  // phase alone decides
      node.spec.unschedulable = chance(0.1);
      if (chance(0.2))
        node.spec.taints.push_back(Taint{pick(kTaintKeys), chance(0.5) ? "x" : "", pick(kEffects)});
      node.status.usage.cpu =
          Quantity::from_milli(node.status.allocatable.cpu.milli * range(0, 100) / 100);
      node.status.usage.memory =
          Quantity::from_milli(node.status.allocatable.memory.milli * range(0, 100) / 100);
      c.nodes.push_back(node);
    }
    const std::vector<std::string> placements = {"spread", "binpack", "leastLoaded"};
    for (const auto& role : kRoles)
      c.pools.push_back(make_pool(role, {{"role", role}}, pick(placements),
                                  1.0 + range(0, 20) / 10.0, 1.0 + range(0, 5) / 10.0));
    // Background load: policy-free VMs bound wherever they fit, so that
    // allocation starts non-zero without breaking any invariant up front.
    c.vmsets.push_back(make_vmset("bg", kRoles[0]));
    std::map<std::string, std::pair<int64_t, int64_t>> used;
    for (const auto& node : c.nodes) {
      for (int k = range(0, 3); k > 0; --k) {
        const double cpu = range(1, 8) / 2.0;
        const int64_t mem = range(1, 8);
        auto& u = used[node.metadata.name];
        if (u.first + static_cast<int64_t>(cpu * kMilli) > node.status.allocatable.cpu.milli ||
            u.second + mem * kGi * kMilli > node.status.allocatable.memory.milli)
          continue;
        u.first += static_cast<int64_t>(cpu * kMilli);
        u.second += mem * kGi * kMilli;
        c.vms.push_back(make_vm("bg-" + std::to_string(c.vms.size()), "bg", cpu, mem,
                                node.metadata.name, chance(0.5) ? "Running" : "Starting"));
      }
    }
    const int sets = range(1, 4);
    for (int s = 0; s < sets; ++s) {
      const std::string name = "set" + std::to_string(s);
      VMSet set = make_vmset(name, chance(0.05) ? "nowhere" : pick(kRoles));
      if (chance(0.4))
        set.spec.spread = SpreadPolicy{chance(0.8) ? "zone" : "corral.io/hostname", range(1, 2)};
      if (chance(0.4))
        set.spec.antiAffinity =
            AntiAffinity{chance(0.5) ? "" : "zone", chance(0.6) ? "required" : "preferred"};
      std::vector<Toleration> tolerations;
      if (chance(0.3)) tolerations.push_back(Toleration{pick(kTaintKeys), "Exists", "", ""});
      c.set_tolerations[name] = tolerations;
      const double cpu = range(1, 8) / 2.0;
      const int64_t mem = range(1, 8);
      const int priority = range(0, 2);
      for (int r = range(1, 15); r > 0; --r) {
        VmRequest req = request(name + "-" + std::to_string(r), name, set.spec.pool, cpu, mem,
                                priority, range(0, 3));
        req.tolerations = tolerations;
        c.pending.push_back(req);
      }
      c.vmsets.push_back(set);
    }
    return c;
  }

 private:
  std::mt19937 rng_;
};

const Node& node_named(const Cluster& c, const std::string& name) {
  for (const auto& n : c.nodes)
    if (n.metadata.name == name) return n;
  ADD_FAILURE() << "no node " << name;
  return c.nodes.front();
}

const Pool* pool_named(const Cluster& c, const std::string& name) {
  for (const auto& p : c.pools)
    if (p.metadata.name == name) return &p;
  return nullptr;
}

const VMSet& set_named(const Cluster& c, const std::string& name) {
  for (const auto& s : c.vmsets)
    if (s.metadata.name == name) return s;
  ADD_FAILURE() << "no set " << name;
  return c.vmsets.front();
}

// Independent of the scheduler's own bookkeeping: recomputed from the inputs.
bool ready(const Node& n) {
  bool cond_ok = true, has_cond = false;
  for (const auto& c : n.status.conditions)
    if (c.type == "Ready") {
      has_cond = true;
      cond_ok = c.status == "True";
    }
  return has_cond ? cond_ok && (n.status.phase.empty() || n.status.phase == "Ready")
                  : n.status.phase == "Ready";
}

bool hard_taints_tolerated(const Node& n, const std::vector<Toleration>& tolerations) {
  for (const auto& t : n.spec.taints)
    if (is_hard_effect(t.effect) && !tolerated(tolerations, t)) return false;
  return true;
}

std::string domain(const Node& n, const std::string& key) {
  if (key == "corral.io/hostname" || key.empty()) return n.metadata.name;
  auto it = n.metadata.labels.find(key);
  return it == n.metadata.labels.end() ? "" : it->second;
}

// What the generated clusters exercised, so that a generator change that stops
// producing interesting cases fails loudly instead of passing vacuously.
struct Coverage {
  int bound = 0;
  int unschedulable = 0;
  int spread_placements = 0;
  int required_anti_affinity_placements = 0;
  int pool_not_found = 0;
};
Coverage coverage;

std::string describe(const std::vector<Decision>& ds) {
  std::ostringstream out;
  for (const auto& d : ds)
    out << d.vm << "→" << (d.bound() ? d.node : d.message) << "@" << d.epoch << "; ";
  return out.str();
}

void check_invariants(const Cluster& c, const std::vector<Decision>& decisions) {
  std::map<std::string, const VmRequest*> req;
  for (const auto& r : c.pending) req[r.name] = &r;
  ASSERT_EQ(decisions.size(), c.pending.size());

  // Priority order, then name.
  for (size_t i = 1; i < decisions.size(); ++i) {
    const VmRequest& a = *req[decisions[i - 1].vm];
    const VmRequest& b = *req[decisions[i].vm];
    EXPECT_TRUE(a.priority > b.priority || (a.priority == b.priority && a.name < b.name));
  }

  std::map<std::string, std::pair<int64_t, int64_t>> allocated;
  for (const auto& vm : c.vms)
    if (holds_place(vm)) {
      allocated[vm.spec.nodeName].first += vm.spec.resources.cpu.milli;
      allocated[vm.spec.nodeName].second += vm.spec.resources.memory.milli;
    }
  std::map<std::string, std::vector<std::string>> replicas_on;  // set → nodes
  std::set<std::string> touched;
  for (const auto& d : decisions) {
    const VmRequest& r = *req[d.vm];
    if (!d.bound()) {
      EXPECT_FALSE(d.message.empty());
      ++coverage.unschedulable;
      if (d.message.rfind("pool \"", 0) == 0) ++coverage.pool_not_found;
      continue;
    }
    ++coverage.bound;
    EXPECT_EQ(d.epoch, r.epoch + 1);
    const Node& n = node_named(c, d.node);
    EXPECT_TRUE(ready(n)) << d.vm << " bound to NotReady " << d.node;
    EXPECT_FALSE(n.spec.unschedulable) << d.vm << " bound to cordoned " << d.node;
    EXPECT_TRUE(hard_taints_tolerated(n, r.tolerations)) << d.vm << " on tainted " << d.node;
    const Pool* pool = pool_named(c, r.pool);
    ASSERT_NE(pool, nullptr) << d.vm << " bound without a pool";
    EXPECT_TRUE(pool_selects(pool->spec.nodeSelector, n.metadata.labels))
        << d.vm << " outside pool";
    allocated[d.node].first += r.cpu;
    allocated[d.node].second += r.memory;
    touched.insert(d.node);
    replicas_on[r.vmset].push_back(d.node);
  }

  // Σ allocated ≤ allocatable × overcommit on every node that got a VM (pools
  // are disjoint by role, so each node has one overcommit).
  for (const auto& name : touched) {
    const Node& n = node_named(c, name);
    const Pool* pool = pool_named(c, n.metadata.labels.at("role"));
    ASSERT_NE(pool, nullptr);
    const long double cpu_cap =
        static_cast<long double>(n.status.allocatable.cpu.milli) * pool->spec.overcommit.cpu;
    const long double mem_cap =
        static_cast<long double>(n.status.allocatable.memory.milli) * pool->spec.overcommit.memory;
    EXPECT_LE(static_cast<long double>(allocated[name].first), cpu_cap) << name;
    EXPECT_LE(static_cast<long double>(allocated[name].second), mem_cap) << name;
  }

  for (const auto& [set_name, nodes] : replicas_on) {
    const VMSet& set = set_named(c, set_name);
    if (set.spec.antiAffinity && set.spec.antiAffinity->mode == "required") {
      std::set<std::string> seen;
      coverage.required_anti_affinity_placements += static_cast<int>(nodes.size());
      for (const auto& node : nodes) {
        std::string d = domain(node_named(c, node), set.spec.antiAffinity->topologyKey);
        if (d.empty()) continue;  // unlabelled nodes share no value
        EXPECT_TRUE(seen.insert(d).second)
            << set_name << ": two replicas in " << set.spec.antiAffinity->topologyKey << "=" << d;
      }
    }
    if (set.spec.spread) {
      // Over the eligible domains (a node Ready, uncordoned, tolerated), which
      // the batch does not change, the counts never drift more than maxSkew
      // apart: every placement kept count + 1 − min ≤ maxSkew from zero.
      const std::string& key = set.spec.spread->topologyKey;
      coverage.spread_placements += static_cast<int>(nodes.size());
      std::map<std::string, int> count;
      const Pool* pool = pool_named(c, set.spec.pool);
      ASSERT_NE(pool, nullptr);
      for (const auto& n : c.nodes) {
        if (!pool_selects(pool->spec.nodeSelector, n.metadata.labels)) continue;
        std::string d = domain(n, key);
        if (d.empty() || !ready(n) || n.spec.unschedulable ||
            !hard_taints_tolerated(n, c.set_tolerations.at(set_name)))
          continue;
        count.emplace(d, 0);
      }
      for (const auto& node : nodes) {
        std::string d = domain(node_named(c, node), key);
        ASSERT_TRUE(count.count(d)) << set_name << " placed in ineligible domain " << d;
        ++count[d];
      }
      if (!count.empty()) {
        auto [lo, hi] =
            std::minmax_element(count.begin(), count.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; });
        EXPECT_LE(hi->second - lo->second, set.spec.spread->maxSkew)
            << set_name << " over " << key << ": " << hi->first << "=" << hi->second << " "
            << lo->first << "=" << lo->second;
      }
    }
  }

  // No false "unschedulable": a policy-free VM left pending had no node with
  // room at the end of the batch, and nodes only fill up during a batch.
  for (const auto& d : decisions) {
    if (d.bound()) continue;
    const VmRequest& r = *req[d.vm];
    const VMSet& set = set_named(c, r.vmset);
    if (set.spec.spread || set.spec.antiAffinity) continue;
    const Pool* pool = pool_named(c, r.pool);
    if (pool == nullptr) {
      EXPECT_EQ(d.message, "pool \"" + r.pool + "\" not found");
      continue;
    }
    for (const auto& n : c.nodes) {
      if (!pool_selects(pool->spec.nodeSelector, n.metadata.labels) || !ready(n) ||
          n.spec.unschedulable || !hard_taints_tolerated(n, r.tolerations))
        continue;
      const auto& a = allocated[n.metadata.name];
      const bool room = a.first + r.cpu <= overcommitted(n.status.allocatable.cpu.milli,
                                                         pool->spec.overcommit.cpu) &&
                        a.second + r.memory <= overcommitted(n.status.allocatable.memory.milli,
                                                             pool->spec.overcommit.memory);
      EXPECT_FALSE(room) << d.vm << " left pending (" << d.message << ") but " << n.metadata.name
                         << " had room";
    }
    // The summary accounts for every node exactly once.
    const std::string head = "0/" + std::to_string(c.nodes.size()) + " nodes are available";
    EXPECT_EQ(d.message.rfind(head, 0), 0u) << d.message;
    // "…available: 5 insufficient memory, 7 NotReady." — reasons hold no ", ".
    size_t sum = 0;
    std::string rest = d.message.substr(head.size());
    if (rest.rfind(": ", 0) == 0) rest = rest.substr(2);
    if (!rest.empty() && rest.back() == '.') rest.pop_back();
    for (size_t pos = 0; pos < rest.size();) {
      size_t end = rest.find(", ", pos);
      if (end == std::string::npos) end = rest.size();
      sum += std::stoul(rest.substr(pos, end - pos));
      pos = end + 2;
    }
    EXPECT_EQ(sum, c.nodes.size()) << d.message;
  }
}

std::vector<Decision> run(const Cluster& c, const Options& options = {}) {
  auto snapshot = ClusterSnapshot::build(c.nodes, c.pools, c.vmsets, c.vms);
  return schedule_batch(snapshot, c.pending, options);
}

TEST(SchedulerProperty, InvariantsHoldOnRandomClusters) {
  Gen gen(kSeed);
  coverage = {};
  for (int i = 0; i < kClusters; ++i) {
    SCOPED_TRACE("cluster " + std::to_string(i) + " (seed " + std::to_string(kSeed) + ")");
    Cluster c = gen.cluster(5, 50);
    auto decisions = run(c);
    check_invariants(c, decisions);
    if (::testing::Test::HasFailure()) {
      ADD_FAILURE() << describe(decisions);
      return;
    }
  }
  // Lower bounds far below what the seed produces, well above zero.
  EXPECT_GT(coverage.bound, 10 * kClusters / 2);
  EXPECT_GT(coverage.unschedulable, kClusters / 2);
  EXPECT_GT(coverage.spread_placements, kClusters);
  EXPECT_GT(coverage.required_anti_affinity_placements, kClusters / 2);
  EXPECT_GT(coverage.pool_not_found, 0);
  std::printf(
      "coverage: %d bound, %d unschedulable (%d pool not found), %d spread, %d anti-affinity\n",
      coverage.bound, coverage.unschedulable, coverage.pool_not_found, coverage.spread_placements,
      coverage.required_anti_affinity_placements);
}

TEST(SchedulerProperty, SameInputSameOutputWhateverTheListOrder) {
  Gen gen(kSeed + 1);
  for (int i = 0; i < kClusters; ++i) {
    SCOPED_TRACE("cluster " + std::to_string(i));
    Cluster c = gen.cluster(5, 50);
    auto first = describe(run(c));
    EXPECT_EQ(describe(run(c)), first);
    // The order the lists arrive in (a watch cache's hash order) must not matter.
    std::shuffle(c.nodes.begin(), c.nodes.end(), gen.rng());
    std::shuffle(c.vms.begin(), c.vms.end(), gen.rng());
    std::shuffle(c.pending.begin(), c.pending.end(), gen.rng());
    EXPECT_EQ(describe(run(c)), first);
  }
}

TEST(SchedulerProperty, InvariantsHoldWhenOnlyPartOfALargePoolIsSearched) {
  // 300–600 nodes: above Options::min_feasible_nodes, so each VM sees a
  // sample of its pool and the search start rotates.
  Gen gen(kSeed + 2);
  Options sampled;
  sampled.min_feasible_nodes = 20;
  for (int i = 0; i < 10; ++i) {
    SCOPED_TRACE("cluster " + std::to_string(i));
    Cluster c = gen.cluster(300, 600);
    auto decisions = run(c, sampled);
    // The "no false unschedulable" check still holds: a sampled search only
    // stops early after finding feasible nodes.
    check_invariants(c, decisions);
    EXPECT_EQ(describe(run(c, sampled)), describe(decisions));
  }
}

}  // namespace scheduler_property_test
}  // namespace corral::scheduler
