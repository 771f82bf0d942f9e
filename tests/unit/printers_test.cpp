#include "cli/printers.h"

#include <gtest/gtest.h>

#include "api/json.h"
#include "base/clock.h"
#include "cli/get.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace printers_test {

using testing::CliHarness;

Json pool(const std::string& name, const std::string& created) {
  return Json::parse(R"({"apiVersion":"corral/v1","kind":"Pool","metadata":{"name":")" + name +
                     R"(","creationTimestamp":")" + created + R"(","labels":{"tier":"web"}},
    "spec":{"placement":"spread","overcommit":{"cpu":4,"memory":1}},
    "status":{"readyNodes":2,"totalNodes":3,"capacity":{"cpu":"8","memory":"64Gi"},
              "schedulable":{"cpu":"32","memory":"64Gi"},
              "allocated":{"cpu":"4","memory":"8Gi"},"used":{"cpu":"1500m","memory":"2Gi"},
              "meanLoad":0.423,"loadSpread":0.05,"tolerableFailures":1}})");
}

std::chrono::system_clock::time_point at(const std::string& ts) {
  std::chrono::system_clock::time_point t;
  EXPECT_TRUE(parse_time(ts, &t));
  return t;
}

TEST(Printers, TableColumnsArePaddedWithThreeSpaces) {
  std::string out = render_rows({{"NAME", "AGE"}, {"a-long-name", "5s"}, {"b", "10m"}});
  EXPECT_EQ(out,
            "NAME          AGE\n"
            "a-long-name   5s\n"
            "b             10m\n");
}

TEST(Printers, VmWideRequestsReadAsNodesDo) {
  const KindInfo& k = *find_kind("vm");
  Json vm = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"web-1"},
    "spec":{"resources":{"cpu":"0.25","memory":"1048576Ki"}}})");
  Row wide = table_row(k, vm, true, at("2026-09-21T07:38:20.000Z"));
  ASSERT_GE(wide.size(), 10u);
  EXPECT_EQ(wide[8], "250m");
  EXPECT_EQ(wide[9], "1Gi");
}

TEST(Printers, MinWidthsKeepLaterRowsAligned) { EXPECT_EQ(render_rows({{"x", "y"}}, {5}), "x       y\n"); }

TEST(Printers, PoolRowShowsNodesCapacityLoadAndAge) {
  const KindInfo& k = *find_kind("pool");
  auto now = at("2026-09-21T07:38:20.000Z");
  Row r = table_row(k, pool("web", "2026-09-21T07:33:20.000Z"), false, now);
  // CAPACITY is V = Σ Pᵢ, in cores and bytes with units; the overcommitted
  // figure is SCHEDULABLE, beside the ratios, in -o wide.
  EXPECT_EQ(r, (Row{"web", "2/3", "8c/64Gi", "4c/8Gi", "1.5c/2Gi", "42%", "5%", "1", "5m"}));
  Row wide = table_row(k, pool("web", "2026-09-21T07:33:20.000Z"), true, now);
  ASSERT_EQ(wide.size(), 12u);
  EXPECT_EQ(wide[9], "32c/64Gi");
  EXPECT_EQ(wide[10], "4x/1x");
  EXPECT_EQ(wide[11], "spread");
  EXPECT_EQ(table_headers(k, false),
            (std::vector<std::string>{"NAME", "READY", "CAPACITY", "ALLOCATED", "USED", "LOAD", "SPREAD",
                                      "TOLERATES", "AGE"}));
}

Json balancer(const std::string& reported) {
  Json b = Json::parse(R"({"apiVersion":"corral/v1","kind":"Balancer",
    "metadata":{"name":"front","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"vmSet":"web","listen":"0.0.0.0:80","mode":"http","algorithm":"weighted"},
    "status":{"meanLoad":0.423,"loadSpread":0.051,"endpoints":[
      {"vm":"web-a","health":"Healthy"},
      {"vm":"web-b","health":"Unhealthy"},
      {"vm":"web-c","health":"Healthy","draining":true},
      {"vm":"web-d"}]}})");
  if (!reported.empty()) b["status"]["lastReportTime"] = reported;
  return b;
}

