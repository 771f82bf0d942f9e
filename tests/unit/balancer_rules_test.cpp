// Content rules (balancer/core/rules.h): which rule a request goes to by its
// Host and path, and which backends each rule has.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "balancer/core/backend.h"
#include "balancer/core/rules.h"

namespace corral::balancer {
namespace balancer_rules_test {

constexpr int kDefault = RouteTable::kDefaultRoute;

BalancerRule rule(std::string host, std::string prefix, Labels match = {}) {
  BalancerRule r;
  r.host = std::move(host);
  r.pathPrefix = std::move(prefix);
  r.selector.matchLabels = std::move(match);
  return r;
}

class RouteTableTest : public ::testing::Test {
 protected:
  const Backend* add(const std::string& vm, Labels labels) {
    auto b = std::make_unique<Backend>();
    b->endpoint.vm = vm;
    b->endpoint.address = vm + ":80";
    b->endpoint.labels = std::move(labels);
    b->state = std::make_shared<BackendState>();
    owned_.push_back(std::move(b));
    backends_.push_back(owned_.back().get());
    return backends_.back();
  }
  RouteTable build(const std::vector<BalancerRule>& rules) {
    auto t = RouteTable::build(rules, backends_);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().to_string());
    return t.ok() ? std::move(t).value() : RouteTable();
  }

  std::vector<std::unique_ptr<Backend>> owned_;
  std::vector<const Backend*> backends_;
};

TEST(PathHasPrefix, MatchesWholeSegments) {
  EXPECT_TRUE(path_has_prefix("/api", "/api"));
  EXPECT_TRUE(path_has_prefix("/api/", "/api"));
  EXPECT_TRUE(path_has_prefix("/api/v1/users", "/api"));
  EXPECT_FALSE(path_has_prefix("/apiv2", "/api"));
  EXPECT_FALSE(path_has_prefix("/ap", "/api"));
  EXPECT_FALSE(path_has_prefix("/v1/api", "/api"));
  EXPECT_TRUE(path_has_prefix("/api/v1", "/api/v1"));
  EXPECT_FALSE(path_has_prefix("/api/v10", "/api/v1"));
}

TEST(PathHasPrefix, APrefixEndingInSlashIsADirectory) {
  EXPECT_TRUE(path_has_prefix("/static/x.css", "/static/"));
  EXPECT_TRUE(path_has_prefix("/static/img/a.png", "/static/"));
  EXPECT_TRUE(path_has_prefix("/static/", "/static/"));
  EXPECT_TRUE(path_has_prefix("/static", "/static/"));  // as Ingress pathType Prefix
  EXPECT_FALSE(path_has_prefix("/staticfiles/x", "/static/"));
  EXPECT_FALSE(path_has_prefix("/stat", "/static/"));
  EXPECT_TRUE(path_has_prefix("/anything", "/"));
  EXPECT_TRUE(path_has_prefix("/", "/"));
}

TEST(PathHasPrefix, EmptyPrefixMatchesEverything) {
  EXPECT_TRUE(path_has_prefix("/x", ""));
  EXPECT_TRUE(path_has_prefix("", ""));
  EXPECT_FALSE(path_has_prefix("", "/"));
}

TEST_F(RouteTableTest, ExactHostBeatsAnyHost) {
  RouteTable t = build({rule("", "/api"), rule("shop.example.com", ""), rule("", "")});
  EXPECT_EQ(t.match("shop.example.com", "/api/cart"), 1);  // host beats a longer prefix
  EXPECT_EQ(t.match("blog.example.com", "/api/cart"), 0);
  EXPECT_EQ(t.match("blog.example.com", "/index.html"), 2);
}

TEST_F(RouteTableTest, LongestPrefixWins) {
  RouteTable t = build({rule("", "/"), rule("", "/api/v1"), rule("", "/api"), rule("", "")});
  EXPECT_EQ(t.match("h", "/api/v1/users"), 1);
  EXPECT_EQ(t.match("h", "/api/v2/users"), 2);
  EXPECT_EQ(t.match("h", "/api"), 2);
  EXPECT_EQ(t.match("h", "/home"), 0);
  EXPECT_EQ(t.match("h", "*"), 3);  // OPTIONS *: only the empty prefix matches
}

TEST_F(RouteTableTest, LongestPrefixWinsAmongRulesOfTheSameHost) {
  RouteTable t = build({rule("a.test", "/"), rule("a.test", "/api"), rule("", "/api/v1")});
  EXPECT_EQ(t.match("a.test", "/api/v1/x"), 1);  // a host rule beats the longer any-host one
  EXPECT_EQ(t.match("a.test", "/other"), 0);
  EXPECT_EQ(t.match("b.test", "/api/v1/x"), 2);
  EXPECT_EQ(t.match("b.test", "/api"), kDefault);
}

TEST_F(RouteTableTest, PrefixesMatchOnSegmentBoundaries) {
  RouteTable t = build({rule("", "/api"), rule("", "/static/")});
  EXPECT_EQ(t.match("h", "/api"), 0);
  EXPECT_EQ(t.match("h", "/api/"), 0);
  EXPECT_EQ(t.match("h", "/api/v1"), 0);
  EXPECT_EQ(t.match("h", "/apiv2"), kDefault);
  EXPECT_EQ(t.match("h", "/static/x.css"), 1);
  EXPECT_EQ(t.match("h", "/staticx.css"), kDefault);
}

TEST_F(RouteTableTest, QueryStringIsNotPartOfThePath) {
  RouteTable t = build({rule("", "/api"), rule("", "/search")});
  EXPECT_EQ(t.match("h", "/api?x=1"), 0);
  EXPECT_EQ(t.match("h", "/apiv2?from=/api"), kDefault);
  EXPECT_EQ(t.match("h", "/search?q=/api/v1"), 1);
  EXPECT_EQ(t.match("h", "/api#top"), 0);
  EXPECT_EQ(t.match("h", "?/api"), kDefault);
}

TEST_F(RouteTableTest, ATieGoesToTheRuleWrittenFirst) {
  RouteTable t =
      build({rule("", "/api"), rule("", "/api"), rule("h.test", "/x"), rule("H.TEST", "/x")});
  EXPECT_EQ(t.match("any", "/api/v1"), 0);
  EXPECT_EQ(t.match("h.test", "/x"), 2);
}

TEST_F(RouteTableTest, HostMatchIgnoresPortAndCase) {
  RouteTable t =
      build({rule("Shop.Example.com", "/"), rule("[::1]", "/"), rule("10.0.0.5:8080", "/")});
  EXPECT_EQ(t.match("shop.example.com", "/"), 0);
  EXPECT_EQ(t.match("SHOP.EXAMPLE.COM", "/"), 0);
  EXPECT_EQ(t.match("shop.example.com:8080", "/"), 0);
  EXPECT_EQ(t.match("Shop.Example.Com:443", "/"), 0);
  EXPECT_EQ(t.match(" shop.example.com ", "/"), 0);  // optional whitespace around the value
  EXPECT_EQ(t.match("shop.example.co", "/"), kDefault);
  EXPECT_EQ(t.match("shop.example.com.evil", "/"), kDefault);
  EXPECT_EQ(t.match("[::1]:8080", "/"), 1);
  EXPECT_EQ(t.match("[::1]", "/"), 1);
  EXPECT_EQ(t.match("10.0.0.5", "/"), 2);  // a rule's own ":port" is ignored too
  EXPECT_EQ(t.match("", "/"), kDefault);
}

TEST_F(RouteTableTest, AnAbsoluteFormTargetCarriesTheHost) {
  RouteTable t = build({rule("a.test", "/api"), rule("", "/api")});
  EXPECT_EQ(t.match("b.test", "http://A.test:80/api/x?q=1"), 0);
  EXPECT_EQ(t.match("a.test", "http://b.test/api/x"), 1);
  EXPECT_EQ(t.match("b.test", "https://user@a.test/api"), 0);
  EXPECT_EQ(t.match("b.test", "http://a.test?q=/api"), kDefault);  // path "/"
}

TEST_F(RouteTableTest, NoMatchIsTheDefaultRoute) {
  RouteTable t = build({rule("a.test", "/api"), rule("", "/admin")});
  EXPECT_EQ(t.match("b.test", "/api"), kDefault);
  EXPECT_EQ(t.match("a.test", "/web"), kDefault);
  RouteTable none = build({});
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none.match("a.test", "/"), kDefault);
}

