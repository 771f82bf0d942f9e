// PillarGauges: pools' V, L and spread, VMSets' R and replicas by phase,
// nodes by phase, from the object cache; gone objects stop showing.
#include "controller/loops/pillar_gauges.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>

#include "api/json.h"
#include "api/kinds.h"
#include "base/clock.h"
#include "base/metrics.h"
#include "controller/loops/object_cache.h"
#include "controller/store/store.h"
#include "tests/support/paths.h"

namespace corral::loops {
namespace pillar_gauges_test {

bool has_line(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

class PillarGaugesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Pool pool;
    pool.metadata.name = "web";
    pool.status.capacity = {Quantity::from_milli(8000), Quantity::from_bytes(int64_t{16} << 30)};
    pool.status.used = {Quantity::from_milli(2500), Quantity::from_bytes(int64_t{4} << 30)};
    pool.status.meanLoad = 0.25;
    pool.status.loadSpread = 0.05;
    pool.status.readyNodes = 2;
    pool.status.totalNodes = 3;
    write("Pool", to_json(pool));
    VMSet set;
    set.metadata.name = "front";
    set.spec.pool = "web";
    set.spec.replicas = 3;
    set.status.availability = 0.999;
    write("VMSet", to_json(set));
    for (auto [name, phase] : {std::pair{"front-1", "Running"}, std::pair{"front-2", "Running"},
                               std::pair{"front-3", ""}}) {
      VM vm;
      vm.metadata.name = name;
      vm.metadata.labels["corral.io/vmset"] = "front";
      vm.spec.runtime.driver = "sim";
      vm.status.phase = phase;
      write("VM", to_json(vm));
    }
    for (auto [name, phase] : {std::pair{"n1", "Ready"}, std::pair{"n2", "Ready"},
                               std::pair{"n3", "NotReady"}}) {
      Node node;
      node.metadata.name = name;
      node.status.phase = phase;
      write("Node", to_json(node));
    }
    ASSERT_TRUE(cache_.start().ok());
  }

  void write(const std::string& kind, Json object) {
    auto created = store_->create(kind, object);
    ASSERT_TRUE(created.ok()) << created.error().message;
    object["metadata"]["resourceVersion"] = std::to_string((*created)->revision);
    ASSERT_TRUE(store_->update_status(kind, object).ok());
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_ = store::open_memory_store(clock_);
  ObjectCache cache_{*store_};
  metrics::Registry registry_;
  PillarGauges gauges_{registry_, clock_, std::chrono::seconds(5)};
};

TEST_F(PillarGaugesTest, ThePillarsOfEachPoolAndSetAreGauges) {
  gauges_.update(cache_);
  const std::string text = registry_.render();
  EXPECT_TRUE(has_line(text, "corral_pool_capacity{pool=\"web\",resource=\"cpu\"} 8")) << text;
  EXPECT_TRUE(has_line(text, "corral_pool_capacity{pool=\"web\",resource=\"memory\"} 17179869184")) << text;
  EXPECT_TRUE(has_line(text, "corral_pool_used{pool=\"web\",resource=\"cpu\"} 2.5")) << text;
  EXPECT_TRUE(has_line(text, "corral_pool_mean_load{pool=\"web\"} 0.25")) << text;
  EXPECT_TRUE(has_line(text, "corral_pool_load_spread{pool=\"web\"} 0.05")) << text;
  EXPECT_TRUE(has_line(text, "corral_pool_nodes{pool=\"web\",state=\"ready\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "corral_vmset_availability{vmset=\"front\"} 0.999")) << text;
  EXPECT_TRUE(has_line(text, "corral_vmset_desired_replicas{vmset=\"front\"} 3")) << text;
  EXPECT_TRUE(has_line(text, "corral_vmset_replicas{vmset=\"front\",phase=\"Running\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "corral_vmset_replicas{vmset=\"front\",phase=\"Pending\"} 1")) << text;
  EXPECT_TRUE(has_line(text, "corral_nodes{phase=\"Ready\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "corral_nodes{phase=\"NotReady\"} 1")) << text;
}

TEST_F(PillarGaugesTest, WhatWentAwayStopsShowingAndUpdatesWaitForTheirPeriod) {
  gauges_.maybe_update(cache_);
  ASSERT_TRUE(store_->remove("Pool", "web").ok());
  ASSERT_TRUE(store_->remove("VM", "front-3").ok());
  cache_.sync();
  // Within the period: nothing is recomputed.
  gauges_.maybe_update(cache_);
  EXPECT_NE(registry_.render().find("pool=\"web\""), std::string::npos);
  clock_.advance(std::chrono::seconds(5));
  gauges_.maybe_update(cache_);
  const std::string text = registry_.render();
  EXPECT_EQ(text.find("pool=\"web\""), std::string::npos) << text;
  EXPECT_EQ(text.find("phase=\"Pending\""), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, "corral_vmset_replicas{vmset=\"front\",phase=\"Running\"} 2")) << text;
}

// The alert rules shipped in manifests/monitoring use only metrics the
// controller exports (promtool, where installed, checks their syntax:
// tests/e2e/scripts_test.cpp).
TEST_F(PillarGaugesTest, TheShippedAlertRulesNameMetricsTheControllerExports) {
  gauges_.update(cache_);
  const std::string exported = registry_.render();
  std::ifstream in(corral::testing::source_path("manifests/monitoring/corral-alerts.yml"));
  ASSERT_TRUE(in) << "manifests/monitoring/corral-alerts.yml";
  const std::string rules((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::regex metric("corral_[a-z_]+");
  int names = 0;
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), metric); it != std::sregex_iterator(); ++it) {
    ++names;
    EXPECT_NE(exported.find("# TYPE " + it->str() + " "), std::string::npos) << it->str();
  }
  EXPECT_GE(names, 5);
}

}  // namespace pillar_gauges_test
}  // namespace corral::loops
