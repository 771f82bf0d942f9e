// get nodes, top, cordon/uncordon and logs against the fake clients.
#include <gtest/gtest.h>

#include "api/json.h"
#include "cli/cordon.h"
#include "cli/drain.h"
#include "cli/get.h"
#include "cli/logs.h"
#include "cli/printers.h"
#include "cli/top.h"
#include "api/units.h"
#include "tests/unit/cli_test_context.h"

namespace corral::cli {
namespace node_commands_test {

using testing::CliHarness;

Json node(const std::string& name, const std::string& cpu_used, const std::string& mem_used) {
  Json n =
      Json::parse(R"({"apiVersion":"corral/v1","kind":"Node","metadata":{"name":"","labels":{"zone":"a"}},
    "spec":{},
    "status":{"phase":"Ready","allocatable":{"cpu":"4","memory":"16Gi"},"usage":{},
              "lastHeartbeatTime":"2026-09-21T07:38:17.000Z","availability":0.999,
              "address":"127.0.0.1:9001","driver":"sim","agentVersion":"v0.3.0"}})");
  n["metadata"]["name"] = name;
  n["status"]["usage"]["cpu"] = cpu_used;
  n["status"]["usage"]["memory"] = mem_used;
  return n;
}

Json vm(const std::string& name, const std::string& node_name, const std::string& phase) {
  Json v = Json::parse(R"({"apiVersion":"corral/v1","kind":"VM","metadata":{"name":"","labels":{"app":"web"}},
    "spec":{"resources":{"cpu":"1","memory":"1Gi"},"epoch":1},
    "status":{"usage":{"cpu":"250m","memory":"512Mi"}}})");
  v["metadata"]["name"] = name;
  if (!node_name.empty()) v["spec"]["nodeName"] = node_name;
  if (!phase.empty()) v["status"]["phase"] = phase;
  return v;
}

// ---- get nodes ------------------------------------------------------------------

