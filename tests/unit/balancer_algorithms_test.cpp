// The load-balancing algorithms (balancer/algorithms/): who gets picked, how
// often, and what happens when backends fail, drain, come and go.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "balancer/algorithms/least_connections.h"
#include "balancer/algorithms/picker.h"
#include "balancer/algorithms/round_robin.h"
#include "balancer/algorithms/source_hash.h"
#include "balancer/algorithms/weighted.h"
#include "balancer/core/backend.h"

namespace corral::balancer {
namespace balancer_algorithms_test {

constexpr SteadyNanos kNow = 1'000'000'000;

// Owns backends at stable addresses, as an endpoint set does.
class Backends {
 public:
  Backend* add(const std::string& vm, double weight = 1.0, const std::string& address = "") {
    auto b = std::make_unique<Backend>();
    b->endpoint.vm = vm;
    b->endpoint.address = address.empty() ? vm + ".test:8080" : address;
    b->endpoint.weight = weight;
    b->host = vm + ".test";
    b->port = "8080";
    b->state = std::make_shared<BackendState>();
    owned_.push_back(std::move(b));
    return owned_.back().get();
  }
  std::vector<const Backend*> all() const {
    std::vector<const Backend*> out;
    for (const auto& b : owned_) out.push_back(b.get());
    return out;
  }
  Backend* get(size_t i) const { return owned_[i].get(); }
  std::vector<const Backend*> without(const Backend* skip) const {
    std::vector<const Backend*> out;
    for (const auto& b : owned_)
      if (b.get() != skip) out.push_back(b.get());
    return out;
  }

