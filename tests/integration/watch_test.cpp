// Watch streaming over HTTP: events in order from a resourceVersion, live
// events, one object by name, 410 Gone before streaming, ERROR when the store
// closes a watch, and timeoutSeconds ending the stream; hundreds of watches
// holding no thread.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <future>

#include "api/json.h"
#include "tests/integration/server_fixture.h"
#include "tests/support/raw_socket.h"

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

// Reads a watch until the server ends it, or until `stop_after` events came;
// `on_head`, if any, is called once the answer's head arrived.
WatchResult watch(httplib::Client& c, const std::string& query, size_t stop_after = SIZE_MAX,
                  const std::function<void()>& on_head = nullptr) {
  WatchResult out;
  std::string pending;
  auto r = c.Get(
      std::string(kVMs) + query, httplib::Headers{},
      [&](const httplib::Response& res) {
        out.status = res.status;
        out.content_type = res.get_header_value("Content-Type");
        if (on_head) on_head();
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
  // Stopped once its head arrived: a stop between the watch's start and its
  // head would close the connection before any answer (status 0), which is
  // not what this tests (the gauge alone counted it open too early, a flake).
  std::promise<void> head;
  auto fut = std::async(std::launch::async, [&] {
    return watch(*c, "?watch=true&timeoutSeconds=600", SIZE_MAX, [&] { head.set_value(); });
  });
  ASSERT_EQ(head.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto start = std::chrono::steady_clock::now();
  h.server->stop();
  // Ended, not waited out: a deadline far below the watch's own 600 s, and
  // generous for a loaded machine (it takes milliseconds).
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(120));
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_EQ(fut.get().status, 200);
}

size_t threads_of_this_process() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& task : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

// Reads `fd` until `needle` came (true) or the socket's read bound passed.
bool read_until_seen(int fd, const std::string& needle) {
  std::string got;
  char buf[4096];
  while (got.find(needle) == std::string::npos) {
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    got.append(buf, static_cast<size_t>(n));
  }
  return true;
}

// A watch is an event source of the HTTP core's one I/O thread, not a thread
// of its own: 300 open watches add no thread to the server, each still gets
// every event, and one whose client goes away is released.
TEST(WatchScale, ThreeHundredWatchesHoldNoThreadAndEachGetsTheEvent) {
  constexpr int kWatches = 300;
  Harness h;
  server::ServerOptions options;
  options.max_watches_per_identity = kWatches;
  options.max_watches = kWatches;
  options.max_connections_per_address = 0;  // all from 127.0.0.1
  ASSERT_TRUE(h.start("memory", options).ok());
  auto c = h.client();
  auto open_watches = [&](int n) {
    return eventually([&] {
      auto r = c->Get("/metrics");
      return r && r->body.find("corral_api_open_watches " + std::to_string(n) + "\n") != std::string::npos;
    });
  };
  const size_t threads_before = threads_of_this_process();

  std::vector<int> fds;
  for (int i = 0; i < kWatches; ++i) {
    int fd = connect_tcp("127.0.0.1:" + std::to_string(h.port));
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    ASSERT_TRUE(send_all(fd, std::string("GET ") + kVMs +
                                 "?watch=true&resourceVersion=0&timeoutSeconds=120 HTTP/1.1\r\n"
                                 "Host: 127.0.0.1\r\n\r\n"));
  }
  ASSERT_TRUE(open_watches(kWatches));
  // The harness's threads (64 workers, the I/O thread, the store's) were
  // there before; a thread per watch would add 300.
  EXPECT_LT(threads_of_this_process(), threads_before + 10);

  auto r = c->Post(kVMs, vm("for-everyone").dump(), kJson);
  ASSERT_TRUE(r && r->status == 201);
  for (int fd : fds) EXPECT_TRUE(read_until_seen(fd, "\"name\":\"for-everyone\""));

  for (int i = 0; i < kWatches / 2; ++i) close(fds[static_cast<size_t>(i)]);
  EXPECT_TRUE(open_watches(kWatches / 2));
  for (size_t i = kWatches / 2; i < fds.size(); ++i) close(fds[i]);
  EXPECT_TRUE(open_watches(0));
}

}  // namespace watch_test
}  // namespace corral::testing