TEST(GetNodes, DefaultColumnsShowStatusWithCordonAgeAndVersion) {
  CliHarness h;
  Json n = node("host-1", "1200m", "3Gi");
  n["spec"]["unschedulable"] = true;
  h.client.put(n);
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:38:20.000Z", &now));
  h.clock.set(now);
  EXPECT_EQ(run_get(h.ctx, {{"nodes"}}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "NAME     STATUS                     AGE   VERSION\n"
            "host-1   Ready,SchedulingDisabled   5m    v0.3.0\n");
}

TEST(GetNodes, WideAddsLeaseAgeUseOfAllocatableAvailabilityAddressDriver) {
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:38:20.000Z", &now));
  Row r = table_row(*find_kind("node"), node("host-1", "1200m", "3Gi"), true, now);
  EXPECT_EQ(r, (Row{"host-1", "Ready", "<unknown>", "v0.3.0", "3s", "1200m/4 (30%)", "3Gi/16Gi (19%)", "0.999",
                    "127.0.0.1:9001", "sim"}));
  EXPECT_EQ(table_headers(*find_kind("node"), true),
            (std::vector<std::string>{"NAME", "STATUS", "AGE", "VERSION", "LEASE-AGE", "CPU", "MEMORY",
                                      "AVAILABILITY", "ADDRESS", "DRIVER"}));
}

TEST(GetNodes, LeaseAgeOfAReadyNodeIsWithinItsGraceNotTheLastStoredBeat) {
  std::chrono::system_clock::time_point now;
  ASSERT_TRUE(parse_time("2026-09-21T07:38:20.000Z", &now));
  // The controller stored a beat 7 s ago (it persists every ~10 s) but renews
  // the lease in memory at every beat: Ready says the lease is under 2 s old.
  Json ready = node("host-1", "1200m", "3Gi");
  ready["status"]["lastHeartbeatTime"] = "2026-09-21T07:38:13.000Z";
  ready["status"]["lease"]["durationSeconds"] = 2;
  EXPECT_EQ(table_row(*find_kind("node"), ready, true, now)[4], "<2s");
  // Judged NotReady 5 s ago, after a 2 s grace: its last beat was 7 s ago,
  // although the last stored one is 20 s old.
  Json dead = ready;
  dead["status"]["phase"] = "NotReady";
  dead["status"]["lastHeartbeatTime"] = "2026-09-21T07:38:00.000Z";
  dead["status"]["conditions"] =
      Json::parse(R"([{"type":"Ready","status":"False","lastTransitionTime":"2026-09-21T07:38:15.000Z"}])");
  EXPECT_EQ(table_row(*find_kind("node"), dead, true, now)[4], "7s");
}

TEST(GetNodes, NodeWithoutStatusReadsUnknownAndNone) {
  Json n = Json::parse(R"({"apiVersion":"corral/v1","kind":"Node","metadata":{"name":"new"}})");
  Row r = table_row(*find_kind("node"), n, true, std::chrono::system_clock::now());
  EXPECT_EQ(r, (Row{"new", "Unknown", "<unknown>", "<none>", "<unknown>", "<none>", "<none>", "<none>",
                    "<none>", "<none>"}));
}

// Issue 18 §5: a VM whose command cannot run read "Starting, RESTARTS 1";
// the table says it crash-loops, and why.
TEST(GetVms, ACrashLoopingVmSaysSoWithItsLastError) {
  Json looping = vm("web-1", "host-1", "Starting");
  looping["status"]["restarts"] = 3;
  looping["status"]["lastError"] = "exec /usr/bin/nope: No such file or directory";
  const auto now = std::chrono::system_clock::now();
  EXPECT_EQ(table_row(*find_kind("vm"), looping, false, now)[1],
            "CrashLoopBackOff (exec /usr/bin/nope: No such file or d...)");
  // Starting for the first time, or Running after restarts: as they are.
  Json first = vm("web-2", "host-1", "Starting");
  EXPECT_EQ(table_row(*find_kind("vm"), first, false, now)[1], "Starting");
  Json running = vm("web-3", "host-1", "Running");
  running["status"]["restarts"] = 2;
  running["status"]["lastError"] = "exited with code 1";
  EXPECT_EQ(table_row(*find_kind("vm"), running, false, now)[1], "Running");
}

TEST(Units, Formatting) {
  EXPECT_EQ(format_cores(1200), "1.2");
  EXPECT_EQ(format_cores(4000), "4");
  EXPECT_EQ(format_cores(250), "0.25");
  EXPECT_EQ(format_bytes(int64_t{3} * 1024 * 1024 * 1024 * 1000), "3Gi");
  EXPECT_EQ(format_bytes(int64_t{3584} * 1024 * 1024 * 1000), "3.5Gi");
  EXPECT_EQ(format_bytes(900'000), "900");
  EXPECT_EQ(format_millicores(250), "250m");
  EXPECT_EQ(format_cpu(1200), "1200m");
  EXPECT_EQ(format_cpu(4000), "4");
  EXPECT_EQ(format_mebibytes(int64_t{1} * 1024 * 1024 * 1024 * 1000), "1024Mi");
  EXPECT_EQ(format_availability(0.999), "0.999");
  EXPECT_EQ(format_availability(0.99999999), "0.999999");  // never rounds up to 1
  EXPECT_EQ(format_availability(1), "1");
  EXPECT_EQ(format_availability(0), "0");
}

// ---- top ------------------------------------------------------------------------

TEST(Top, NodesShowUseAndShareOfAllocatableByName) {
  CliHarness h;
  h.client.put(node("host-2", "600m", "8Gi"));
  h.client.put(node("host-1", "1200m", "3Gi"));
  Json down = node("host-3", "3", "15Gi");
  down["status"]["phase"] = "NotReady";
  h.client.put(down);
  EXPECT_EQ(run_top(h.ctx, {{"nodes"}, "", ""}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "NAME     CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
            "host-1   1200m        30%         3072Mi          19%\n"
            "host-2   600m         15%         8192Mi          50%\n"
            "host-3   <unknown>    <unknown>   <unknown>       <unknown>\n");
}

TEST(Top, SortByCpuOrMemoryIsHighestFirst) {
  CliHarness h;
  h.client.put(node("host-1", "1200m", "3Gi"));
  h.client.put(node("host-2", "500m", "8Gi"));
  EXPECT_EQ(run_top(h.ctx, {{"no"}, "", "memory"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str().find("NAME     CPU(cores)   CPU%   MEMORY(bytes)   MEMORY%\nhost-2 "), 0u)
      << h.out.str();
}

TEST(Top, VmsAddTheirNodeAndShareOfRequestsWithSelector) {
  CliHarness h;
  h.client.put(vm("web-1", "host-1", "Running"));
  h.client.put(vm("web-2", "", ""));
  EXPECT_EQ(run_top(h.ctx, {{"vms"}, "app=web", ""}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "NAME    NODE     CPU(cores)   CPU%        MEMORY(bytes)   MEMORY%\n"
            "web-1   host-1   250m         25%         512Mi           50%\n"
            "web-2   <none>   <unknown>    <unknown>   <unknown>       <unknown>\n");
  EXPECT_EQ(h.client.calls.back(), "list vms l=app=web");
}

TEST(Top, OtherKindsAndBadSortAreErrors) {
  CliHarness h;
  EXPECT_EQ(run_top(h.ctx, {{"pools"}, "", ""}), 1);
  EXPECT_EQ(h.err.str(), "error: top shows nodes and vms only, not pools\n");
  CliHarness h2;
  EXPECT_EQ(run_top(h2.ctx, {{"nodes"}, "", "disk"}), 1);
  EXPECT_EQ(h2.err.str(), "error: --sort-by takes cpu or memory, not \"disk\"\n");
}

TEST(Top, MissingNodeByNameIsAnError) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  EXPECT_EQ(run_top(h.ctx, {{"node", "host-1", "ghost"}, "", ""}), 1);
  EXPECT_NE(h.out.str().find("\nhost-1 "), std::string::npos) << h.out.str();
  EXPECT_EQ(h.err.str(), "error: nodes \"ghost\" not found\n");
}

// ---- cordon / uncordon ------------------------------------------------------------

TEST(Cordon, CordonTwiceSaysAlreadyCordoned) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, true}), 0) << h.err.str();
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, true}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "node/host-1 cordoned\nnode/host-1 already cordoned\n");
  EXPECT_EQ(h.client.objects["nodes"]["host-1"]["spec"]["unschedulable"], true);
  EXPECT_EQ(h.client.writes(), 1u);
  // The write was preconditioned on the version it read.
  EXPECT_EQ(h.client.calls[1], "replace nodes/host-1 rv=101");
}