TEST(Printers, BalancerRowShowsHealthyOfTotalLoadAndSpread) {
  const KindInfo& k = *find_kind("lb");
  auto now = at("2026-09-21T07:38:20.000Z");
  EXPECT_EQ(table_headers(k, false),
            (std::vector<std::string>{"NAME", "LISTEN", "MODE", "ALGORITHM", "ENDPOINTS", "LOAD",
                                      "SPREAD", "AGE"}));
  EXPECT_EQ(table_row(k, balancer(""), false, now),
            (Row{"front", "0.0.0.0:80", "http", "weighted", "2/4", "42%", "5%", "5m"}));
  EXPECT_EQ(table_headers(k, true).back(), "REPORTED");
  Row wide = table_row(k, balancer("2026-09-21T07:38:17.000Z"), true, now);
  ASSERT_EQ(wide.size(), 10u);
  EXPECT_EQ(wide[8], "1") << "draining";
  EXPECT_EQ(wide[9], "3s") << "reported";
  EXPECT_EQ(table_row(k, balancer(""), true, now)[9], "<none>");
  // No status yet.
  Json bare = balancer("");
  bare.erase("status");
  EXPECT_EQ(table_row(k, bare, true, now),
            (Row{"front", "0.0.0.0:80", "http", "weighted", "0/0", "0%", "0%", "5m", "0", "<none>"}));
}

TEST(Printers, AgeIsUnknownWithoutTimestamp) {
  auto now = at("2026-09-21T07:38:20.000Z");
  EXPECT_EQ(age_since("", now), "<unknown>");
  EXPECT_EQ(age_since("2026-09-21T05:38:20Z", now), "2h");
}

TEST(Printers, VMRowDefaultsPhaseAndNode) {
  Json vm = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"web-1"},
                            "spec":{"epoch":3},"status":{"restarts":2}})");
  Row r = table_row(*find_kind("vm"), vm, false, std::chrono::system_clock::now());
  EXPECT_EQ(r, (Row{"web-1", "Pending", "<none>", "3", "2", "<none>", "<unknown>"}));
}

TEST(Printers, VMWideRowShowsThePidItsAgentReports) {
  Json vm = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"web-1"},
    "spec":{"epoch":1,"nodeName":"node-1","resources":{"cpu":"1","memory":"1Gi"}},
    "status":{"phase":"Running","address":"127.0.0.1:40001","pid":4242}})");
  const KindInfo& k = *find_kind("vm");
  Row r = table_row(k, vm, true, std::chrono::system_clock::now());
  const Row h = table_headers(k, true);
  ASSERT_EQ(r.size(), h.size());
  ASSERT_EQ(h[7], "PID");
  EXPECT_EQ(r[7], "4242");
  vm["status"].erase("pid");
  EXPECT_EQ(table_row(k, vm, true, std::chrono::system_clock::now())[7], "<none>");
}

TEST(Printers, VMSetRowShowsDesiredCurrentAndAvailabilityAsAFraction) {
  Json set = Json::parse(R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"frontend"},
    "spec":{"pool":"web","replicas":3},
    "status":{"replicas":3,"scheduled":3,"running":2,"ready":2,"availability":0.9999}})");
  Row r = table_row(*find_kind("vmset"), set, true, std::chrono::system_clock::now());
  EXPECT_EQ(r, (Row{"frontend", "web", "3", "3", "2", "2", "0.9999", "<unknown>", "3"}));
}

TEST(Printers, PercentFormatting) {
  EXPECT_EQ(format_percent(0.423), "42%");
  EXPECT_EQ(format_percent(0.99995, 2), "100%");
  EXPECT_EQ(format_percent(0.9875, 2), "98.75%");
  EXPECT_EQ(format_percent(0), "0%");
}

TEST(Printers, OutputNameJsonYaml) {
  Json p = pool("web", "2026-09-21T07:33:20.000Z");
  EXPECT_EQ(format_objects(OutputFormat::kName, {p, pool("db", "")}, true), "pool/web\npool/db\n");
  Json one = Json::parse(format_objects(OutputFormat::kJson, {p}, false));
  EXPECT_EQ(one["kind"], "Pool");
  Json list = Json::parse(format_objects(OutputFormat::kJson, {p}, true));
  EXPECT_EQ(list["kind"], "List");
  EXPECT_EQ(list["items"].size(), 1u);
  std::string y = format_objects(OutputFormat::kYaml, {p}, false);
  EXPECT_NE(y.find("kind: Pool"), std::string::npos) << y;
  EXPECT_NE(y.find("name: web"), std::string::npos) << y;
  EXPECT_NE(format_objects(OutputFormat::kYaml, {p}, true).find("kind: List"), std::string::npos);
}

