// The crash test: creates stream in while the controller is killed with
// SIGKILL; after a restart on the same data dir every acknowledged create is
// there, with the resourceVersion it was acknowledged with.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"

namespace corral::testing {
namespace crash_test {

constexpr int kAcksBeforeCrash = 200;

Json small_vm(const std::string& name) {
  return Json{
      {"apiVersion", "corral/v1"},
      {"kind", "VM"},
      {"metadata", {{"name", name}, {"labels", {{"test", "crash"}}}}},
      {"spec", {{"resources", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"runtime", {{"driver", "sim"}}}}}};
}

uint64_t revision_of(const std::string& rv) { return rv.empty() ? 0 : std::stoull(rv); }

TEST(Crash, AcknowledgedCreatesSurviveKill9) {
  TempDir dir;
  ControllerOptions o;
  o.binary = controller_binary();
  o.data_dir = (dir.path() / "data").string();
  // API only: the control loops would write status to these VMs (they fit
  // nowhere) and move their resourceVersions on, which is what is checked.
  o.extra_args = {"--no-loops"};
  Controller controller(o);
  std::string error;
  ASSERT_TRUE(controller.start(&error)) << error;
  const std::string first_url = controller.url();

  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, std::string> acked;  // name → resourceVersion; guarded by mu
  std::atomic<bool> stop{false};
  std::string writer_error;  // guarded by mu

  std::thread writer([&] {
    ClientConfig cfg;
    cfg.server = first_url;
    // Generous: under load a create may be slow; one that fails before the
    // crash fails the test. (After the kill, requests fail at once: refused.)
    cfg.timeout = std::chrono::milliseconds(30'000);
    ApiClient api(cfg);
    for (int i = 0; !stop; ++i) {
      std::string name = "crash-" + std::to_string(i);
      Json body = small_vm(name);
      auto r = api.call("POST", ApiClient::resource_path("vms"), &body);
      if (!r) {
        // The controller died mid-stream: expected once it was killed.
        std::lock_guard lock(mu);
        writer_error = r.error().to_string();
        break;
      }
      std::lock_guard lock(mu);
      acked[name] = (*r)["metadata"].value("resourceVersion", "");
      cv.notify_all();
    }
    cv.notify_all();
  });

  {
    std::unique_lock lock(mu);
    bool enough = cv.wait_for(lock, std::chrono::seconds(60), [&] {
      return acked.size() >= static_cast<size_t>(kAcksBeforeCrash) || !writer_error.empty();
    });
    ASSERT_TRUE(enough) << "only " << acked.size() << " creates acknowledged in 60 s";
    ASSERT_TRUE(writer_error.empty()) << "a create failed before the crash: " << writer_error;
  }
  controller.kill_hard();  // mid-stream: the writer is still posting
  stop = true;
  writer.join();

  std::map<std::string, std::string> acks;
  {
    std::lock_guard lock(mu);
    acks = acked;
  }
  ASSERT_GE(acks.size(), static_cast<size_t>(kAcksBeforeCrash));

  ASSERT_TRUE(controller.start(&error)) << error;
  ClientConfig cfg;
  cfg.server = controller.url();
  ApiClient api(cfg);
  auto list = api.call("GET", ApiClient::resource_path("vms") + "?labelSelector=test%3Dcrash");
  ASSERT_TRUE(list.ok()) << list.error().to_string();

  std::map<std::string, std::string> stored;
  std::set<std::string> seen;
  for (const auto& item : (*list)["items"]) {
    std::string name = item["metadata"].value("name", "");
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    stored[name] = item["metadata"].value("resourceVersion", "");
  }
  uint64_t list_revision = revision_of((*list)["metadata"].value("resourceVersion", ""));
  uint64_t max_acked = 0;
  for (const auto& [name, rv] : acks) {
    max_acked = std::max(max_acked, revision_of(rv));
    auto it = stored.find(name);
    if (it == stored.end()) {
      ADD_FAILURE() << "acknowledged create " << name << " (rv " << rv << ") lost";
      continue;
    }
    EXPECT_EQ(it->second, rv) << name;
  }
  EXPECT_GE(list_revision, max_acked);
  // An unacknowledged create may or may not have landed; nothing else may.
  EXPECT_LE(stored.size(), acks.size() + 1);

  Json body = small_vm("after-restart");
  auto created = api.call("POST", ApiClient::resource_path("vms"), &body);
  ASSERT_TRUE(created.ok()) << created.error().to_string();
  EXPECT_GT(revision_of((*created)["metadata"].value("resourceVersion", "")), max_acked);
}

}  // namespace crash_test
}  // namespace corral::testing
