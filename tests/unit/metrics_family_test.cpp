// Metric families whose label values come and go: children held with
// share() go once no one holds them (prune_unused), gauges set at each
// scrape start from nothing (clear), and the balancer's per-endpoint
// counters stop being exported when their endpoint is gone from every set.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "balancer/core/endpoint_set.h"
#include "balancer/proxy/proxy_metrics.h"
#include "base/metrics.h"

namespace corral {
namespace metrics_family_test {

bool shows(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }

TEST(MetricsFamily, SharedChildrenGoWhenNoOneHoldsThemAndOthersStay) {
  metrics::Registry registry;
  auto& family = registry.counter("t_total", "test", {"endpoint"});
  auto a = family.share({"a"});
  auto b = family.share({"b"});
  a->inc();
  b->inc();
  EXPECT_EQ(family.share({"a"}).get(), a.get()) << "one child per label set";
  b.reset();
  family.prune_unused();
  const std::string text = registry.render();
  EXPECT_TRUE(shows(text, "t_total{endpoint=\"a\"} 1")) << text;
  EXPECT_FALSE(shows(text, "endpoint=\"b\"")) << text;
}

TEST(MetricsFamily, ClearDropsEveryChild) {
  metrics::Registry registry;
  auto& gauge = registry.gauge("g", "test", {"endpoint"});
  gauge.with({"gone"}).set(1);
  gauge.clear();
  gauge.with({"here"}).set(2);
  const std::string text = registry.render();
  EXPECT_TRUE(shows(text, "g{endpoint=\"here\"} 2")) << text;
  EXPECT_FALSE(shows(text, "gone")) << text;
}

std::unique_ptr<balancer::EndpointSet> endpoint_set(const std::vector<std::string>& vms) {
  auto set = std::make_unique<balancer::EndpointSet>();
  set->name = "web";
  for (const std::string& vm : vms) {
    auto b = std::make_unique<balancer::Backend>();
    b->endpoint.vm = vm;
    b->index = set->owned.size();
    set->backends.push_back(b.get());
    set->owned.push_back(std::move(b));
  }
  return set;
}

TEST(MetricsFamily, AnEndpointRemovedFromEverySetStopsBeingExported) {
  balancer::ProxyMetrics metrics;
  auto first = metrics.for_set(*endpoint_set({"web-a", "web-b"}));
  first[0].requests->inc();
  first[1].requests->inc();
  // The next set (web-b replaced by web-c) is installed; the old one is
  // released when its last connection ends.
  auto second = metrics.for_set(*endpoint_set({"web-a", "web-c"}));
  metrics.prune();
  EXPECT_TRUE(shows(metrics.registry().render(), "endpoint=\"web-b\"")) << "the old set is still in use";
  first.clear();
  metrics.prune();
  const std::string text = metrics.registry().render();
  EXPECT_FALSE(shows(text, "endpoint=\"web-b\"")) << text;
  EXPECT_TRUE(shows(text, "corral_balancer_requests_total{balancer=\"web\",endpoint=\"web-a\"} 1"))
      << "a kept endpoint keeps its count\n" << text;
  EXPECT_TRUE(shows(text, "endpoint=\"web-c\"")) << text;
}

}  // namespace metrics_family_test
}  // namespace corral
