// What the dashboard asks of the API server: its files at /ui/ (open, with a
// strict Content-Security-Policy, nothing outside the page's own files), who
// am I (selfsubjectreviews), each node's recent usage, the watch of several
// kinds on one stream (a snapshot, a BOOKMARK, then changes), and the
// same-origin requests a page of the server's own makes without tokens.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "api/json.h"
#include "tests/integration/server_fixture.h"

namespace corral::testing {
namespace dashboard_api_test {

constexpr const char* kJson = "application/json";
constexpr const char* kTokens =
    "admin-token,root,admin\n"
    "viewer-token,alice,viewer\n"
    "node-a-token,agent-a,node:host-a\n";

// Reads a stream of NDJSON lines until `stop_after` lines came or it ends.
struct Stream {
  int status = 0;
  std::string body;
  std::vector<Json> lines;
};
Stream read_stream(httplib::Client& c, const std::string& path, size_t stop_after) {
  Stream out;
  std::string pending;
  c.Get(
      path, httplib::Headers{},
      [&](const httplib::Response& res) {
        out.status = res.status;
        return true;
      },
      [&](const char* data, size_t len) {
        out.body.append(data, len);
        if (out.status != 200) return true;
        pending.append(data, len);
        for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1))
          out.lines.push_back(parse(pending.substr(0, nl)));
        return out.lines.size() < stop_after;
      });
  return out;
}

std::vector<std::string> kinds_and_types(const std::vector<Json>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines)
    out.push_back(l.value("type", "") + " " + l["object"].value("kind", "") + "/" +
                  l["object"]["metadata"].value("name", ""));
  return out;
}

class DashboardApiTest : public ::testing::Test {
 protected:
  void start(server::ServerOptions o = {}) {
    if (o.tokens_file.empty()) o.tokens_file = write_file(h_.dir, "tokens.csv", kTokens);
    auto port = h_.start("memory", o);
    ASSERT_TRUE(port.ok()) << port.error().to_string();
    admin_ = h_.client("admin-token");
    viewer_ = h_.client("viewer-token");
    anonymous_ = h_.client("");
  }
  Harness h_;
  std::unique_ptr<httplib::Client> admin_, viewer_, anonymous_;
};

TEST_F(DashboardApiTest, ServesItsFilesOpenlyWithAStrictPolicy) {
  start();
  auto index = anonymous_->Get("/ui/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(index->body.find("<script type=\"module\" src=\"app.js\">"), std::string::npos);
  const std::string csp = index->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");

  auto app = anonymous_->Get("/ui/app.js");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_EQ(app->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_NE(app->body.find("ClusterFeed"), std::string::npos);

  auto bare = anonymous_->Get("/ui");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 301);
  EXPECT_EQ(bare->get_header_value("Location"), "/ui/");

  // Nothing but the page's own files: no paths, no dot files, no other types.
  for (const char* path : {"/ui/../tokens.csv", "/ui/%2e%2e/tokens.csv", "/ui/missing.js", "/ui/.hidden.js",
                           "/ui/index.html.bak", "/ui/sub/app.js"}) {
    auto r = anonymous_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 404) << path << ": " << r->body;
  }
  auto post = admin_->Post("/ui/app.js", "{}", kJson);
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(DashboardApiTest, ServesAnInstalledCopyWhenGivenOne) {
  TempDir ui;
  std::ofstream(ui.file("index.html")) << "<!doctype html><title>installed copy</title>";
  server::ServerOptions o;
  o.ui_dir = ui.path().string();
  start(o);
  auto index = anonymous_->Get("/ui/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("installed copy"), std::string::npos);
  auto app = anonymous_->Get("/ui/app.js");  // not in that directory
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 404);
}

TEST_F(DashboardApiTest, SelfSubjectReviewNamesTheUserAndRole) {
  start();
  const std::string path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
  const std::string body = R"({"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"})";
  auto admin = admin_->Post(path, body, kJson);
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 201) << admin->body;
  Json a = parse(admin->body);
  EXPECT_EQ(a["status"]["userInfo"]["username"], "root");
  EXPECT_EQ(a["status"]["userInfo"]["groups"], Json::array({"corral:admin"}));
  // A viewer may ask too (it is no write), and is told it is a viewer.
  auto viewer = viewer_->Post(path, body, kJson);
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->status, 201) << viewer->body;
  EXPECT_EQ(parse(viewer->body)["status"]["userInfo"]["groups"], Json::array({"corral:viewer"}));
  auto nobody = anonymous_->Post(path, body, kJson);
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 401);
}

TEST_F(DashboardApiTest, UsageHistoryIsForThoseWhoMaySeeNodes) {
  start();
  // No history source set in this harness: 503, after authentication.
  auto nobody = anonymous_->Get("/usage/nodes");
  ASSERT_TRUE(nobody);
  EXPECT_EQ(nobody->status, 401);
  auto viewer = viewer_->Get("/usage/nodes");
  ASSERT_TRUE(viewer);
  EXPECT_EQ(viewer->status, 503) << viewer->body;
  EXPECT_NE(viewer->body.find("no usage history"), std::string::npos);
}

