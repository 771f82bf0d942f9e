// Issue 14, "Two processes share one port, silently", at the API server:
// a second Server cannot bind a port another one listens on (cpp-httplib's
// default SO_REUSEPORT let it), and the API refuses a Balancer whose
// spec.listen collides with another Balancer's (422 naming both), also when
// the writes race.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "api/json.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace exclusive_listen_test {

constexpr const char* kBalancers = "/apis/corral/v1/balancers";
constexpr const char* kJson = "application/json";

Json balancer(const std::string& name, const std::string& listen) {
  return {{"apiVersion", "corral/v1"},
          {"kind", "Balancer"},
          {"metadata", {{"name", name}}},
          {"spec", {{"vmSet", "web"}, {"listen", listen}}}};
}

TEST(ExclusiveListen, ASecondServerCannotBindTheApiPortAndSaysWhichFlag) {
  Harness first;
  auto port = first.start("memory");
  ASSERT_TRUE(port.ok()) << port.error().to_string();

  RealClock clock;
  auto other = store::open_memory_store(clock);
  server::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = *port;
  server::Server second(*other, clock, options);
  auto started = second.start();
  ASSERT_FALSE(started.ok()) << "a second server bound 127.0.0.1:" << *port;
  EXPECT_EQ(started.error().message,
            "--listen 127.0.0.1:" + std::to_string(*port) + ": address already in use");
  // The first still answers every request.
  for (int i = 0; i < 10; ++i) {
    auto r = first.client()->Get("/healthz");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
  }
}

class BalancerListenTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto port = h_.start(GetParam());
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    c_ = h_.client();
  }

  int post(const Json& b, std::string* body = nullptr) {
    auto r = c_->Post(kBalancers, b.dump(), kJson);
    EXPECT_TRUE(r);
    if (!r) return 0;
    if (body) *body = r->body;
    return r->status;
  }

  Json get(const std::string& name) {
    return parse(c_->Get(std::string(kBalancers) + "/" + name)->body);
  }

  Harness h_;
  std::unique_ptr<httplib::Client> c_;
};

TEST_P(BalancerListenTest, ACollidingListenIs422NamingBothBalancers) {
  ASSERT_EQ(post(balancer("web", "0.0.0.0:8080")), 201);
  std::string body;
  ASSERT_EQ(post(balancer("api", "127.0.0.1:8080"), &body), 422) << body;
  Json s = parse(body);
  EXPECT_EQ(s.value("reason", ""), "Invalid") << body;
  ASSERT_TRUE(s["details"]["causes"].is_array()) << body;
  EXPECT_EQ(s["details"]["causes"][0].value("field", ""), "spec.listen") << body;
  EXPECT_EQ(s["details"]["causes"][0].value("message", ""),
            "127.0.0.1:8080 is already used by balancer/web (spec.listen 0.0.0.0:8080)")
      << body;
  EXPECT_NE(s.value("message", "").find("Balancer \"api\""), std::string::npos) << body;
  EXPECT_EQ(c_->Get(std::string(kBalancers) + "/api")->status, 404)
      << "a refused Balancer was stored";

  // Same host and port; a wildcard on either side; IPv6 spellings of one address.
  ASSERT_EQ(post(balancer("v6", "[::1]:9090")), 201);
  EXPECT_EQ(post(balancer("same", "0.0.0.0:8080")), 422);
  EXPECT_EQ(post(balancer("v6-long", "[0:0:0:0:0:0:0:1]:9090")), 422);
  EXPECT_EQ(post(balancer("v6-any", "[::]:9090")), 422);
  // Other ports, other hosts, and port 0 ("any free port") are fine.
  EXPECT_EQ(post(balancer("other-port", "127.0.0.1:8081")), 201);
  EXPECT_EQ(post(balancer("other-host", "127.0.0.2:9090")), 201);
  EXPECT_EQ(post(balancer("any-1", "127.0.0.1:0")), 201);
  EXPECT_EQ(post(balancer("any-2", "0.0.0.0:0")), 201);
}

TEST_P(BalancerListenTest, AnUpdateThatMovesOntoAnotherBalancersPortIs422) {
  ASSERT_EQ(post(balancer("web", "127.0.0.1:8080")), 201);
  ASSERT_EQ(post(balancer("api", "127.0.0.1:8081")), 201);
  // Its own address does not collide with itself.
  Json api = get("api");
  api["spec"]["maxConnections"] = 100;
  auto same = c_->Put(std::string(kBalancers) + "/api", api.dump(), kJson);
  ASSERT_TRUE(same);
  ASSERT_EQ(same->status, 200) << same->body;

  api = get("api");
  api["spec"]["listen"] = "0.0.0.0:8080";
  auto moved = c_->Put(std::string(kBalancers) + "/api", api.dump(), kJson);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 422) << moved->body;
  EXPECT_NE(
      moved->body.find("0.0.0.0:8080 is already used by balancer/web (spec.listen 127.0.0.1:8080)"),
      std::string::npos)
      << moved->body;
  EXPECT_EQ(get("api")["spec"]["listen"], "127.0.0.1:8081");
  // Once web is gone, the port is free.
  ASSERT_EQ(c_->Delete(std::string(kBalancers) + "/web")->status, 200);
  moved = c_->Put(std::string(kBalancers) + "/api", api.dump(), kJson);
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->status, 200) << moved->body;
}

// Concurrent creates of colliding Balancers through one server: exactly one
// is stored, whatever the interleaving (the check and the write hold one lock).
TEST_P(BalancerListenTest, ConcurrentCollidingCreatesAdmitExactlyOne) {
  constexpr int kWriters = 8;
  for (int round = 0; round < 5; ++round) {
    const std::string port = std::to_string(7000 + round);
    std::atomic<int> created{0}, refused{0};
    std::atomic<bool> go{false};
    std::vector<std::thread> writers;
    for (int i = 0; i < kWriters; ++i) {
      writers.emplace_back([&, i] {
        auto c = h_.client();
        Json b = balancer("r" + std::to_string(round) + "-" + std::to_string(i),
                          (i % 2 ? "127.0.0.1:" : "0.0.0.0:") + port);
        while (!go) std::this_thread::yield();
        auto r = c->Post(kBalancers, b.dump(), kJson);
        if (r && r->status == 201) ++created;
        if (r && r->status == 422) ++refused;
      });
    }
    go = true;
    for (auto& w : writers) w.join();
    EXPECT_EQ(created.load(), 1) << "round " << round;
    EXPECT_EQ(refused.load(), kWriters - 1) << "round " << round;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BalancerListenTest, ::testing::Values("memory", "sqlite"));

}  // namespace exclusive_listen_test
}  // namespace corral::testing
