// Watch streaming over HTTP: events in order from a resourceVersion, live
// events, one object by name, 410 Gone before streaming, ERROR when the store
// closes a watch, and timeoutSeconds ending the stream.
#include <gtest/gtest.h>

#include <future>

#include "api/json.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace watch_test {

constexpr const char* kVMs = "/apis/corral/v1/vms";
constexpr const char* kJson = "application/json";

struct WatchResult {
  bool transport_ok = false;
  int status = 0;
  std::string content_type;
  std::string raw;
  std::vector<Json> events;
};

// Reads a watch until the server ends it, or until `stop_after` events came.
WatchResult watch(httplib::Client& c, const std::string& query, size_t stop_after = SIZE_MAX) {
  WatchResult out;
  std::string pending;
  auto r = c.Get(
      std::string(kVMs) + query, httplib::Headers{},
      [&](const httplib::Response& res) {
        out.status = res.status;
        out.content_type = res.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t len) {
        out.raw.append(data, len);
        if (out.status != 200) return true;
        pending.append(data, len);
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          out.events.push_back(parse(pending.substr(0, nl)));
          pending.erase(0, nl + 1);
        }
        return out.events.size() < stop_after;
      });
  out.transport_ok = static_cast<bool>(r) || r.error() == httplib::Error::Canceled;
  return out;
}

std::vector<std::string> summary(const std::vector<Json>& events) {
  std::vector<std::string> out;
  for (const auto& e : events)
    out.push_back(e.value("type", "?") + " " +
                  e["object"]["metadata"].value("name", std::string("?")));
  return out;
}

class WatchTest : public ::testing::TestWithParam<std::string> {
 protected:
  void start(store::StoreOptions so = {}) {
    server::ServerOptions o;
    o.watch_poll_interval = std::chrono::milliseconds(50);
    auto port = h_.start(GetParam(), o, so);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    c_ = h_.client();
  }
  void SetUp() override { start(); }

  Json create(const Json& obj) {
    auto r = c_->Post(kVMs, obj.dump(), kJson);
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? parse(r->body) : Json();
  }
  std::string rv(const Json& obj) { return obj["metadata"].value("resourceVersion", ""); }

  Harness h_;
  std::unique_ptr<httplib::Client> c_;
};

TEST_P(WatchTest, EventsInOrderFromAResourceVersion) {
  Json first = create(vm("before"));
  Json a = create(vm("a"));
  Json changed = a;
  changed["spec"]["resources"]["cpu"] = "2";
  ASSERT_EQ(c_->Put(std::string(kVMs) + "/a", changed.dump(), kJson)->status, 200);
  create(vm("b"));
  ASSERT_EQ(c_->Delete(std::string(kVMs) + "/a")->status, 200);

  auto w = watch(*c_, "?watch=true&resourceVersion=" + rv(first) + "&timeoutSeconds=1");
  ASSERT_TRUE(w.transport_ok);
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(w.content_type.rfind("application/json", 0), 0u) << w.content_type;
  EXPECT_EQ(summary(w.events),
            (std::vector<std::string>{"ADDED a", "MODIFIED a", "ADDED b", "DELETED a"}));
  ASSERT_EQ(w.events.size(), 4u);
  EXPECT_EQ(w.events[1]["object"]["spec"]["resources"]["cpu"], "2");
  // Revisions increase along the stream.
  int64_t last = std::stoll(rv(first));
  for (const auto& e : w.events) {
    int64_t r = std::stoll(e["object"]["metadata"].value("resourceVersion", "0"));
    EXPECT_GT(r, last);
    last = r;
  }
}

TEST_P(WatchTest, FromZeroListsCurrentObjectsAsAdded) {
  create(vm("x"));
  create(vm("y"));
  auto w = watch(*c_, "?watch=1&timeoutSeconds=1");
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(summary(w.events), (std::vector<std::string>{"ADDED x", "ADDED y"}));
}

TEST_P(WatchTest, TimeoutSecondsEndsTheStream) {
  auto start = std::chrono::steady_clock::now();
  auto w = watch(*c_, "?watch=true&timeoutSeconds=1");
  auto took = std::chrono::steady_clock::now() - start;
  // The server ended it: a stream it left open would have been cut by the
  // client's read timeout (30 s, Harness::client), a transport error.
  ASSERT_TRUE(w.transport_ok);
  EXPECT_EQ(w.status, 200);
  EXPECT_TRUE(w.events.empty());
  // Not before timeoutSeconds: a lower bound, which a slow machine only raises.
  EXPECT_GE(took, std::chrono::milliseconds(900));
}

TEST_P(WatchTest, LiveEventsArriveWhileWatching) {
  Json seed = create(vm("seed"));
  auto watcher = h_.client();
  auto fut = std::async(std::launch::async, [&] {
    return watch(*watcher, "?watch=true&resourceVersion=" + rv(seed) + "&timeoutSeconds=4", 2);
  });
  // Wait until the server counts the watch as open, then write.
  auto metrics = h_.client();
  ASSERT_TRUE(eventually([&] {
    auto m = metrics->Get("/metrics");
    return m && m->body.find("corral_api_open_watches 1") != std::string::npos;
  }));
  create(vm("live"));
  ASSERT_EQ(c_->Delete(std::string(kVMs) + "/live")->status, 200);
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto w = fut.get();
  EXPECT_EQ(summary(w.events), (std::vector<std::string>{"ADDED live", "DELETED live"}));
  // The client hung up; the server's side ends at its timeout (4 s) at the latest.
  EXPECT_TRUE(eventually(
      [&] {
        auto m = metrics->Get("/metrics");
        return m && m->body.find("corral_api_open_watches 0") != std::string::npos;
      },
      std::chrono::seconds(30)));
}