TEST_F(RouteTableTest, MembersAreTheBackendsTheSelectorMatchesInOrder) {
  const Backend* v1a = add("v1-a", {{"app", "shop"}, {"version", "v1"}});
  const Backend* v2a = add("v2-a", {{"app", "shop"}, {"version", "v2"}});
  const Backend* v1b = add("v1-b", {{"app", "shop"}, {"version", "v1"}});
  const Backend* other = add("other", {{"app", "blog"}});
  BalancerRule canary = rule("", "/beta");
  canary.selector.matchExpressions.push_back({"version", "In", {"v2", "v3"}});
  RouteTable t = build({rule("", "/", {{"version", "v1"}}), canary, rule("", "/blog", {}),
                        rule("", "/none", {{"app", "nothing"}})});
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t.members(0), (std::vector<const Backend*>{v1a, v1b}));
  EXPECT_EQ(t.members(1), (std::vector<const Backend*>{v2a}));
  EXPECT_EQ(t.members(2), (std::vector<const Backend*>{v1a, v2a, v1b, other}));  // empty selector
  // A rule selecting nothing still routes (its requests get 503), it does not
  // fall through to the default route.
  EXPECT_TRUE(t.members(3).empty());
  EXPECT_EQ(t.match("h", "/none/x"), 3);
}

TEST_F(RouteTableTest, AnInvalidSelectorIsAnErrorNamingTheRule) {
  add("a", {{"app", "shop"}});
  BalancerRule bad = rule("", "/x");
  bad.selector.matchExpressions.push_back({"version", "Near", {"v1"}});
  auto t = RouteTable::build({rule("", "/"), bad}, backends_);
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kInvalid);
  ASSERT_EQ(t.error().causes.size(), 1u);
  EXPECT_EQ(t.error().causes[0].field, "spec.rules[1].selector.matchExpressions[0].operator");
}

}  // namespace balancer_rules_test
}  // namespace corral::balancer
