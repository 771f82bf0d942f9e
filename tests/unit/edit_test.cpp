// corralctl edit against the fake client, the editor run in process.
#include "cli/edit.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/json.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace edit_test {

using testing::CliHarness;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream b;
  b << in.rdbuf();
  return b.str();
}

// An "editor" that replaces `from` by `to` in the file, remembering its path.
std::function<int(const std::string&)> replacing(const std::string& from, const std::string& to,
                                                 std::string* seen = nullptr) {
  return [=](const std::string& file) {
    if (seen) *seen = file;
    std::string text = slurp(file);
    if (auto at = text.find(from); at != std::string::npos) text.replace(at, from.size(), to);
    std::ofstream(file) << text;
    return 0;
  };
}

class EditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    h_.client.put(Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"web"},
      "spec":{"pool":"web","replicas":2}})"));
  }
  EditOptions options(std::function<int(const std::string&)> editor) {
    return {{"vmset", "web"}, std::move(editor), dir_.path().string()};
  }
  CliHarness h_;
  testing::TempDir dir_;
};

TEST_F(EditTest, TheEditIsSentPinnedToTheVersionOpened) {
  const std::string rv = h_.client.objects["vmsets"]["web"]["metadata"]["resourceVersion"];
  std::string file;
  EXPECT_EQ(run_edit(h_.ctx, options(replacing("replicas: 2", "replicas: 5", &file))), kExitOk)
      << h_.err.str();
  EXPECT_EQ(h_.client.objects["vmsets"]["web"]["spec"]["replicas"], 5);
  EXPECT_EQ(h_.client.calls.back(), "replace vmsets/web rv=" + rv);
  EXPECT_EQ(h_.out.str(), "vmset/web edited\n");
  EXPECT_FALSE(std::filesystem::exists(file)) << "the file of a saved edit is removed";
}

TEST_F(EditTest, NothingChangedOrAnEmptyFileCancels) {
  const size_t writes = h_.client.writes();
  EXPECT_EQ(run_edit(h_.ctx, options([](const std::string&) { return 0; })), kExitOk);
  EXPECT_EQ(h_.out.str(), "Edit cancelled, no changes made.\n");
  EXPECT_EQ(run_edit(h_.ctx, options([](const std::string& f) {
              std::ofstream(f) << "# only a comment\n\n";
              return 0;
            })),
            kExitOk);
  EXPECT_NE(h_.out.str().find("Edit cancelled, the saved file was empty."), std::string::npos);
  EXPECT_EQ(run_edit(h_.ctx, options([](const std::string&) { return 1; })), kExitError);
  EXPECT_NE(h_.err.str().find("the editor exited with status 1"), std::string::npos);
  EXPECT_EQ(h_.client.writes(), writes);
}

TEST_F(EditTest, ARefusedEditKeepsTheFile) {
  // Someone else wrote the set meanwhile.
  h_.client.fail["replace vmsets/web"] = {make_error(ErrorCode::kConflict, "the object has been modified")};
  std::string file;
  EXPECT_EQ(run_edit(h_.ctx, options(replacing("replicas: 2", "replicas: 7", &file))), kExitError);
  EXPECT_NE(h_.err.str().find("vmset/web was changed by someone else while you edited it"),
            std::string::npos)
      << h_.err.str();
  EXPECT_NE(h_.err.str().find("your edit is kept in " + file), std::string::npos);
  EXPECT_NE(slurp(file).find("replicas: 7"), std::string::npos);
  EXPECT_EQ(h_.client.objects["vmsets"]["web"]["spec"]["replicas"], 2);

  // Another name would be another object.
  EXPECT_EQ(run_edit(h_.ctx, options(replacing("name: web", "name: other"))), kExitError);
  EXPECT_NE(h_.err.str().find("the kind and the name may not change"), std::string::npos);
  // Not YAML at all.
  EXPECT_EQ(run_edit(h_.ctx, options(replacing("replicas: 2", "replicas: [2"))), kExitError);
  EXPECT_NE(h_.err.str().find("corralctl-edit-"), std::string::npos) << h_.err.str();
}

TEST_F(EditTest, KindSlashNameAndBadArguments) {
  EXPECT_EQ(run_edit(h_.ctx, {{"vmset/web"}, replacing("replicas: 2", "replicas: 3"), dir_.path().string()}),
            kExitOk)
      << h_.err.str();
  EXPECT_EQ(h_.client.objects["vmsets"]["web"]["spec"]["replicas"], 3);
  EXPECT_EQ(run_edit(h_.ctx, {{"vmset"}, nullptr, ""}), kExitError);
  EXPECT_EQ(run_edit(h_.ctx, {{"vmset", "missing"}, nullptr, ""}), kExitError);
  EXPECT_NE(h_.err.str().find("not found"), std::string::npos);
}

}  // namespace edit_test
}  // namespace corral::cli