TEST(Cordon, UncordonClearsTheFlag) {
  CliHarness h;
  Json n = node("host-1", "1", "1Gi");
  n["spec"]["unschedulable"] = true;
  h.client.put(n);
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, false}), 0) << h.err.str();
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, false}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "node/host-1 uncordoned\nnode/host-1 already uncordoned\n");
  EXPECT_EQ(h.client.objects["nodes"]["host-1"]["spec"]["unschedulable"], false);
}

TEST(Cordon, ConflictRereadsAndRetries) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  h.client.fail["replace nodes/host-1"] = {make_error(ErrorCode::kConflict, "stale"),
                                           make_error(ErrorCode::kConflict, "stale")};
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, true}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "node/host-1 cordoned\n");
  EXPECT_EQ(h.client.calls, (std::vector<std::string>{"get nodes/host-1", "replace nodes/host-1 rv=101",
                                                      "get nodes/host-1", "replace nodes/host-1 rv=101",
                                                      "get nodes/host-1", "replace nodes/host-1 rv=101"}));
}

TEST(Cordon, GivesUpAfterRepeatedConflicts) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  h.client.fail["replace nodes/host-1"] =
      std::vector<Error>(kCordonAttempts, make_error(ErrorCode::kConflict, "stale"));
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, true}), 1);
  EXPECT_NE(h.err.str().find("node/host-1 was not cordoned: it changed under us 5 times"), std::string::npos)
      << h.err.str();
}