TEST_P(WatchTest, OneObjectByName) {
  Json seed = create(vm("other"));
  create(vm("mine"));
  create(vm("other-2"));
  auto w = watch(*c_, "?watch=true&fieldSelector=metadata.name%3Dmine&resourceVersion=" + rv(seed) +
                          "&timeoutSeconds=1");
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(summary(w.events), (std::vector<std::string>{"ADDED mine"}));
}

TEST_P(WatchTest, LabelSelectorFilters) {
  Json seed = create(vm("s"));
  create(vm("w1", "", {{"app", "web"}}));
  create(vm("d1", "", {{"app", "db"}}));
  auto w = watch(
      *c_, "?watch=true&labelSelector=app%3Dweb&resourceVersion=" + rv(seed) + "&timeoutSeconds=1");
  ASSERT_EQ(w.status, 200) << w.raw;
  EXPECT_EQ(summary(w.events), (std::vector<std::string>{"ADDED w1"}));
}

TEST_P(WatchTest, InvalidParametersAre400) {
  for (const char* q :
       {"?watch=true&labelSelector=a%20in%20x", "?watch=true&resourceVersion=abc",
        "?watch=true&timeoutSeconds=-1", "?watch=true&fieldSelector=spec.colour%3Dx"}) {
    auto w = watch(*c_, q);
    EXPECT_EQ(w.status, 400) << q << ": " << w.raw;
    EXPECT_EQ(parse(w.raw).value("reason", ""), "BadRequest") << q;
  }
}

TEST_P(WatchTest, ErrorEventWhenTheStoreClosesTheWatch) {
  Json seed = create(vm("seed"));
  create(vm("e1"));
  create(vm("e2"));
  h_.store->watch_gone_after = 1;
  auto w = watch(*c_, "?watch=true&resourceVersion=" + rv(seed) + "&timeoutSeconds=30");
  ASSERT_EQ(w.status, 200) << w.raw;
  ASSERT_EQ(w.events.size(), 2u) << w.raw;
  EXPECT_EQ(w.events[0]["type"], "ADDED");
  EXPECT_EQ(w.events[1]["type"], "ERROR");
  EXPECT_EQ(w.events[1]["object"]["kind"], "Status");
  EXPECT_EQ(w.events[1]["object"]["code"], 410);
  EXPECT_EQ(w.events[1]["object"]["reason"], "Gone");
}

INSTANTIATE_TEST_SUITE_P(Backends, WatchTest, ::testing::Values("memory", "sqlite"));

// A revision older than the kept history answers 410 before any streaming.
TEST(WatchGone, TooOldResourceVersionIs410) {
  Harness h;
  store::StoreOptions so;
  so.history_events = 3;
  auto port = h.start("memory", {}, so);
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  auto c = h.client();
  for (int i = 0; i < 10; ++i)
    ASSERT_EQ(c->Post(kVMs, vm("g" + std::to_string(i)).dump(), kJson)->status, 201);
  auto w = watch(*c, "?watch=true&resourceVersion=1&timeoutSeconds=5");
  EXPECT_EQ(w.status, 410) << w.raw;
  Json s = parse(w.raw);
  EXPECT_EQ(s.value("kind", ""), "Status");
  EXPECT_EQ(s.value("reason", ""), "Gone");
  EXPECT_EQ(s.value("code", 0), 410);
}

// A revision the store has not reached answers 504 "too large resource
// version" before any streaming, as Kubernetes does, instead of a silent watch
// that would skip every event up to it.
TEST(WatchTooLarge, NewerResourceVersionIs504) {
  Harness h;
  auto port = h.start("memory");
  ASSERT_TRUE(port.ok()) << port.error().to_string();
  auto c = h.client();
  ASSERT_EQ(c->Post(kVMs, vm("t1").dump(), kJson)->status, 201);
  auto w = watch(*c, "?watch=true&resourceVersion=999999&timeoutSeconds=5");
  EXPECT_EQ(w.status, 504) << w.raw;
  Json s = parse(w.raw);
  EXPECT_EQ(s.value("reason", ""), "Timeout");
  EXPECT_NE(s.value("message", "").find("too large resource version: 999999"), std::string::npos)
      << w.raw;
}

// Stopping the server ends open watches instead of waiting out their timeout.
TEST(WatchStop, StopEndsOpenWatches) {
  Harness h;
  auto port = h.start("memory");
  ASSERT_TRUE(port.ok());
  auto c = h.client();
  auto fut =
      std::async(std::launch::async, [&] { return watch(*c, "?watch=true&timeoutSeconds=600"); });
  auto m = h.client();
  ASSERT_TRUE(eventually([&] {
    auto r = m->Get("/metrics");
    return r && r->body.find("corral_api_open_watches 1") != std::string::npos;
  }));
  auto start = std::chrono::steady_clock::now();
  h.server->stop();
  // Ended, not waited out: a deadline far below the watch's own 600 s, and
  // generous for a loaded machine (it takes milliseconds).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120));
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(fut.get().status, 200);
}

}  // namespace watch_test
}  // namespace corral::testing