TEST(Printers, UnknownOutputFormatIsAnError) {
  EXPECT_FALSE(parse_output_format("xml").ok());
  EXPECT_EQ(*parse_output_format("wide"), OutputFormat::kWide);
}

TEST(GetCommand, SeveralKindsPrintOneTableEachWithPrefixedNames) {
  CliHarness h;
  h.client.put(pool("web", "2026-09-21T07:33:20.000Z"));
  h.client.put(Json::parse(
      R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"frontend"},"spec":{"pool":"web","replicas":3}})"));
  GetOptions o;
  o.args = {"pools,vmsets"};
  EXPECT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_NE(out.find("pool/web "), std::string::npos) << out;
  EXPECT_NE(out.find("\n\nNAME "), std::string::npos) << out;
  EXPECT_NE(out.find("vmset/frontend "), std::string::npos) << out;
}

TEST(GetCommand, KindSlashNameLabelsHeadersAndSortAsKubectl) {
  CliHarness h;
  h.client.put(pool("web", "2026-09-21T07:33:20.000Z"));
  h.client.put(pool("db", "2026-09-21T07:30:00.000Z"));
  h.client.put(Json::parse(
      R"({"apiVersion":"corral/v1","kind":"VMSet","metadata":{"name":"frontend"},"spec":{"pool":"web","replicas":3}})"));
  GetOptions o;
  o.args = {"pool/web", "vmset/frontend"};
  EXPECT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_NE(out.find("pool/web "), std::string::npos) << out;
  EXPECT_NE(out.find("vmset/frontend "), std::string::npos) << out;
  EXPECT_EQ(out.find("pool/db"), std::string::npos) << out;

  CliHarness h2;
  h2.client.put(pool("web", "2026-09-21T07:33:20.000Z"));
  h2.client.put(pool("db", "2026-09-21T07:30:00.000Z"));
  GetOptions sorted;
  sorted.args = {"pools"};
  sorted.show_labels = true;
  sorted.no_headers = true;
  sorted.sort_by = "{.metadata.creationTimestamp}";
  EXPECT_EQ(run_get(h2.ctx, sorted), 0) << h2.err.str();
  out = h2.out.str();
  EXPECT_EQ(out.find("NAME"), std::string::npos) << out;  // --no-headers
  ASSERT_NE(out.find("db"), std::string::npos);
  EXPECT_LT(out.find("db"), out.find("web")) << out;      // the older first
  EXPECT_NE(out.find("tier=web\n"), std::string::npos) << out;  // LABELS, last

  EXPECT_EQ(run_get(h2.ctx, {{"pool/web", "db"}}), 1);
  EXPECT_NE(h2.err.str().find("\"db\": write it KIND/NAME"), std::string::npos) << h2.err.str();
}

TEST(GetCommand, EmptyListSaysNoResourcesOnStderr) {
  CliHarness h;
  GetOptions o;
  o.args = {"vms"};
  o.label_selector = "app=web";
  EXPECT_EQ(run_get(h.ctx, o), 0);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_EQ(h.err.str(), "No resources found.\n");
  EXPECT_EQ(h.client.calls.back(), "list vms l=app=web");
}

TEST(GetCommand, MissingNameIsAnErrorButOthersPrint) {
  CliHarness h;
  h.client.put(pool("web", ""));
  GetOptions o;
  o.args = {"pool", "web", "nope"};
  o.output = "name";
  EXPECT_EQ(run_get(h.ctx, o), 1);
  EXPECT_EQ(h.out.str(), "pool/web\n");
  EXPECT_NE(h.err.str().find("error: pools \"nope\" not found"), std::string::npos) << h.err.str();
}