TEST(Cordon, MissingNodeIsAnErrorAndOthersAreStillDone) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  EXPECT_EQ(run_cordon(h.ctx, {{"ghost", "host-1"}, true}), 1);
  EXPECT_EQ(h.out.str(), "node/host-1 cordoned\n");
  EXPECT_EQ(h.err.str(), "error: nodes \"ghost\" not found\n");
}

// ---- logs -----------------------------------------------------------------------
// One GET of vms/<name>/log; the controller reads the log from the VM's agent
// and words the errors (tests/unit/server_vm_log_test.cpp). Here: what is
// asked, and that the answer or the server's error reaches the user as it is.

TEST(Logs, AsksTheApiForTheVmsLogWithTheTail) {
  CliHarness h;
  h.client.put(vm("web-1", "host-1", "Running"));
  h.client.logs["web-1"] = "started\nserving on :8080\n";
  EXPECT_EQ(run_logs(h.ctx, {{"vm", "web-1"}, 20}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "started\nserving on :8080\n");
  EXPECT_EQ(h.client.calls, (std::vector<std::string>{"log vms/web-1 tailLines=20"}));
}

TEST(Logs, AcceptsNameAndKindSlashNameWithoutTail) {
  CliHarness h;
  h.client.put(vm("web-1", "host-1", "Running"));
  EXPECT_EQ(run_logs(h.ctx, {{"web-1"}, -1}), 0) << h.err.str();
  EXPECT_EQ(run_logs(h.ctx, {{"vm/web-1"}, -1}), 0) << h.err.str();
  EXPECT_EQ(run_logs(h.ctx, {{"vms", "web-1"}, 0}), 0) << h.err.str();
  EXPECT_EQ(h.client.calls, (std::vector<std::string>{"log vms/web-1", "log vms/web-1",
                                                      "log vms/web-1 tailLines=0"}));
}

TEST(Logs, TheServersReasonIsPrintedAsItSaysIt) {
  // What the controller answers (controller/server/vm_log.h), naming the node and why.
  const std::vector<Error> answers = {
      make_error(ErrorCode::kBadRequest,
                 "vm/web-1 is not bound to a node yet (0/3 nodes are available: 3 insufficient cpu.)"),
      make_error(ErrorCode::kUnavailable, "node/host-1 has no agent address (agent not running?)"),
      make_error(ErrorCode::kUnavailable,
                 "cannot reach agent of node/host-1 at 127.0.0.1:9001: Failed to connect to 127.0.0.1 "
                 "port 9001: Connection refused"),
      make_error(ErrorCode::kNotFound,
                 "agent of node/host-1: no log for vm/web-1 on this node (the sim driver keeps none)"),
  };
  for (const Error& answer : answers) {
    CliHarness h;
    h.client.put(vm("web-1", "host-1", "Running"));
    h.client.fail["log vms/web-1"] = {answer};
    EXPECT_EQ(run_logs(h.ctx, {{"web-1"}, -1}), 1);
    EXPECT_EQ(h.err.str(), "error: " + answer.message + "\n");
    EXPECT_EQ(h.out.str(), "");
  }
}

TEST(Logs, MissingVmAndOtherKindsAreErrors) {
  CliHarness h;
  EXPECT_EQ(run_logs(h.ctx, {{"ghost"}, -1}), 1);
  EXPECT_EQ(h.err.str(), "error: vms \"ghost\" not found\n");
  CliHarness h2;
  EXPECT_EQ(run_logs(h2.ctx, {{"pool", "web"}, -1}), 1);
  EXPECT_EQ(h2.err.str(), "error: logs are kept for VMs only, not for pools\n");
  EXPECT_TRUE(h2.client.calls.empty());
  CliHarness h3;
  EXPECT_EQ(run_logs(h3.ctx, {{"vm", "a", "b"}, -1}), 1);
  EXPECT_NE(h3.err.str().find("give one VM"), std::string::npos) << h3.err.str();
}

// logs -f: the lines as the server streams them; its last line, saying why
// it ended, goes to stderr, and decides the exit code.
TEST(Logs, FollowPrintsTheLinesAndTheServersLastWordOnStderr) {
  CliHarness h;
  h.client.put(vm("web-1", "host-1", "Running"));
  h.client.logs["web-1"] = "one\ntwo\ncorral: follow ended: vm/web-1 was deleted\n";
  EXPECT_EQ(run_logs(h.ctx, {{"web-1"}, 5, true}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "one\ntwo\n");
  EXPECT_EQ(h.err.str(), "corralctl: the server ended the follow: vm/web-1 was deleted\n");
  EXPECT_EQ(h.client.calls, (std::vector<std::string>{"follow vms/web-1 tailLines=5"}));
}

TEST(Logs, FollowEndedByAnErrorExitsOneAndAVmLineLikeTheServersIsKept) {
  CliHarness h;
  h.client.put(vm("web-1", "host-1", "Running"));
  h.client.logs["web-1"] =
      "corral: follow ended: only the VM's text\nthree\n"
      "corral: follow ended: error: cannot reach agent of node/host-1 at 127.0.0.1:9001: refused\n";
  EXPECT_EQ(run_logs(h.ctx, {{"web-1"}, -1, true}), 1);
  EXPECT_EQ(h.out.str(), "corral: follow ended: only the VM's text\nthree\n");
  EXPECT_EQ(h.err.str(),
            "corralctl: the server ended the follow: error: cannot reach agent of node/host-1 at "
            "127.0.0.1:9001: refused\n");

  CliHarness refused;
  refused.client.put(vm("web-1", "host-1", "Running"));
  refused.client.fail["follow vms/web-1"] = {make_error(
      ErrorCode::kTooManyRequests, "too many VM log follows: user \"alice\" holds 8, the most one "
                                   "identity may; end one or retry later")};
  EXPECT_EQ(run_logs(refused.ctx, {{"web-1"}, -1, true}), 1);
  EXPECT_EQ(refused.err.str().rfind("error: too many VM log follows", 0), 0u) << refused.err.str();
}

}  // namespace node_commands_test
}  // namespace corral::cli

