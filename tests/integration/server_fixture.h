// Shared by the API server's integration tests: a real Server on 127.0.0.1
// port 0 over a real store (in memory, or a SQLite file in a temp dir), and
// httplib clients to talk to it.
#pragma once

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/clock.h"
#include "api/json.h"
#include "controller/server/server.h"
#include "controller/store/forwarding_store.h"
#include "controller/store/store.h"
#include "tests/support/temp_dir.h"

namespace corral::testing {

// Wraps a store to inject faults the real ones do not produce on demand:
// an unhealthy store (readyz), and a watch the store closes mid-stream.
class FaultyStore final : public store::ForwardingStore {
 public:
  explicit FaultyStore(store::Store& inner) : ForwardingStore(inner) {}

  std::atomic<bool> unhealthy{false};
  // When ≥ 0: every watch yields this many events, then fails with Gone.
  std::atomic<int> watch_gone_after{-1};
  // When > 0: that many updates lose to another writer: just before each, an
  // annotation of the stored object is changed (a real write, so its
  // resourceVersion moves), and the update answers Conflict.
  std::atomic<int> update_conflicts{0};
  std::atomic<int> updates_seen{0};

  Result<store::RecordPtr> update(const std::string& kind, Json object) override {
    ++updates_seen;
    int left = update_conflicts.load();
    while (left > 0 && !update_conflicts.compare_exchange_weak(left, left - 1)) {
    }
    if (left > 0) {
      auto stored = inner().get(kind, object.value("metadata", Json::object()).value("name", ""));
      if (stored) {
        Json other = (*stored)->parse();
        other["metadata"]["annotations"]["other-writer"] = std::to_string(left) + "-" +
                                                           std::to_string(updates_seen.load());
        (void)inner().update(kind, std::move(other));
      }
      return make_error(ErrorCode::kConflict, "the object has been modified (injected)");
    }
    return inner().update(kind, std::move(object));
  }

  Result<std::unique_ptr<store::Watch>> watch(const std::string& k, int64_t from,
                                              const store::ListOptions& f) override {
    auto w = inner().watch(k, from, f);
    if (!w || watch_gone_after < 0) return w;
    return std::unique_ptr<store::Watch>(new GoneAfter(std::move(*w), watch_gone_after));
  }
  Result<void> healthy() const override {
    if (unhealthy) return make_error(ErrorCode::kUnavailable, "disk full (injected)");
    return inner().healthy();
  }

 private:
  class GoneAfter final : public store::Watch {
   public:
    GoneAfter(std::unique_ptr<store::Watch> inner, int n) : inner_(std::move(inner)), left_(n) {}
    Result<std::optional<store::WatchEvent>> next(std::chrono::milliseconds timeout) override {
      if (left_ <= 0) return make_error(ErrorCode::kGone, "watcher fell behind (injected)");
      auto ev = inner_->next(timeout);
      if (ev && ev->has_value()) --left_;
      return ev;
    }
    void on_ready(std::function<void()> ready) override { inner_->on_ready(std::move(ready)); }

   private:
    std::unique_ptr<store::Watch> inner_;
    int left_;
  };
};

struct Harness {
  TempDir dir;
  RealClock clock;
  std::unique_ptr<store::Store> backend;
  std::unique_ptr<FaultyStore> store;
  std::unique_ptr<server::Server> server;
  int port = 0;
  std::string token;  // sent by client() when not empty

  // backend: "memory" or "sqlite".
  Result<int> start(const std::string& kind, server::ServerOptions options = {},
                    store::StoreOptions store_options = {}) {
    if (kind == "sqlite") {
      auto s = store::open_sqlite_store(dir.file("corral.db"), clock, store_options);
      if (!s) return s.take_error();
      backend = std::move(*s);
    } else {
      backend = store::open_memory_store(clock, store_options);
    }
    store = std::make_unique<FaultyStore>(*backend);
    options.host = options.host.empty() ? "127.0.0.1" : options.host;
    options.port = 0;
    server = std::make_unique<server::Server>(*store, clock, options);
    auto p = server->start();
    if (p) port = *p;
    return p;
  }

  ~Harness() {
    if (server) server->stop();
  }

  std::unique_ptr<httplib::Client> client(const std::string& with_token) const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_connection_timeout(5);
    c->set_read_timeout(30);
    if (!with_token.empty()) c->set_bearer_token_auth(with_token.c_str());
    return c;
  }
  std::unique_ptr<httplib::Client> client() const { return client(token); }
};

inline std::string write_file(const TempDir& dir, const std::string& name,
                              const std::string& text) {
  std::string path = dir.file(name);
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);  // tokens files must be private (base/private_file.h)
  return path;
}

inline Json parse(const std::string& body) {
  auto j = parse_json(body);
  EXPECT_TRUE(j.ok()) << body;
  return j ? *j : Json();
}

inline Json vm(const std::string& name, const std::string& node = "", const Labels& labels = {}) {
  Json o = {{"apiVersion", "corral/v1"},
            {"kind", "VM"},
            {"metadata", {{"name", name}}},
            {"spec",
             {{"resources", {{"cpu", "1"}, {"memory", "1Gi"}}}, {"runtime", {{"driver", "sim"}}}}}};
  if (!labels.empty()) o["metadata"]["labels"] = labels;
  if (!node.empty()) o["spec"]["nodeName"] = node;
  return o;
}

// A VMSet of sim VMs (1 CPU, 1 GiB each) in `pool`.
inline Json vmset(const std::string& name, int replicas, const std::string& pool = "web") {
  return {{"apiVersion", "corral/v1"},
          {"kind", "VMSet"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"pool", pool},
            {"replicas", replicas},
            {"template",
             {{"spec",
               {{"resources", {{"cpu", "1"}, {"memory", "1Gi"}}},
                {"runtime", {{"driver", "sim"}}}}}}}}}};
}

inline Json node(const std::string& name) {
  return {{"apiVersion", "corral/v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
}

// A well-formed heartbeat body (api/heartbeat.h) from agent `holder`.
inline Json heartbeat_body(const std::string& holder, const Labels& labels = {{"role", "web"}}) {
  return {{"holderIdentity", holder},
          {"time", format_time(std::chrono::system_clock::now())},
          {"labels", labels},
          {"capacity", {{"cpu", "4"}, {"memory", "8Gi"}}},
          {"allocatable", {{"cpu", "4"}, {"memory", "8Gi"}}},
          {"usage", {{"cpu", "1"}, {"memory", "1Gi"}}},
          {"address", "127.0.0.1:4100"},
          {"driver", "sim"},
          {"agentVersion", "test"}};
}

// Polls `cond` until it holds or `deadline` passes; no fixed sleeps. The
// default deadline is generous: the wait ends as soon as `cond` holds.
inline bool eventually(const std::function<bool()>& cond,
                       std::chrono::milliseconds deadline = std::chrono::seconds(30)) {
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

}  // namespace corral::testing