TEST(GetCommand, UnknownKindIsAnError) {
  CliHarness h;
  GetOptions o;
  o.args = {"widgets"};
  EXPECT_EQ(run_get(h.ctx, o), 1);
  EXPECT_NE(h.err.str().find("doesn't have a resource type \"widgets\""), std::string::npos);
  EXPECT_TRUE(h.client.calls.empty());
}

TEST(GetCommand, WatchPrintsTheTableThenARowPerEvent) {
  CliHarness h;
  h.client.put(pool("web", ""));
  h.client.watch_events.push_back({"ADDED", pool("database", "")});
  GetOptions o;
  o.args = {"pools"};
  o.watch = true;
  o.watch_timeout = std::chrono::seconds(2);
  EXPECT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  std::string out = h.out.str();
  EXPECT_EQ(out.find("NAME"), 0u) << out;
  EXPECT_NE(out.find("\nweb "), std::string::npos) << out;
  EXPECT_NE(out.find("\ndatabase "), std::string::npos) << out;
  // The watch starts at the list's revision.
  EXPECT_EQ(h.client.calls[1], "watch pools rv=" + std::to_string(h.client.revision));
}

Json vm(const std::string& phase, const std::string& address, const std::string& cpu_used) {
  Json v = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM",
    "metadata":{"name":"web-1","creationTimestamp":"2026-09-21T07:33:20.000Z"},
    "spec":{"nodeName":"host-1","epoch":1}})");
  v["status"]["phase"] = phase;
  if (!address.empty()) v["status"]["address"] = address;
  v["status"]["usage"]["cpu"] = cpu_used;
  return v;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(GetCommand, WatchPrintsARowOnlyWhenAPrintedColumnChanged) {
  CliHarness h;
  h.clock.set(at("2026-09-21T07:38:20.000Z"));
  h.client.put(vm("Running", "127.0.0.1:4000", "100m"));
  // Usage is not a column of the table: two status writes that only move it
  // print nothing; a new phase prints one row; a deletion prints its row.
  h.client.watch_events.push_back({"MODIFIED", vm("Running", "127.0.0.1:4000", "200m")});
  h.client.watch_events.push_back({"MODIFIED", vm("Running", "127.0.0.1:4000", "300m")});
  h.client.watch_events.push_back({"MODIFIED", vm("Failed", "", "0")});
  h.client.watch_events.push_back({"MODIFIED", vm("Failed", "", "0")});
  h.client.watch_events.push_back({"DELETED", vm("Failed", "", "0")});
  GetOptions o;
  o.args = {"vms"};
  o.watch = true;
  o.watch_timeout = std::chrono::seconds(2);
  EXPECT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  const std::string out = h.out.str();
  EXPECT_EQ(count_of(out, "Running"), 1u) << out;
  EXPECT_EQ(count_of(out, "Failed"), 2u) << "the change, then the deletion\n" << out;
}

TEST(GetCommand, WatchPrintsAnEventSeenAgainButNotAMoveOfTheClock) {
  CliHarness h;
  h.clock.set(at("2026-09-21T07:38:20.000Z"));
  auto event = [](const std::string& last) {
    Json e = Json::parse(R"({"apiVersion":"corral/v1","kind":"Event",
      "metadata":{"name":"web-1.1","creationTimestamp":"2026-09-21T07:33:20.000Z"},
      "involvedObject":{"kind":"VM","name":"web-1"},"type":"Warning","reason":"VMFailed","message":"exit 1"})");
    e["lastTimestamp"] = last;
    return e;
  };
  h.client.put(event("2026-09-21T07:38:00.000Z"));
  // The same event written again with nothing new: no row. Seen again: a row.
  h.client.watch_events.push_back({"MODIFIED", event("2026-09-21T07:38:00.000Z")});
  h.client.watch_events.push_back({"MODIFIED", event("2026-09-21T07:38:19.000Z")});
  GetOptions o;
  o.args = {"events"};
  o.watch = true;
  o.watch_timeout = std::chrono::seconds(2);
  EXPECT_EQ(run_get(h.ctx, o), 0) << h.err.str();
  EXPECT_EQ(count_of(h.out.str(), "VMFailed"), 2u) << h.out.str();
}

}  // namespace printers_test
}  // namespace corral::cli