 private:
  std::vector<std::unique_ptr<Backend>> owned_;
};

PickContext at(SteadyNanos now = kNow, const Backend* avoid = nullptr, uint64_t client = 0) {
  PickContext ctx;
  ctx.now = now;
  ctx.avoid = avoid;
  ctx.client_hash = client;
  return ctx;
}

// How many times each backend was picked in `n` picks (nullptr counted too).
std::map<const Backend*, int> count_picks(Picker& p, int n, const PickContext& ctx = at()) {
  std::map<const Backend*, int> counts;
  for (int i = 0; i < n; ++i) ++counts[p.pick(ctx)];
  return counts;
}

// ---- roundRobin -------------------------------------------------------------

TEST(RoundRobin, EachBackendInTurnExactlyEvenly) {
  Backends set;
  Backend* a = set.add("a");
  Backend* b = set.add("b");
  Backend* c = set.add("c");
  RoundRobinPicker p(set.all());
  EXPECT_EQ(p.pick(at()), a);
  EXPECT_EQ(p.pick(at()), b);
  EXPECT_EQ(p.pick(at()), c);
  EXPECT_EQ(p.pick(at()), a);
  auto counts = count_picks(p, 296);  // 300 in all, the four above included
  EXPECT_EQ(counts[a] + 2, 100);
  EXPECT_EQ(counts[b] + 1, 100);
  EXPECT_EQ(counts[c] + 1, 100);

  RoundRobinPicker fresh(set.all());
  auto even = count_picks(fresh, 300);
  EXPECT_EQ(even[a], 100);
  EXPECT_EQ(even[b], 100);
  EXPECT_EQ(even[c], 100);
  EXPECT_EQ(even.count(nullptr), 0u);
}

TEST(RoundRobin, SkipsUnhealthyDrainingAndEjectedBackends) {
  Backends set;
  Backend* ok1 = set.add("ok1");
  Backend* sick = set.add("sick");
  Backend* draining = set.add("draining");
  Backend* ejected = set.add("ejected");
  Backend* ok2 = set.add("ok2");
  sick->state->healthy = false;
  draining->endpoint.draining = true;
  ejected->state->ejected_until = kNow + 1;
  RoundRobinPicker p(set.all());
  auto counts = count_picks(p, 300);
  EXPECT_EQ(counts[ok1], 150);
  EXPECT_EQ(counts[ok2], 150);
  EXPECT_EQ(counts[sick], 0);
  EXPECT_EQ(counts[draining], 0);
  EXPECT_EQ(counts[ejected], 0);

  // Ejection ends at its deadline: usable again at ejected_until.
  auto later = count_picks(p, 300, at(kNow + 1));
  EXPECT_EQ(later[ok1], 100);
  EXPECT_EQ(later[ejected], 100);
  EXPECT_EQ(later[ok2], 100);
}

TEST(RoundRobin, HonoursAvoidUnlessItIsTheOnlyUsableOne) {
  Backends set;
  Backend* a = set.add("a");
  Backend* b = set.add("b");
  Backend* c = set.add("c");
  RoundRobinPicker p(set.all());
  auto counts = count_picks(p, 100, at(kNow, b));
  EXPECT_EQ(counts[b], 0);
  EXPECT_EQ(counts[a], 50);
  EXPECT_EQ(counts[c], 50);

  a->state->healthy = false;
  c->endpoint.draining = true;
  EXPECT_EQ(p.pick(at(kNow, b)), b);
}

TEST(RoundRobin, NullWhenNoneUsable) {
  Backends set;
  set.add("a")->state->healthy = false;
  set.add("b")->endpoint.draining = true;
  RoundRobinPicker p(set.all());
  EXPECT_EQ(p.pick(at()), nullptr);
  RoundRobinPicker empty({});
  EXPECT_EQ(empty.pick(at()), nullptr);
}

// ---- leastConnections --------------------------------------------------------

TEST(LeastConnections, PicksTheLeastActive) {
  Backends set;
  Backend* a = set.add("a");
  Backend* b = set.add("b");
  Backend* c = set.add("c");
  a->state->active = 5;
  b->state->active = 2;
  c->state->active = 7;
  LeastConnectionsPicker p(set.all());
  auto counts = count_picks(p, 100);
  EXPECT_EQ(counts[b], 100);

  // Counting its own connections, the picker fills b and then shares.
  for (int i = 0; i < 3; ++i) {
    const Backend* got = p.pick(at());
    ASSERT_EQ(got, b);
    ++got->state->active;
  }
  EXPECT_EQ(p.pick(at()), a);  // a and b both at 5: a comes first after b
}

TEST(LeastConnections, EqualBackendsShareEvenly) {
  Backends set;
  Backend* a = set.add("a");
  Backend* b = set.add("b");
  Backend* c = set.add("c");
  Backend* busy = set.add("busy");
  a->state->active = 2;
  b->state->active = 2;
  c->state->active = 2;
  busy->state->active = 9;
  LeastConnectionsPicker p(set.all());
  auto counts = count_picks(p, 300);
  EXPECT_EQ(counts[a], 100);
  EXPECT_EQ(counts[b], 100);
  EXPECT_EQ(counts[c], 100);
  EXPECT_EQ(counts[busy], 0);
}

TEST(LeastConnections, OpenConnectionsStayBalanced) {
  Backends set;
  std::vector<Backend*> bs = {set.add("a"), set.add("b"), set.add("c")};
  LeastConnectionsPicker p(set.all());
  for (int i = 0; i < 30; ++i) ++p.pick(at())->state->active;
  for (Backend* b : bs) EXPECT_EQ(b->active(), 10) << b->endpoint.vm;
}

TEST(LeastConnections, SkipsUnusableAndHonoursAvoid) {
  Backends set;
  Backend* idle_sick = set.add("idle-sick");
  Backend* idle_ejected = set.add("idle-ejected");
  Backend* a = set.add("a");
  Backend* b = set.add("b");
  idle_sick->state->healthy = false;
  idle_ejected->state->ejected_until = kNow + 5;
  a->state->active = 1;
  b->state->active = 3;
  LeastConnectionsPicker p(set.all());
  EXPECT_EQ(p.pick(at()), a);
  EXPECT_EQ(p.pick(at(kNow, a)), b);
  b->state->healthy = false;
  EXPECT_EQ(p.pick(at(kNow, a)), a);  // the only usable one left
  a->endpoint.draining = true;
  EXPECT_EQ(p.pick(at()), nullptr);
  EXPECT_EQ(p.pick(at(kNow + 5)), idle_ejected);
}

// ---- sourceHash -------------------------------------------------------------

constexpr int kClients = 10'000;

std::vector<uint64_t> client_hashes() {
  std::vector<uint64_t> out;
  for (int i = 0; i < kClients; ++i)
    out.push_back(
        hash_client_address("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)));
  return out;
}

std::vector<const Backend*> assign(Picker& p, const std::vector<uint64_t>& clients,
                                   const Backend* avoid = nullptr) {
  std::vector<const Backend*> out;
  for (uint64_t h : clients) out.push_back(p.pick(at(kNow, avoid, h)));
  return out;
}

TEST(HashClientAddress, IsAFixedFunctionOfTheBytes) {
  // FNV-1a 64 then splitmix64's finaliser; these values pin it, so that
  // balancer copies built anywhere agree on where a client goes.
  EXPECT_EQ(hash_client_address(""), 0xf52a15e9a9b5e89bull);
  EXPECT_EQ(hash_client_address("10.0.0.1"), 0x7fb1b600f0f5c6d3ull);
  EXPECT_EQ(hash_client_address(std::string_view("\x0a\x00\x00\x01", 4)), 0xe7a770915e3a6bb4ull);
  EXPECT_NE(hash_client_address("10.0.0.1"), hash_client_address("10.0.0.2"));
}

TEST(SourceHash, SameClientSameBackend) {
  Backends set;
  for (int i = 0; i < 5; ++i) set.add("vm-" + std::to_string(i));
  SourceHashPicker p(set.all());
  const auto clients = client_hashes();
  const auto first = assign(p, clients);
  EXPECT_EQ(assign(p, clients), first);
  // Another copy (another loop, another balancer) with the set in another
  // order agrees: the ring depends on the VM names only.
  auto reversed = set.all();
  std::reverse(reversed.begin(), reversed.end());
  SourceHashPicker other(reversed);
  EXPECT_EQ(assign(other, clients), first);
}

TEST(SourceHash, SpreadsClientsEvenly) {
  Backends set;
  for (int i = 0; i < 5; ++i) set.add("vm-" + std::to_string(i));
  SourceHashPicker p(set.all());
  std::map<const Backend*, int> counts;
  for (const Backend* b : assign(p, client_hashes())) ++counts[b];
  ASSERT_EQ(counts.size(), 5u);
  for (const auto& [b, n] : counts) {
    ASSERT_NE(b, nullptr);
    EXPECT_NEAR(n, kClients / 5, kClients * 5 / 100) << b->endpoint.vm;
  }
}

TEST(SourceHash, RemovingABackendMovesOnlyItsClients) {
  Backends set;
  for (int i = 0; i < 5; ++i) set.add("vm-" + std::to_string(i));
  const Backend* gone = set.all()[2];
  SourceHashPicker before(set.all());
  SourceHashPicker after(set.without(gone));
  const auto clients = client_hashes();
  const auto was = assign(before, clients);
  const auto now = assign(after, clients);
  int moved = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    if (was[i] == gone) {
      EXPECT_NE(now[i], gone);
      ++moved;
    } else {
      EXPECT_EQ(now[i], was[i]) << "client " << i << " moved off a backend that stayed";
    }
  }
  EXPECT_NEAR(moved, kClients / 5, kClients * 5 / 100);
}

TEST(SourceHash, AnUnhealthyBackendMovesOnlyItsClientsAndGetsThemBack) {
  Backends set;
  for (int i = 0; i < 5; ++i) set.add("vm-" + std::to_string(i));
  Backend* sick = set.get(3);
  SourceHashPicker p(set.all());
  const auto clients = client_hashes();
  const auto was = assign(p, clients);
  sick->state->healthy = false;
  const auto now = assign(p, clients);
  int moved = 0;
  std::map<const Backend*, int> spread;  // where its clients went
  for (size_t i = 0; i < clients.size(); ++i) {
    if (was[i] == sick) {
      ASSERT_NE(now[i], nullptr);
      EXPECT_NE(now[i], sick);
      ++spread[now[i]];
      ++moved;
    } else {
      EXPECT_EQ(now[i], was[i]);
    }
  }
  EXPECT_NEAR(moved, kClients / 5, kClients * 5 / 100);
  EXPECT_EQ(spread.size(), 4u) << "its clients spread over all the others";
  sick->state->healthy = true;
  EXPECT_EQ(assign(p, clients), was);
}

TEST(SourceHash, AddingABackendMovesAboutOneInNPlusOne) {
  Backends set;
  for (int i = 0; i < 5; ++i) set.add("vm-" + std::to_string(i));
  SourceHashPicker before(set.all());
  const Backend* added = set.add("vm-5");
  SourceHashPicker after(set.all());
  const auto clients = client_hashes();
  const auto was = assign(before, clients);
  const auto now = assign(after, clients);
  int moved = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    if (now[i] != was[i]) {
      EXPECT_EQ(now[i], added) << "a client moved between two old backends";
      ++moved;
    }
  }
  EXPECT_NEAR(moved, kClients / 6, kClients * 4 / 100);
}

TEST(SourceHash, AReplacedVmKeepsItsClients) {
  // The controller re-places vm-1 on another node: new address and epoch,
  // same VM name.
  Backends old_set;
  Backends new_set;
  for (int i = 0; i < 4; ++i) {
    const std::string vm = "vm-" + std::to_string(i);
    old_set.add(vm, 1.0, vm + ".node-a:80");
    new_set.add(vm, 1.0, vm + (i == 1 ? ".node-b:80" : ".node-a:80"));
  }
  SourceHashPicker before(old_set.all());
  SourceHashPicker after(new_set.all());
  const auto clients = client_hashes();
  const auto was = assign(before, clients);
  const auto now = assign(after, clients);
  for (size_t i = 0; i < clients.size(); ++i)
    ASSERT_EQ(now[i]->endpoint.vm, was[i]->endpoint.vm) << "client " << i;
}

TEST(SourceHash, ClientsFollowAMovingVmFromItsDrainingCopy) {
  // While vm-1 moves the set holds both copies; the old one drains.
  Backends set;
  set.add("vm-0");
  Backend* old_copy = set.add("vm-1", 1.0, "vm-1.node-a:80");
  set.add("vm-2");
  Backend* new_copy = set.add("vm-1", 1.0, "vm-1.node-b:80");
  old_copy->endpoint.draining = true;
  Backends without_move;
  without_move.add("vm-0");
  without_move.add("vm-1");
  without_move.add("vm-2");
  SourceHashPicker p(set.all());
  SourceHashPicker reference(without_move.all());
  const auto clients = client_hashes();
  const auto now = assign(p, clients);
  const auto ref = assign(reference, clients);
  for (size_t i = 0; i < clients.size(); ++i) {
    ASSERT_NE(now[i], old_copy);
    ASSERT_EQ(now[i]->endpoint.vm, ref[i]->endpoint.vm) << "client " << i;
    if (ref[i]->endpoint.vm == "vm-1") {
      ASSERT_EQ(now[i], new_copy);
    }
  }
}

TEST(SourceHash, RetryAvoidsTheFailedBackend) {
  Backends set;
  for (int i = 0; i < 3; ++i) set.add("vm-" + std::to_string(i));
  SourceHashPicker p(set.all());
  for (uint64_t h : client_hashes()) {
    const Backend* first = p.pick(at(kNow, nullptr, h));
    const Backend* retry = p.pick(at(kNow, first, h));
    ASSERT_NE(retry, nullptr);
    ASSERT_NE(retry, first);
    ASSERT_EQ(p.pick(at(kNow, first, h)), retry) << "a retry is consistent too";
  }
  // Only the avoided one usable: it is returned.
  set.get(0)->state->healthy = false;
  set.get(1)->state->ejected_until = kNow + 1;
  EXPECT_EQ(p.pick(at(kNow, set.get(2), 42)), set.get(2));
}

TEST(SourceHash, NullWhenNoneUsable) {
  Backends set;
  for (int i = 0; i < 3; ++i) set.add("vm-" + std::to_string(i))->state->healthy = false;
  SourceHashPicker p(set.all());
  EXPECT_EQ(p.pick(at(kNow, nullptr, 7)), nullptr);
  SourceHashPicker empty({});
  EXPECT_EQ(empty.pick(at(kNow, nullptr, 7)), nullptr);
}

// ---- weighted ---------------------------------------------------------------

constexpr int kPicks = 10'000;

TEST(Weighted, SharesFollowTheWeights) {
  Backends set;
  Backend* big = set.add("big", 0.8);
  Backend* small = set.add("small", 0.2);
  WeightedPicker p(set.all());
  auto counts = count_picks(p, kPicks);
  EXPECT_NEAR(counts[big], kPicks * 80 / 100, kPicks / 100);
  EXPECT_NEAR(counts[small], kPicks * 20 / 100, kPicks / 100);
}

TEST(Weighted, SpreadsTheHeavyBackendsTurns) {
  // nginx's smooth weighted round-robin: 4:1 gives a a b a a, not a a a a b.
  Backends set;
  Backend* a = set.add("a", 0.8);
  Backend* b = set.add("b", 0.2);
  WeightedPicker p(set.all());
  std::vector<const Backend*> got;
  for (int i = 0; i < 10; ++i) got.push_back(p.pick(at()));
  EXPECT_EQ(got, (std::vector<const Backend*>{a, a, b, a, a, a, a, b, a, a}));
}

TEST(Weighted, ASlowerBackendGetsLess) {
  Backends set;
  Backend* fast = set.add("fast", 0.5);
  Backend* slow = set.add("slow", 0.5);
  store_double(fast->state->latency_ewma_us_bits, 1000);
  store_double(slow->state->latency_ewma_us_bits, 4000);  // 4× slower: a quarter of the weight
  WeightedPicker p(set.all());
  auto counts = count_picks(p, kPicks);
  EXPECT_NEAR(counts[fast], kPicks * 80 / 100, kPicks / 100);
  EXPECT_NEAR(counts[slow], kPicks * 20 / 100, kPicks / 100);
  EXPECT_DOUBLE_EQ(p.effective_weight(0), 0.5);
  EXPECT_DOUBLE_EQ(p.effective_weight(1), 0.125);
}

TEST(Weighted, WeightsFollowLoadWithin64Picks) {
  Backends set;
  Backend* a = set.add("a", 0.5);
  Backend* b = set.add("b", 0.5);
  store_double(a->state->latency_ewma_us_bits, 1000);
  store_double(b->state->latency_ewma_us_bits, 1000);
  WeightedPicker p(set.all());
  auto even = count_picks(p, 640);
  EXPECT_EQ(even[a], 320);
  EXPECT_EQ(even[b], 320);
  // b slows down: seen at the next recompute, at most 64 picks away.
  store_double(b->state->latency_ewma_us_bits, 4000);
  count_picks(p, 64);
  EXPECT_DOUBLE_EQ(p.effective_weight(1), 0.125);
  auto after = count_picks(p, 640);
  EXPECT_EQ(after[a], 512);
  EXPECT_EQ(after[b], 128);
}

TEST(Weighted, LatencyFactorIsClippedAndUnmeasuredCountsAsFastest) {
  Backends set;
  set.add("fast", 1.0);
  set.add("very-slow", 1.0);
  set.add("unmeasured", 1.0);
  store_double(set.get(0)->state->latency_ewma_us_bits, 100);
  store_double(set.get(1)->state->latency_ewma_us_bits, 100'000);  // 1000× slower
  WeightedPicker p(set.all());
  p.pick(at());
  EXPECT_DOUBLE_EQ(p.effective_weight(0), 1.0);
  EXPECT_DOUBLE_EQ(p.effective_weight(1), 0.1);
  EXPECT_DOUBLE_EQ(p.effective_weight(2), 1.0);
}

TEST(Weighted, ErrorsLowerTheShare) {
  Backends set;
  Backend* good = set.add("good", 1.0);
  Backend* flaky = set.add("flaky", 1.0);
  Backend* broken = set.add("broken", 1.0);
  store_double(flaky->state->error_ewma_bits, 0.5);
  store_double(broken->state->error_ewma_bits, 1.0);  // floored at 0.05, still probed
  WeightedPicker p(set.all());
  auto counts = count_picks(p, kPicks);
  const double total = 1.0 + 0.5 + 0.05;
  EXPECT_NEAR(counts[good], kPicks * 1.0 / total, kPicks / 100);
  EXPECT_NEAR(counts[flaky], kPicks * 0.5 / total, kPicks / 100);
  EXPECT_NEAR(counts[broken], kPicks * 0.05 / total, kPicks / 100);
  EXPECT_GT(counts[broken], 0);
}

TEST(Weighted, NonPositiveWeightCountsAsTheFloor) {
  Backends set;
  Backend* full = set.add("full", 1.0);
  Backend* zero = set.add("zero", 0.0);
  Backend* negative = set.add("negative", -3);
  WeightedPicker p(set.all());
  auto counts = count_picks(p, 11'000);  // weights 1 : 0.05 : 0.05
  EXPECT_NEAR(counts[full], 10'000, 10);
  EXPECT_NEAR(counts[zero], 500, 10);
  EXPECT_NEAR(counts[negative], 500, 10);
}

TEST(Weighted, UnusableBackendsAreExcludedAndRejoin) {
  Backends set;
  Backend* a = set.add("a", 0.6);
  Backend* sick = set.add("sick", 1.0);
  Backend* b = set.add("b", 0.2);
  Backend* draining = set.add("draining", 1.0);
  sick->state->healthy = false;
  draining->endpoint.draining = true;
  WeightedPicker p(set.all());
  auto counts = count_picks(p, 8000);
  EXPECT_EQ(counts[sick], 0);
  EXPECT_EQ(counts[draining], 0);
  EXPECT_NEAR(counts[a], 6000, 10);
  EXPECT_NEAR(counts[b], 2000, 10);
  // The fastest *usable* backend sets the latency scale: a fast backend that
  // is down does not make the others look slow ...
  store_double(sick->state->latency_ewma_us_bits, 100);
  store_double(a->state->latency_ewma_us_bits, 1000);
  store_double(b->state->latency_ewma_us_bits, 1000);
  count_picks(p, 64);
  EXPECT_DOUBLE_EQ(p.effective_weight(0), 0.6);
  EXPECT_DOUBLE_EQ(p.effective_weight(1), 0);
  EXPECT_DOUBLE_EQ(p.effective_weight(2), 0.2);
  // ... until it is back, which counts at once (the usable set changed).
  sick->state->healthy = true;
  auto back = count_picks(p, 1080);  // weights 0.06 : 1 : 0.02
  EXPECT_DOUBLE_EQ(p.effective_weight(0), 0.06);
  EXPECT_DOUBLE_EQ(p.effective_weight(1), 1.0);
  EXPECT_DOUBLE_EQ(p.effective_weight(2), 0.02);
  EXPECT_NEAR(back[a], 60, 2);
  EXPECT_NEAR(back[sick], 1000, 2);
  EXPECT_NEAR(back[b], 20, 2);
  EXPECT_EQ(back[draining], 0);
}

TEST(Weighted, HonoursAvoidAndReturnsNullWhenNoneUsable) {
  Backends set;
  Backend* a = set.add("a", 0.9);
  Backend* b = set.add("b", 0.1);
  WeightedPicker p(set.all());
  auto counts = count_picks(p, 100, at(kNow, a));
  EXPECT_EQ(counts[b], 100);
  b->state->ejected_until = kNow + 10;
  EXPECT_EQ(p.pick(at(kNow, a)), a);
  a->state->healthy = false;
  EXPECT_EQ(p.pick(at()), nullptr);
}

// ---- make_picker ------------------------------------------------------------

TEST(MakePicker, BuildsTheNamedAlgorithm) {
  Backends set;
  set.add("a");
  EXPECT_NE(dynamic_cast<RoundRobinPicker*>(make_picker("roundRobin", false, set.all()).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<LeastConnectionsPicker*>(
                make_picker("leastConnections", false, set.all()).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<SourceHashPicker*>(make_picker("sourceHash", false, set.all()).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<WeightedPicker*>(make_picker("weighted", false, set.all()).get()),
            nullptr);
}

TEST(MakePicker, UnknownFallsBackToRoundRobin) {
  Backends set;
  set.add("a");
  EXPECT_NE(dynamic_cast<RoundRobinPicker*>(make_picker("random", false, set.all()).get()),
            nullptr);
  EXPECT_NE(dynamic_cast<RoundRobinPicker*>(make_picker("", false, set.all()).get()), nullptr);
}

TEST(MakePicker, SourceAffinityMeansSourceHashWhateverTheAlgorithm) {
  Backends set;
  set.add("a");
  for (const char* algorithm : {"roundRobin", "leastConnections", "weighted", "sourceHash", "x"})
    EXPECT_NE(dynamic_cast<SourceHashPicker*>(make_picker(algorithm, true, set.all()).get()),
              nullptr)
        << algorithm;
}

}  // namespace balancer_algorithms_test
}  // namespace corral::balancer