// ---- drain -------------------------------------------------------------------------

namespace corral::cli {
namespace node_commands_test {

using testing::CliHarness;

Json drain_event(const std::string& vm, const std::string& reason, const std::string& when) {
  Json e = Json::parse(R"({"apiVersion":"corral/v1","kind":"Event","metadata":{"name":""},
    "involvedObject":{"kind":"Node","name":"host-1"},"reason":"DrainWaiting","type":"Normal"})");
  e["metadata"]["name"] = "host-1." + vm + when;
  e["message"] = "vm/" + vm + ": " + reason;
  e["lastTimestamp"] = when;
  return e;
}

TEST(Drain, MarksTheNodeAndFollowsItUntilEmpty) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  h.client.put(vm("web-a", "host-1", "Running"));
  h.client.put(vm("web-b", "host-1", "Running"));
  Json r = vm("web-c", "host-2", "Starting");
  r["metadata"]["annotations"]["corral.io/replaces"] = "web-a";
  h.client.put(r);
  h.client.put(vm("lost", "host-1", "Lost"));  // Lost does not hold a drain
  h.client.put(drain_event("web-b", "waiting for the disruption budget: vmset/web allows 1", "2026-09-21T07:38:00.000Z"));
  DrainOptions o;
  o.node = "host-1";
  int polls = 0;
  o.wait = [&](std::chrono::milliseconds d) {
    h.clock.advance(d);
    // The controller finishes one move per poll.
    if (++polls == 1) h.client.objects["vms"].erase("web-a");
    if (polls == 2) h.client.objects["vms"].erase("web-b");
  };
  EXPECT_EQ(run_drain(h.ctx, o), 0) << h.err.str();
  const Json& n = h.client.objects["nodes"]["host-1"];
  EXPECT_EQ(n["spec"]["drain"], true);
  EXPECT_EQ(n["spec"]["unschedulable"], true);
  EXPECT_EQ(h.out.str(),
            "node/host-1 cordoned, draining\n"
            "node/host-1: 2 VMs left, 1 of them moving\n"
            "  vm/web-b: waiting for the disruption budget: vmset/web allows 1\n"
            "node/host-1: 1 VM left, 0 of them moving\n"
            "  vm/web-b: waiting for the disruption budget: vmset/web allows 1\n"
            "node/host-1 drained\n");
}

