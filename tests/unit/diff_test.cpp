#include "cli/diff.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "cli/line_diff.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace diff_test {

using testing::CliHarness;
using testing::TempDir;
using testing::write_file;

TEST(LineDiff, EqualTextsHaveNoDiff) { EXPECT_EQ(unified_diff("a\nb\n", "a\nb\n", "x", "y"), ""); }

TEST(LineDiff, OneChangedLineWithContext) {
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n";
  std::string b = "1\n2\n3\n4\nfive\n6\n7\n8\n";
  EXPECT_EQ(unified_diff(a, b, "live", "desired"),
            "--- live\n+++ desired\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(LineDiff, NewFileIsAllAdded) {
  EXPECT_EQ(unified_diff("", "a\nb\n", "live", "desired"),
            "--- live\n+++ desired\n@@ -0,0 +1,2 @@\n+a\n+b\n");
}

TEST(LineDiff, FarApartChangesMakeTwoHunks) {
  std::string a, b;
  for (int i = 0; i < 20; ++i) {
    a += std::to_string(i) + "\n";
    b += (i == 1 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  std::string d = unified_diff(a, b, "a", "b");
  EXPECT_NE(d.find("@@ -1,5 +1,5 @@"), std::string::npos) << d;
  EXPECT_NE(d.find("@@ -16,5 +16,5 @@"), std::string::npos) << d;
}

const char* kPool = "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: web}\nspec: {placement: binpack}\n";

TEST(DiffCommand, NewObjectShowsAsAddedAndExitsOne) {
  CliHarness h;
  TempDir dir;
  write_file(dir.file("p.yaml"), kPool);
  EXPECT_EQ(run_diff(h.ctx, {{dir.file("p.yaml")}}), 1) << h.err.str();
  std::string out = h.out.str();
  EXPECT_NE(out.find("--- live/pool/web\n+++ desired/pool/web\n"), std::string::npos) << out;
  EXPECT_NE(out.find("+kind: Pool"), std::string::npos) << out;
  EXPECT_NE(out.find("+  placement: binpack"), std::string::npos) << out;
  EXPECT_EQ(h.client.writes(), 0u);
}

TEST(DiffCommand, SameObjectExitsZeroAndChangedShowsTheLine) {
  CliHarness h;
  TempDir dir;
  // What apply would have stored for a Pool without spec: the defaults.
  auto live =
      normalize_object(Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"web"}})"));
  ASSERT_TRUE(live.ok()) << live.error().to_string();
  Json stored = h.client.put(*live);
  h.client.objects["pools"]["web"]["status"] = {{"readyNodes", 1}};

  write_file(dir.file("p.yaml"), kPool);
  EXPECT_EQ(run_diff(h.ctx, {{dir.file("p.yaml")}}), 1);
  EXPECT_NE(h.out.str().find("-  placement: spread\n+  placement: binpack\n"), std::string::npos)
      << h.out.str();

  write_file(dir.file("same.yaml"), "apiVersion: corral/v1\nkind: Pool\nmetadata: {name: web}\n");
  h.out.str("");
  EXPECT_EQ(run_diff(h.ctx, {{dir.file("same.yaml")}}), 0) << h.out.str() << h.err.str();
  EXPECT_EQ(h.out.str(), "");
}

TEST(DiffCommand, ErrorsExitTwo) {
  CliHarness h;
  EXPECT_EQ(run_diff(h.ctx, {{"/nonexistent/x.yaml"}}), 2);
  EXPECT_EQ(h.err.str().rfind("error: ", 0), 0u);
  TempDir dir;
  write_file(dir.file("p.yaml"), kPool);
  h.client.fail["get pools/web"] = {make_error(ErrorCode::kUnauthorized, "Unauthorized")};
  EXPECT_EQ(run_diff(h.ctx, {{dir.file("p.yaml")}}), 2);
}

}  // namespace diff_test
}  // namespace corral::cli
