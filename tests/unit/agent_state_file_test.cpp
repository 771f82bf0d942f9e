#include <gtest/gtest.h>

#include <fstream>

#include "agent/state_file.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_state_file_test {

AgentState sample() {
  AgentState s;
  s.vms["web-1"] = StateEntry{3, "process", 4242, 991234567, 40001};
  s.vms["web-2"] = StateEntry{1, "sim", 0, 0, 0};
  return s;
}

void write_raw(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(StateFile, RoundTrips) {
  corral::testing::TempDir dir;
  auto path = dir.file("state.json");
  ASSERT_TRUE(write_state_file(path, sample()).ok());
  auto back = read_state_file(path);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, sample());
  // Overwriting replaces the whole file and leaves no temp files behind.
  AgentState one;
  one.vms["db-1"] = StateEntry{7, "process", 1, 2, 3};
  ASSERT_TRUE(write_state_file(path, one).ok());
  EXPECT_EQ(*read_state_file(path), one);
  int files = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1);
}

TEST(StateFile, MissingFileIsAnEmptyState) {
  corral::testing::TempDir dir;
  auto back = read_state_file(dir.file("none.json"));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(back->vms.empty());
}

TEST(StateFile, TruncatedFileIsDetected) {
  corral::testing::TempDir dir;
  auto path = dir.file("state.json");
  ASSERT_TRUE(write_state_file(path, sample()).ok());
  auto size = std::filesystem::file_size(path);
  std::filesystem::resize_file(path, size / 2);
  auto back = read_state_file(path);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.error().code, ErrorCode::kInvalid);
  EXPECT_NE(back.error().message.find(path), std::string::npos) << back.error().message;
}

TEST(StateFile, CorruptContentIsDetected) {
  corral::testing::TempDir dir;
  auto path = dir.file("state.json");
  const char* bad[] = {
      "",
      "\x01\x02garbage",
      "[]",
      R"({"vms": {}})",
      R"({"version": 99, "vms": {}})",
      R"({"version": 1, "vms": []})",
      R"({"version": 1, "vms": {"a": 5}})",
      R"({"version": 1, "vms": {"a": {"epoch": "x", "driver": "process", "pid": 1, "startTime": 1, "port": 1}}})",
      R"({"version": 1, "vms": {"a": {"epoch": 1, "driver": "process", "pid": 1, "startTime": -5, "port": 1}}})",
      R"({"version": 1, "vms": {"a": {"epoch": 1, "pid": 1, "startTime": 1, "port": 1}}})",
      R"({"version": 1, "vms": {"a": {"epoch": 1, "driver": "process", "pid": 99999999999, "startTime": 1, "port": 1}}})",
  };
  for (const char* text : bad) {
    write_raw(path, text);
    auto back = read_state_file(path);
    ASSERT_FALSE(back.ok()) << "accepted: " << text;
    EXPECT_EQ(back.error().code, ErrorCode::kInvalid) << text;
    EXPECT_NE(back.error().message.find("state file " + path), std::string::npos)
        << back.error().message;
  }
}

TEST(StateFile, UnwritableDirectoryIsAnError) {
  auto w = write_state_file("/nonexistent-dir-for-corral/state.json", sample());
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().message.find("/nonexistent-dir-for-corral/state.json"), std::string::npos);
}

}  // namespace agent_state_file_test
}  // namespace corral::agent