TEST_F(DashboardApiTest, WatchOfSeveralKindsSendsASnapshotABookmarkThenChanges) {
  start();
  ASSERT_EQ(admin_->Post("/apis/corral/v1/nodes", node("host-a").dump(), kJson)->status, 201);
  ASSERT_EQ(admin_->Post("/apis/corral/v1/vms", vm("vm-1", "host-a").dump(), kJson)->status, 201);
  const Json secret = {{"apiVersion", "corral/v1"}, {"kind", "Secret"},
                       {"metadata", {{"name", "s"}}}, {"stringData", {{"k", "hidden"}}}};
  ASSERT_EQ(admin_->Post("/apis/corral/v1/secrets", secret.dump(), kJson)->status, 201);
  auto pool = admin_->Post("/apis/corral/v1/pools",
                           R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":"p"}})", kJson);
  ASSERT_EQ(pool->status, 201) << pool->body;
  const int64_t revision = std::stoll(parse(pool->body)["metadata"].value("resourceVersion", "0"));

  // The snapshot: nodes and VMs only (no Pool, no Secret), then the bookmark
  // as of the snapshot's revision.
  auto s = read_stream(*viewer_, "/apis/corral/v1/watch?kinds=nodes,vms&timeoutSeconds=2", 3);
  ASSERT_EQ(s.status, 200) << s.body;
  ASSERT_EQ(s.lines.size(), 3u) << s.body;
  std::vector<std::string> first = kinds_and_types({s.lines[0], s.lines[1]});
  std::sort(first.begin(), first.end());
  EXPECT_EQ(first, (std::vector<std::string>{"ADDED Node/host-a", "ADDED VM/vm-1"}));
  EXPECT_EQ(s.lines[2]["type"], "BOOKMARK");
  EXPECT_EQ(s.lines[2]["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
  EXPECT_EQ(s.lines[2]["object"]["metadata"]["resourceVersion"], std::to_string(revision));
  EXPECT_EQ(s.body.find("hidden"), std::string::npos);

  // From that revision: the changes after it, of the kinds asked for only.
  ASSERT_EQ(admin_->Post("/apis/corral/v1/vms", vm("vm-2", "host-a").dump(), kJson)->status, 201);
  ASSERT_EQ(admin_->Delete("/apis/corral/v1/pools/p")->status, 200);
  ASSERT_EQ(admin_->Delete("/apis/corral/v1/vms/vm-1")->status, 200);
  auto changes = read_stream(
      *viewer_, "/apis/corral/v1/watch?kinds=vms,nodes&timeoutSeconds=2&resourceVersion=" + std::to_string(revision), 2);
  ASSERT_EQ(changes.status, 200) << changes.body;
  EXPECT_EQ(kinds_and_types(changes.lines),
            (std::vector<std::string>{"ADDED VM/vm-2", "DELETED VM/vm-1"}));
}

TEST_F(DashboardApiTest, WatchOfSeveralKindsOfAnEmptyClusterStillEndsItsSnapshot) {
  start();
  auto s = read_stream(*viewer_, "/apis/corral/v1/watch?kinds=nodes,vms&timeoutSeconds=5", 1);
  ASSERT_EQ(s.status, 200) << s.body;
  ASSERT_EQ(s.lines.size(), 1u) << "no BOOKMARK before the timeout: " << s.body;
  EXPECT_EQ(s.lines[0]["type"], "BOOKMARK");
}

TEST_F(DashboardApiTest, WatchOfSeveralKindsIsAuthorisedKindByKind) {
  start();
  auto node_client = h_.client("node-a-token");
  struct Case { httplib::Client* client; std::string kinds; int status; std::string says; };
  const std::vector<Case> cases = {
      {viewer_.get(), "nodes,secrets", 400, "secrets are watched alone"},
      {admin_.get(), "nodes,gadgets", 400, "unknown resource \\\"gadgets\\\""},
      {admin_.get(), "", 400, "kinds is required"},
      {node_client.get(), "nodes,vmsets", 403, "nodes may not read VMSets"},
      {anonymous_.get(), "nodes", 401, ""},
  };
  for (const auto& c : cases) {
    auto r = c.client->Get("/apis/corral/v1/watch?kinds=" + c.kinds + "&timeoutSeconds=1");
    ASSERT_TRUE(r) << c.kinds;
    EXPECT_EQ(r->status, c.status) << c.kinds << ": " << r->body;
    EXPECT_NE(r->body.find(c.says), std::string::npos) << c.kinds << ": " << r->body;
  }
  auto selector = admin_->Get("/apis/corral/v1/watch?kinds=vms&labelSelector=a%3Db");
  ASSERT_TRUE(selector);
  EXPECT_EQ(selector->status, 400) << selector->body;
}

TEST_F(DashboardApiTest, WithoutTokensOnlyThePagesOwnOriginPasses) {
  server::ServerOptions o;
  o.tokens_file = "";
  auto port = h_.start("memory", o);
  ASSERT_TRUE(port.ok());
  auto c = h_.client("");
  const std::string own = "http://127.0.0.1:" + std::to_string(*port);
  auto same = c->Patch("/apis/corral/v1/nodes/none", httplib::Headers{{"Origin", own}}, "{}",
                       "application/merge-patch+json");
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 404) << same->body;  // past the gate: the node does not exist
  auto foreign = c->Patch("/apis/corral/v1/nodes/none", httplib::Headers{{"Origin", "http://evil.example"}},
                          "{}", "application/merge-patch+json");
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 403) << foreign->body;
  auto https_claim = c->Patch("/apis/corral/v1/nodes/none",
                              httplib::Headers{{"Origin", "https://127.0.0.1:" + std::to_string(*port)}}, "{}",
                              "application/merge-patch+json");
  ASSERT_TRUE(https_claim);
  EXPECT_EQ(https_claim->status, 403) << "another scheme is another origin";
}

}  // namespace dashboard_api_test
}  // namespace corral::testing
