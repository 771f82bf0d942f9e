// Issue 15 §2: a node token created a 2.5 MB Event. Events from nodes and
// balancers are capped in size (message 1 KiB → 422 at `message`; the whole
// Event 4 KiB → 413) and in rate per user (429 with Retry-After).
#include "controller/server/event_limits.h"
#include "base/clock.h"
#include "tests/security/node_restriction_fixture.h"

namespace corral::testing::security {
namespace event_limits_test {

Json event(const std::string& name, const std::string& message) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}}},
          {"involvedObject", {{"kind", "Node"}, {"name", "host-a"}}},
          {"reason", "Test"},
          {"message", message}};
}

using EventLimitsApi = SecurityTest;

TEST_F(EventLimitsApi, LargeEventsFromNodesAndBalancersAreRefused) {
  const std::string before = snapshot();
  auto lb = h_.client("lb-front-token");
  for (auto* c : {node_a_.get(), lb.get()}) {
    // The 2.5 MB Event of the issue (under the 3 MiB body cap).
    Json s = refused(post(*c, "events", event("big", std::string(2'500'000, 'x'))), 422, "Invalid",
                     before);
    ASSERT_TRUE(s["details"]["causes"].is_array()) << s.dump().substr(0, 500);
    EXPECT_EQ(s["details"]["causes"][0]["field"], "message");
    EXPECT_LT(s.dump().size(), 4096u) << "the refusal does not echo the message";
    refused(post(*c, "events", event("long", std::string(1025, 'x'))), 422, "Invalid", before);
    // Under the message cap, over the object cap: 413.
    Json e = event("wide", "ok");
    e["reason"] = std::string(5000, 'R');
    refused(post(*c, "events", e), 413, "RequestEntityTooLarge", before);
  }
  // At the cap: taken. An admin is not capped.
  auto r = post(*node_a_, "events", event("fits", std::string(1024, 'x')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body.substr(0, 300);
  r = post(*admin_, "events", event("admin-big", std::string(10'000, 'x')));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body.substr(0, 300);
}

TEST_F(EventLimitsApi, NodeEventsAreRateLimitedPerUserWith429AndRetryAfter) {
  server::ServerOptions o;
  o.event_limits.burst = 3;
  o.event_limits.rate_per_second = 0.01;  // one token per 100 s: no refill during the test
  start(o);
  for (int i = 0; i < 3; ++i) {
    auto r = post(*node_a_, "events", event("e" + std::to_string(i), "hello"));
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
  }
  const std::string before = snapshot();
  auto r = post(*node_a_, "events", event("e3", "hello"));
  Json s = refused(r, 429, "TooManyRequests", before);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->has_header("Retry-After"));
  EXPECT_GE(std::stoi(r->get_header_value("Retry-After")), 1);
  EXPECT_NE(s.value("message", "").find("agent-a"), std::string::npos) << s.dump();
  // Another identity has its own bucket; the admin has none.
  auto b = h_.client("node-b-token");
  EXPECT_EQ(post(*b, "events", event("b0", "hello"))->status, 201);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(post(*admin_, "events", event("a" + std::to_string(i), "hello"))->status, 201);
}

TEST(EventRateLimiter, BurstThenRefillOnTheClock) {
  FakeClock clock;
  server::EventLimits limits;
  limits.rate_per_second = 10;
  limits.burst = 50;
  server::EventRateLimiter limiter(clock, limits);
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(limiter.admit("agent-a").allowed) << i;
  auto refused = limiter.admit("agent-a");
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, std::chrono::seconds(1));
  EXPECT_TRUE(limiter.admit("agent-b").allowed) << "buckets are per user";
  clock.advance(std::chrono::milliseconds(100));  // one token back
  EXPECT_TRUE(limiter.admit("agent-a").allowed);
  EXPECT_FALSE(limiter.admit("agent-a").allowed);
  clock.advance(std::chrono::hours(1));  // refills to the burst, not beyond
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(limiter.admit("agent-a").allowed) << i;
  EXPECT_FALSE(limiter.admit("agent-a").allowed);
}

TEST(EventSize, MessageAndObjectCaps) {
  server::EventLimits limits;
  EXPECT_TRUE(server::check_event_size(event("e", std::string(1024, 'x')), limits).ok());
  auto long_message = server::check_event_size(event("e", std::string(1025, 'x')), limits);
  ASSERT_FALSE(long_message.ok());
  EXPECT_EQ(long_message.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(long_message.error().causes.at(0).field, "message");
  Json wide = event("e", "x");
  wide["source"] = {{"component", std::string(4096, 'c')}};
  auto too_large = server::check_event_size(wide, limits);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.error().code, ErrorCode::kTooLarge);
}

}  // namespace event_limits_test
}  // namespace corral::testing::security