TEST(Drain, TimesOutNamingWhatEachVmWaitsFor) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  h.client.put(vm("solo", "host-1", "Running"));
  h.client.put(drain_event("solo", "first reason", "2026-09-21T07:37:00.000Z"));
  h.client.put(drain_event("solo", "not owned by a VMSet, so it cannot be re-created elsewhere",
                           "2026-09-21T07:38:00.000Z"));
  DrainOptions o;
  o.node = "host-1";
  o.timeout = std::chrono::seconds(3);
  int polls = 0;
  o.wait = [&](std::chrono::milliseconds d) {
    ++polls;
    h.clock.advance(d);
  };
  EXPECT_EQ(run_drain(h.ctx, o), 1);
  EXPECT_EQ(polls, 3);
  EXPECT_NE(h.err.str().find("node/host-1 not drained after 3s; still on it:\n"
                             "  vm/solo: not owned by a VMSet"),
            std::string::npos)
      << h.err.str();
  EXPECT_NE(h.err.str().find("`corralctl uncordon host-1` ends it"), std::string::npos);
}

TEST(Drain, AReplacementThatFitsNowhereSaysWhy) {
  CliHarness h;
  h.client.put(node("host-1", "1", "1Gi"));
  h.client.put(vm("web-a", "host-1", "Running"));
  Json r = vm("web-c", "", "Pending");
  r["metadata"]["annotations"]["corral.io/replaces"] = "web-a";
  r["status"]["message"] = "0/2 nodes are available: 2 insufficient cpu.";
  h.client.put(r);
  DrainOptions o;
  o.node = "host-1";
  o.timeout = std::chrono::seconds(0);
  EXPECT_EQ(run_drain(h.ctx, o), 1);
  EXPECT_NE(h.out.str().find("node/host-1: 1 VM left, 1 of them moving\n"
                             "  vm/web-a: moving: replacement vm/web-c pending: 0/2 nodes are "
                             "available: 2 insufficient cpu.\n"),
            std::string::npos)
      << h.out.str();
}

TEST(Drain, AMissingNodeIsAnErrorAndNothingIsWritten) {
  CliHarness h;
  DrainOptions o;
  o.node = "nope";
  EXPECT_EQ(run_drain(h.ctx, o), 1);
  EXPECT_NE(h.err.str().find("not found"), std::string::npos) << h.err.str();
  EXPECT_EQ(h.client.writes(), 0u);
}

TEST(Drain, UncordonEndsADrain) {
  CliHarness h;
  Json n = node("host-1", "1", "1Gi");
  n["spec"]["unschedulable"] = true;
  n["spec"]["drain"] = true;
  h.client.put(n);
  EXPECT_EQ(run_cordon(h.ctx, {{"host-1"}, false}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "node/host-1 uncordoned\n");
  EXPECT_EQ(h.client.objects["nodes"]["host-1"]["spec"]["drain"], false);
  EXPECT_EQ(h.client.objects["nodes"]["host-1"]["spec"]["unschedulable"], false);
}

}  // namespace node_commands_test
}  // namespace corral::cli
