// The full-disk test: the controller's data dir on a small tmpfs, creates
// until a commit fails. A failed commit is fatal (controller/store/README.md):
// the controller exits with code 74 and says why; on a bigger disk the restart
// has every acknowledged write, its revision continues past every
// acknowledged one, and a watch from the last acknowledged revision skips
// nothing. A store that cannot be written (a full disk, a read-only one) is
// refused at open, naming its file. Needs root (mount); skipped with the
// reason otherwise.
#include <gtest/gtest.h>
#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>

#include "api/json.h"
#include "client/client.h"
#include "tests/support/cluster.h"

namespace corral::testing {
namespace full_disk_test {

// The exit code of a controller whose store failed to commit
// (controller/store/fatal_commit.h; e2e tests see only the binaries).
constexpr int kExitCommitFailed = 74;
// Small enough to fill in well under a second of creates.
constexpr const char* kSmallSize = "size=6m";
constexpr const char* kBigSize = "size=64m";
// Each create carries this much annotation: about 100 creates fill 6 MiB.
constexpr size_t kPayloadBytes = 64 * 1024;
constexpr int kMaxCreates = 1000;

// A tmpfs mounted on `dir` for the test's lifetime.
class Tmpfs {
 public:
  explicit Tmpfs(std::filesystem::path dir) : dir_(std::move(dir)) {
    std::filesystem::create_directories(dir_);
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, kSmallSize) != 0) {
      error_ = std::string("mount -t tmpfs -o ") + kSmallSize + " " + dir_.string() + ": " +
               std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~Tmpfs() {
    // Lazily: a child the test failed to reap must not keep it mounted.
    if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  bool remount(const char* options) {
    return ::mount("tmpfs", dir_.c_str(), "tmpfs", MS_REMOUNT, options) == 0;
  }

 private:
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::string error_;
};

Json big_vm(const std::string& name, const std::string& payload) {
  return Json{
      {"apiVersion", "corral/v1"},
      {"kind", "VM"},
      {"metadata",
       {{"name", name},
        {"labels", {{"test", "full-disk"}}},
        {"annotations", {{"payload", payload}}}}},
      {"spec",
       {{"resources", {{"cpu", "10m"}, {"memory", "16Mi"}}}, {"runtime", {{"driver", "sim"}}}}}};
}

uint64_t revision_of(const Json& object) {
  std::string rv = object["metadata"].value("resourceVersion", "");
  return rv.empty() ? 0 : std::stoull(rv);
}

// Writes zeros to `path` until the filesystem is full.
void fill(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::string block(64 * 1024, '\0');
  while (out.write(block.data(), static_cast<std::streamsize>(block.size())) && out.flush()) {
  }
}

TEST(FullDisk, FailedCommitExitsAndTheRestartKeepsEveryAcknowledgedWrite) {
  TempDir dir;
  Tmpfs disk(dir.path() / "disk");
  if (!disk.mounted()) GTEST_SKIP() << "needs a tmpfs (root): " << disk.error();
  const std::string data_dir = (dir.path() / "disk" / "data").string();
  const std::string db = data_dir + "/corral.db";

  ControllerOptions o;
  o.binary = controller_binary();
  o.data_dir = data_dir;
  // API only: every write is one of this test's, and each is checked.
  o.extra_args = {"--no-loops"};
  Controller controller(o);
  std::string error;
  ASSERT_TRUE(controller.start(&error)) << error;

  // Creates until one fails: the disk is full.
  std::map<std::string, uint64_t> acked;  // name → resourceVersion
  std::string failure;
  {
    ClientConfig cfg;
    cfg.server = controller.url();
    cfg.timeout = std::chrono::milliseconds(30'000);
    ApiClient api(cfg);
    const std::string payload(kPayloadBytes, 'x');
    for (int i = 0; i < kMaxCreates && failure.empty(); ++i) {
      std::string name = "full-" + std::to_string(i);
      Json body = big_vm(name, payload);
      auto r = api.call("POST", ApiClient::resource_path("vms"), &body);
      if (r) {
        acked[name] = revision_of(*r);
      } else {
        failure = r.error().to_string();
      }
    }
  }
  ASSERT_FALSE(failure.empty()) << kMaxCreates << " creates fitted on a " << kSmallSize << " tmpfs";
  ASSERT_FALSE(acked.empty()) << "the first create failed: " << failure;

  std::cout << acked.size() << " creates acknowledged, then: " << failure << "\n";

  // The controller exits by itself, with its own code and the reason.
  auto code = controller.process()->wait(std::chrono::milliseconds(10'000));
  ASSERT_TRUE(code.has_value()) << "the controller still runs after a failed commit (" << failure
                                << "):\n"
                                << controller.logs();
  EXPECT_EQ(*code, kExitCommitFailed) << controller.logs();
  const std::string logs = controller.logs();
  EXPECT_NE(logs.find("commit of revision"), std::string::npos) << logs;
  EXPECT_NE(logs.find(db), std::string::npos) << logs;
  EXPECT_NE(logs.find("database or disk is full"), std::string::npos) << logs;
  EXPECT_NE(logs.find("exiting with code 74"), std::string::npos) << logs;

  // A new store on the full disk is refused at open, naming its file.
  {
    // Its directory first: on a full tmpfs even a directory may not fit,
    // and that is refused before the store is opened.
    const std::string fresh = (dir.path() / "disk" / "fresh").string();
    std::filesystem::create_directories(fresh);
    // The controller refuses a data dir open to other users.
    std::filesystem::permissions(fresh, std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace);
    fill((dir.path() / "disk" / "filler").string());
    auto r = run_command(controller_binary(),
                         {"--listen", "127.0.0.1:0", "--data-dir", fresh, "--no-loops"});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find(fresh + "/corral.db"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("full"), std::string::npos) << r.err;
    std::filesystem::remove(dir.path() / "disk" / "filler");
  }

  // Room again: the restart recovers what is on disk.
  ASSERT_TRUE(disk.remount(kBigSize)) << "remount " << kBigSize << ": " << std::strerror(errno);
  ASSERT_TRUE(controller.start(&error)) << error;
  ClientConfig cfg;
  cfg.server = controller.url();
  ApiClient api(cfg);
  auto list = api.call("GET", ApiClient::resource_path("vms") + "?labelSelector=test%3Dfull-disk");
  ASSERT_TRUE(list.ok()) << list.error().to_string();
  std::map<std::string, uint64_t> stored;
  for (const auto& item : (*list)["items"])
    stored[item["metadata"].value("name", "")] = revision_of(item);
  uint64_t max_acked = 0;
  for (const auto& [name, rv] : acked) {
    max_acked = std::max(max_acked, rv);
    auto it = stored.find(name);
    if (it == stored.end()) {
      ADD_FAILURE() << "acknowledged create " << name << " (rv " << rv << ") lost";
      continue;
    }
    EXPECT_EQ(it->second, rv) << name;
  }
  // At most the one create that failed may have landed besides them.
  EXPECT_LE(stored.size(), acked.size() + 1);
  const uint64_t list_revision = revision_of(*list);
  EXPECT_GE(list_revision, max_acked);
  std::cout << "after the restart: revision " << list_revision << ", last acknowledged "
            << max_acked << ", " << stored.size() << " objects\n";

  // The revision continues past every acknowledged one: nothing is reused.
  Json body = big_vm("after-restart", "small");
  auto after = api.call("POST", ApiClient::resource_path("vms"), &body);
  ASSERT_TRUE(after.ok()) << after.error().to_string();
  EXPECT_GT(revision_of(*after), list_revision);
  EXPECT_GT(revision_of(*after), max_acked);

  // A watch from the last acknowledged revision skips nothing: its next event
  // is the create above, or, when the failed write landed and moved the
  // revision on, it is told to re-list (410 Gone).
  std::string first_line;
  auto watched = api.stream_lines(
      ApiClient::resource_path("vms") + "?watch=true&resourceVersion=" + std::to_string(max_acked),
      [&](const std::string& line) {
        first_line = line;
        return false;
      },
      std::chrono::milliseconds(10'000));
  if (list_revision > max_acked) {
    ASSERT_FALSE(watched.ok()) << "watch from " << max_acked << " started: " << first_line;
    EXPECT_EQ(watched.error().code, ErrorCode::kGone) << watched.error().to_string();
  } else {
    ASSERT_TRUE(watched.ok()) << watched.error().to_string();
    ASSERT_FALSE(first_line.empty());
    Json event = Json::parse(first_line);
    EXPECT_EQ(event.value("type", ""), "ADDED") << first_line;
    EXPECT_EQ(event["object"]["metadata"].value("name", ""), "after-restart")
        << first_line.substr(0, 300);
  }
  controller.stop();

  // A store on a read-only filesystem is refused at open, naming its file
  // (SQLite alone would open it read-only and fail at the first write).
  ASSERT_TRUE(disk.remount("ro")) << "remount ro: " << std::strerror(errno);
  auto r = run_command(controller_binary(),
                       {"--listen", "127.0.0.1:0", "--data-dir", data_dir, "--no-loops"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(db + ": open: the file is read-only"), std::string::npos) << r.err;
}

}  // namespace full_disk_test
}  // namespace corral::testing
