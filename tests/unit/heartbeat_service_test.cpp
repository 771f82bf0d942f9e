// The heartbeat service over the in-memory store and a fake clock: no real
// sleeps, and no background threads (the watch-fed index is synced
// explicitly with sync()).
#include <gtest/gtest.h>

#include <functional>

#include <map>
#include <set>
#include <string>

#include "api/json.h"
#include "base/clock.h"
#include "api/kinds.h"
#include "controller/heartbeat/heartbeat_service.h"
#include "controller/store/store.h"

namespace corral::heartbeat {
namespace heartbeat_service_test {

using std::chrono::milliseconds;

class HeartbeatServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { start(); }

  void start(double persist_jitter = 0, double max_periodic_writes_per_second = 250) {
    HeartbeatOptions o;
    o.watch_in_background = false;
    o.endpoint_key = [](const std::string& node) { return "key-of-" + node; };
    o.persist_jitter = persist_jitter;  // exact intervals unless a test asks
    o.max_periodic_writes_per_second = max_periodic_writes_per_second;
    svc_ = std::make_unique<HeartbeatService>(*store_, leases_, clock_, o);
  }

  Json request(const std::string& holder = "host-1/4242-ab12") const {
    return {{"holderIdentity", holder},
            {"time", format_time(clock_.now())},
            {"labels", {{"zone", "a"}}},
            {"capacity", {{"cpu", "4"}, {"memory", "16Gi"}}},
            {"allocatable", {{"cpu", "4"}, {"memory", "15Gi"}}},
            {"usage", {{"cpu", "1"}, {"memory", "4Gi"}}},
            {"address", "127.0.0.1:4100"},
            {"driver", "sim"},
            {"agentVersion", "0.1.0"}};
  }

  Result<Json> beat(const Json& body, const std::string& node = "host-1") {
    EXPECT_TRUE(svc_->sync().ok());
    return svc_->handle(node, body);
  }

  Json get(const std::string& kind, const std::string& name) {
    auto r = store_->get(kind, name);
    EXPECT_TRUE(r.ok()) << kind << "/" << name;
    return r ? (*r)->parse() : Json();
  }
  int64_t revision_of(const std::string& kind, const std::string& name) {
    auto r = store_->get(kind, name);
    return r ? (*r)->revision : -1;
  }

  std::vector<Json> events(const std::string& reason) {
    std::vector<Json> out;
    auto list = store_->list("Event", {});
    EXPECT_TRUE(list.ok());
    for (const auto& r : list->items) {
      Json e = r->parse();
      if (e["reason"] == reason) out.push_back(e);
    }
    return out;
  }

  void create_vm(const std::string& name, const std::string& node, int64_t epoch,
                 const std::string& phase = "", const std::string& fencing = "none") {
    Json vm = {{"apiVersion", "corral/v1"},
               {"kind", "VM"},
               {"metadata", {{"name", name}}},
               {"spec",
                {{"resources", {{"cpu", "1"}, {"memory", "1Gi"}}},
                 {"runtime", {{"driver", "sim"}}},
                 {"nodeName", node},
                 {"epoch", epoch},
                 {"fencing", fencing}}}};
    auto normalized = normalize_object(vm);
    ASSERT_TRUE(normalized.ok()) << normalized.error().to_string();
    auto created = store_->create("VM", *normalized);
    ASSERT_TRUE(created.ok()) << created.error().to_string();
    if (phase.empty()) return;
    Json stored = (*created)->parse();
    stored["status"]["phase"] = phase;
    ASSERT_TRUE(store_->update_status("VM", stored).ok());
  }

  // Pool "web" selecting zone=a (the nodes' label here) with these failover settings.
  void create_zone_a_pool(const Json& failover) {
    Json pool = {{"apiVersion", "corral/v1"},
                 {"kind", "Pool"},
                 {"metadata", {{"name", "web"}}},
                 {"spec", {{"nodeSelector", {{"zone", "a"}}}, {"failover", failover}}}};
    auto normalized = normalize_object(pool);
    ASSERT_TRUE(normalized.ok()) << normalized.error().to_string();
    ASSERT_TRUE(store_->create("Pool", *normalized).ok());
  }

  static Json report(const std::string& name, int64_t epoch, const std::string& phase) {
    return {{"name", name}, {"epoch", epoch}, {"phase", phase},
            {"usage", {{"cpu", "500m"}, {"memory", "512Mi"}}}};
  }

  static bool has_cause(const Error& e, const std::string& field) {
    for (const auto& c : e.causes)
      if (c.field == field) return true;
    return false;
  }

  FakeClock clock_;
  std::unique_ptr<store::Store> store_ = store::open_memory_store(clock_);
  LeaseTable leases_;
  std::unique_ptr<HeartbeatService> svc_;
};

TEST_F(HeartbeatServiceTest, RegistrationCreatesTheNodeWithLabels) {
  auto answer = beat(request());
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  EXPECT_EQ((*answer)["kind"], "HeartbeatResponse");
  EXPECT_EQ((*answer)["node"], "host-1");
  EXPECT_EQ((*answer)["leaseDurationSeconds"], 2);
  EXPECT_EQ((*answer)["vms"], Json::array());
  EXPECT_FALSE((*answer)["serverTime"].get<std::string>().empty());

  Json node = get("Node", "host-1");
  EXPECT_EQ(node["metadata"]["labels"]["zone"], "a");
  EXPECT_EQ(node["status"]["capacity"]["cpu"], "4");
  EXPECT_EQ(node["status"]["allocatable"]["memory"], "15Gi");
  EXPECT_EQ(node["status"]["lease"]["holderIdentity"], "host-1/4242-ab12");
  EXPECT_EQ(node["status"]["lease"]["durationSeconds"], 2);
  EXPECT_EQ(node["status"]["address"], "127.0.0.1:4100");
  EXPECT_EQ(node["status"]["driver"], "sim");
  EXPECT_EQ(node["status"]["agentVersion"], "0.1.0");
  EXPECT_EQ(events("Registered").size(), 1u);
  auto lease = leases_.current("host-1");
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->holder, "host-1/4242-ab12");
}

// Issue 15 §3: the node's endpoint key goes to its own heartbeat, when asked
// (an older agent, which would refuse an unknown field, does not ask).
TEST_F(HeartbeatServiceTest, TheEndpointKeyIsAnsweredOnlyWhenAsked) {
  auto plain = beat(request());
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_FALSE(plain->contains("endpointKey"));
  Json asking = request();
  asking["endpointAuth"] = true;
  auto keyed = beat(asking);
  ASSERT_TRUE(keyed.ok()) << keyed.error().message;
  EXPECT_EQ((*keyed)["endpointKey"], "key-of-host-1");
}

TEST_F(HeartbeatServiceTest, RenewalDoesNotWriteTheStoreEveryBeat) {
  ASSERT_TRUE(beat(request()).ok());
  const int64_t rv = revision_of("Node", "host-1");
  const int64_t store_rv = store_->revision();
  for (int i = 0; i < 9; ++i) {
    clock_.advance(milliseconds(1000));
    ASSERT_TRUE(beat(request()).ok());
  }
  EXPECT_EQ(revision_of("Node", "host-1"), rv);
  EXPECT_EQ(store_->revision(), store_rv) << "a steady heartbeat wrote something";
  EXPECT_EQ(leases_.current("host-1")->renewals, 10);
  EXPECT_EQ(leases_.current("host-1")->renewed, clock_.steady_now());

  clock_.advance(milliseconds(1001));  // 10.001 s since the last write: persist_interval passed
  ASSERT_TRUE(beat(request()).ok());
  EXPECT_GT(revision_of("Node", "host-1"), rv);
  EXPECT_EQ(get("Node", "host-1")["status"]["lastHeartbeatTime"], format_time(clock_.now()));
}

// Nodes that wrote together (a controller restart) drift apart: each next
// periodic write comes within [interval × (1 − jitter), interval].
TEST_F(HeartbeatServiceTest, PeriodicWritesOfNodesThatWroteTogetherSpreadOut) {
  start(/*persist_jitter=*/0.5);
  constexpr int kNodes = 20;
  auto node = [](int i) { return "host-" + std::to_string(i); };
  for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(beat(request(node(i) + "/1"), node(i)).ok());
  std::vector<int64_t> first(kNodes);
  for (int i = 0; i < kNodes; ++i) first[i] = revision_of("Node", node(i));
  std::map<int, int> second_write_at;  // node → whole seconds after the first write
  for (int s = 1; s <= 10; ++s) {
    clock_.advance(milliseconds(1000));
    for (int i = 0; i < kNodes; ++i) {
      ASSERT_TRUE(beat(request(node(i) + "/1"), node(i)).ok());
      if (!second_write_at.count(i) && revision_of("Node", node(i)) != first[i])
        second_write_at[i] = s;
    }
  }
  ASSERT_EQ(second_write_at.size(), static_cast<size_t>(kNodes)) << "every node wrote by 10 s";
  std::set<int> seconds;
  for (const auto& [i, s] : second_write_at) {
    EXPECT_GE(s, 5) << node(i) << " wrote before interval × (1 − jitter)";
    seconds.insert(s);
  }
  EXPECT_GE(seconds.size(), 4u) << "the writes stayed in lock-step";
}

// Many nodes: the periodic writes of all of them stay under the cap, each
// node's interval stretching (here 40 nodes at 2 writes/s: 20 s), while a
// change that matters is still written at once.
TEST_F(HeartbeatServiceTest, PeriodicWritesOfAManyNodeFleetStayUnderTheCap) {
  start(/*persist_jitter=*/0, /*max_periodic_writes_per_second=*/2);
  constexpr int kNodes = 40;
  auto node = [](int i) { return "host-" + std::to_string(i); };
  for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(beat(request(node(i) + "/1"), node(i)).ok());
  // Written again after 10 s only if the cap did not stretch the interval;
  // node 0 wrote when it was the only node (10 s then), so look at the last.
  const std::string last = node(kNodes - 1);
  const int64_t rv = revision_of("Node", last);
  int64_t store_writes = 0;
  for (int s = 1; s <= 19; ++s) {
    clock_.advance(milliseconds(1000));
    const int64_t before = store_->revision();
    for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(beat(request(node(i) + "/1"), node(i)).ok());
    store_writes += store_->revision() - before;
  }
  EXPECT_EQ(revision_of("Node", last), rv) << "written before its stretched interval (20 s)";
  EXPECT_LE(store_writes, 2 * 19) << "more periodic writes than the cap allows";
  clock_.advance(milliseconds(1001));
  ASSERT_TRUE(beat(request(last + "/1"), last).ok());
  EXPECT_GT(revision_of("Node", last), rv) << "not written once its interval passed";

  Json jump = request(node(5) + "/1");
  jump["usage"]["cpu"] = "3";  // 50 % of 4 CPU: written at once, cap or not
  const int64_t rv5 = revision_of("Node", node(5));
  ASSERT_TRUE(beat(jump, node(5)).ok());
  EXPECT_GT(revision_of("Node", node(5)), rv5);
}

TEST_F(HeartbeatServiceTest, LargeUsageChangeIsWrittenAtOnceSmallDriftIsNot) {
  ASSERT_TRUE(beat(request()).ok());
  const int64_t rv = revision_of("Node", "host-1");
  Json drift = request();
  drift["usage"]["cpu"] = "1100m";  // 2.5 % of 4 CPU
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(beat(drift).ok());
  EXPECT_EQ(revision_of("Node", "host-1"), rv);

  Json jump = request();
  jump["usage"]["cpu"] = "3";  // 50 %
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(beat(jump).ok());
  EXPECT_GT(revision_of("Node", "host-1"), rv);
  EXPECT_EQ(get("Node", "host-1")["status"]["usage"]["cpu"], "3");
}

TEST_F(HeartbeatServiceTest, StatusWriteKeepsTheLifecycleLoopsFields) {
  ASSERT_TRUE(beat(request()).ok());
  Json node = get("Node", "host-1");
  node["status"]["phase"] = "Ready";
  node["status"]["availability"] = 0.5;
  node["status"]["conditions"] = Json::array({{{"type", "Ready"}, {"status", "True"}}});
  ASSERT_TRUE(store_->update_status("Node", node).ok());

  Json changed = request();
  changed["agentVersion"] = "0.2.0";
  ASSERT_TRUE(beat(changed).ok());
  Json after = get("Node", "host-1");
  EXPECT_EQ(after["status"]["agentVersion"], "0.2.0");
  EXPECT_EQ(after["status"]["phase"], "Ready");
  EXPECT_EQ(after["status"]["availability"], 0.5);
  ASSERT_EQ(after["status"]["conditions"].size(), 1u);
  EXPECT_EQ(after["status"]["conditions"][0]["type"], "Ready");
}

TEST_F(HeartbeatServiceTest, SecondHolderWhileTheLeaseIsFreshIsRefused) {
  ASSERT_TRUE(beat(request()).ok());
  clock_.advance(milliseconds(400));
  auto second = beat(request("host-1/999-zz"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  EXPECT_EQ(second.error().message,
            "node host-1 is held by agent host-1/4242-ab12 (lease renewed 0.4s ago, grace 2s); "
            "refused until it expires");
  EXPECT_EQ(leases_.current("host-1")->holder, "host-1/4242-ab12");
}

TEST_F(HeartbeatServiceTest, NewHolderTakesOverAfterTheGrace) {
  ASSERT_TRUE(beat(request()).ok());
  clock_.advance(milliseconds(2500));
  auto second = beat(request("host-1/999-zz"));
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ(leases_.current("host-1")->holder, "host-1/999-zz");
  EXPECT_EQ(get("Node", "host-1")["status"]["lease"]["holderIdentity"], "host-1/999-zz");
  auto replaced = events("AgentReplaced");
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_NE(replaced[0]["message"].get<std::string>().find("host-1/4242-ab12"), std::string::npos);
  // And now the old agent is the one refused.
  auto old = beat(request());
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code, ErrorCode::kConflict);
}

TEST_F(HeartbeatServiceTest, TakeOverOfANodeWithSelfFenceVmsAlsoWaitsOutTheFenceWait) {
  create_vm("db-1", "host-1", 2, "", "selfFence");
  ASSERT_TRUE(beat(request()).ok());
  // Past the grace, inside grace + fence wait (2 s + 12 s): the old agent
  // may still be stopping db-1, so its binding is not handed on yet.
  clock_.advance(milliseconds(13999));
  auto early = beat(request("host-1/999-zz"));
  ASSERT_FALSE(early.ok());
  EXPECT_EQ(early.error().code, ErrorCode::kConflict);
  EXPECT_NE(early.error().message.find("it has selfFence VMs"), std::string::npos)
      << early.error().message;
  EXPECT_EQ(leases_.current("host-1")->holder, "host-1/4242-ab12");
  clock_.advance(milliseconds(1));
  auto later = beat(request("host-1/999-zz"));
  ASSERT_TRUE(later.ok()) << later.error().to_string();
  EXPECT_EQ(leases_.current("host-1")->holder, "host-1/999-zz");
  ASSERT_EQ((*later)["vms"].size(), 1u);
  EXPECT_EQ((*later)["vms"][0]["fencing"], "selfFence");
}

TEST_F(HeartbeatServiceTest, ARestartingAgentIsGrantedItsWindowAndReleasesTheNode) {
  ASSERT_TRUE(beat(request()).ok());
  Json last = request();
  last["restartWindowSeconds"] = 600;  // asks for 10 min; no pool: at most 5 min
  clock_.advance(milliseconds(300));
  ASSERT_TRUE(beat(last).ok());
  Json node = get("Node", "host-1");
  EXPECT_EQ(node["status"]["lease"]["restartWindowSeconds"], 300) << node.dump();
  auto restarting = events("AgentRestarting");
  ASSERT_EQ(restarting.size(), 1u);
  EXPECT_EQ(restarting[0]["message"],
            "agent host-1/4242-ab12 stopped for a restart; the node keeps its VMs for up to 5m "
            "until an agent reports again");
  // The next agent is not refused for the rest of the grace, nor reported as
  // a replacement: the old one said it was going.
  clock_.advance(milliseconds(400));
  auto next = beat(request("host-1/5151-cd34"));
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_TRUE(events("AgentReplaced").empty());
  node = get("Node", "host-1");
  EXPECT_EQ(node["status"]["lease"]["holderIdentity"], "host-1/5151-cd34");
  EXPECT_EQ(node["status"]["lease"]["restartWindowSeconds"], 0);
}

TEST_F(HeartbeatServiceTest, APoolGrantingNoRestartWindowKeepsTheLease) {
  create_zone_a_pool({{"restartWindowSeconds", 0}});
  Json last = request();
  last["restartWindowSeconds"] = 300;
  ASSERT_TRUE(beat(last).ok());
  EXPECT_EQ(get("Node", "host-1")["status"]["lease"]["restartWindowSeconds"], 0);
  EXPECT_TRUE(events("AgentRestarting").empty());
  EXPECT_EQ(beat(request("host-1/5151-cd34")).error().code, ErrorCode::kConflict);
}

TEST_F(HeartbeatServiceTest, GraceComesFromTheNodesPools) {
  create_zone_a_pool({{"nodeGraceSeconds", 5}});
  auto answer = beat(request());
  ASSERT_TRUE(answer.ok());
  EXPECT_EQ((*answer)["leaseDurationSeconds"], 5);
  clock_.advance(milliseconds(3000));
  auto second = beat(request("host-1/999-zz"));
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("grace 5s"), std::string::npos) << second.error().message;
}

TEST_F(HeartbeatServiceTest, ImpossibleValuesAreInvalidWithTheirFieldPath) {
  struct Case {
    const char* path;
    const char* field;
    const char* value;
  };
  for (const Case& c : {Case{"usage", "cpu", "-1"}, Case{"usage", "memory", "40Gi"},
                        Case{"capacity", "cpu", "0"}}) {
    Json body = request();
    body[c.path][c.field] = c.value;
    auto r = beat(body);
    ASSERT_FALSE(r.ok()) << c.path << "." << c.field;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
    EXPECT_TRUE(has_cause(r.error(), std::string(c.path) + "." + c.field)) << r.error().to_string();
  }
  Json driver = request();
  driver["driver"] = "docker";
  auto d = beat(driver);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(has_cause(d.error(), "driver")) << d.error().to_string();
  Json unknown = request();
  unknown["bogus"] = 1;
  auto r = beat(unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(has_cause(r.error(), "bogus")) << r.error().to_string();
  EXPECT_FALSE(store_->get("Node", "host-1").ok()) << "an invalid heartbeat registered the node";
  EXPECT_FALSE(leases_.current("host-1"));
}

// A node may lie with long strings: identifiers past their caps are refused
// with the field path; free text is cut to 1 KiB (an honest agent's long
// driver error must not fail its heartbeat) and stays valid UTF-8.
TEST_F(HeartbeatServiceTest, OverlongStringsAreRefusedOrCutNeverStoredWhole) {
  struct Case {
    std::string field;
    std::function<void(Json&)> lie;
  };
  const std::string long_name(254, 'a');
  for (const Case& c : std::vector<Case>{
           {"holderIdentity", [&](Json& b) { b["holderIdentity"] = long_name; }},
           {"address", [&](Json& b) { b["address"] = std::string(300, 'h') + ":1"; }},
           {"agentVersion", [&](Json& b) { b["agentVersion"] = std::string(200, 'v'); }},
           {"vms[0].name", [&](Json& b) { b["vms"] = Json::array({report(long_name, 1, "Running")}); }},
           {"vms", [&](Json& b) {
              b["vms"] = Json::array();
              for (int i = 0; i <= 10'000; ++i) b["vms"].push_back(report("v" + std::to_string(i), 1, "Running"));
            }}}) {
    Json body = request();
    c.lie(body);
    auto r = beat(body);
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
    EXPECT_TRUE(has_cause(r.error(), c.field)) << r.error().to_string();
  }
  EXPECT_FALSE(store_->get("Node", "host-1").ok()) << "an invalid heartbeat registered the node";

  create_vm("vm-a", "host-1", 1);
  Json body = request();
  Json rep = report("vm-a", 1, "Failed");
  // 2 KiB of 'é' (2 bytes each): a cut in the middle of one must not split it.
  std::string accents;
  for (int i = 0; i < 1024; ++i) accents += "\xc3\xa9";
  rep["lastError"] = "x" + accents;
  rep["message"] = std::string(5000, 'm');
  body["vms"] = Json::array({rep});
  ASSERT_TRUE(beat(body).ok());
  Json vm = get("VM", "vm-a");
  const std::string last_error = vm["status"]["lastError"];
  const std::string message = vm["status"]["message"];
  EXPECT_LE(last_error.size(), kMaxHeartbeatMessageBytes);
  EXPECT_LE(message.size(), kMaxHeartbeatMessageBytes);
  EXPECT_NE(message.find("[truncated]"), std::string::npos);
  EXPECT_TRUE(parse_json(vm["status"].dump(), "status").ok()) << "not valid UTF-8";
  EXPECT_EQ(last_error.substr(last_error.size() - 13, 1), "\xa9") << "cut inside a character";
}

TEST_F(HeartbeatServiceTest, VmReportsAreWrittenOnlyForThisNodesCurrentEpoch) {
  create_vm("vm-a", "host-1", 2);
  create_vm("vm-b", "host-2", 1);
  ASSERT_TRUE(beat(request()).ok());
  const int64_t a_rv = revision_of("VM", "vm-a");
  const int64_t b_rv = revision_of("VM", "vm-b");

  Json stale = request();
  stale["vms"] = Json::array({report("vm-a", 1, "Running"), report("vm-b", 1, "Running"),
                              report("vm-gone", 1, "Running")});
  ASSERT_TRUE(beat(stale).ok());
  EXPECT_EQ(revision_of("VM", "vm-a"), a_rv) << "a stale epoch was written";
  EXPECT_EQ(revision_of("VM", "vm-b"), b_rv) << "another node's VM was written";

  Json current = request();
  current["vms"] = Json::array({report("vm-a", 2, "Running")});
  ASSERT_TRUE(beat(current).ok());
  Json a = get("VM", "vm-a");
  EXPECT_EQ(a["status"]["phase"], "Running");
  EXPECT_EQ(a["status"]["nodeName"], "host-1");
  EXPECT_EQ(a["status"]["epoch"], 2);
  EXPECT_EQ(a["status"]["usage"]["cpu"], "500m");
  EXPECT_EQ(a["status"]["observedGeneration"], 1);

  // The same report again writes nothing.
  const int64_t written = revision_of("VM", "vm-a");
  ASSERT_TRUE(beat(current).ok());
  EXPECT_EQ(revision_of("VM", "vm-a"), written);
}

TEST_F(HeartbeatServiceTest, StaleCopyOfAReplacedVmNeverOverwritesTheCurrentCopy) {
  // vm-a was on host-1 at epoch 1, then re-placed on host-2 at epoch 2, whose
  // copy runs and reported. host-1 returns from a partition with its old copy.
  create_vm("vm-a", "host-2", 2);
  Json current = request("host-2/77-cd34");
  Json running = report("vm-a", 2, "Running");
  running["address"] = "10.0.0.2:40001";
  running["pid"] = 4242;
  current["vms"] = Json::array({running});
  ASSERT_TRUE(beat(current, "host-2").ok());
  const Json before = get("VM", "vm-a")["status"];
  ASSERT_EQ(before["phase"], "Running");
  EXPECT_EQ(before["pid"], 4242) << "the process the agent reports, for `get vms -o wide`";
  const int64_t rv = revision_of("VM", "vm-a");

  Json stale = request();
  Json stale_running = report("vm-a", 1, "Running");
  stale_running["address"] = "127.0.0.1:40999";
  stale["vms"] = Json::array({stale_running});
  ASSERT_TRUE(beat(stale).ok());
  // Right node, wrong epoch and right epoch, wrong node: neither is the binding.
  Json failed = report("vm-a", 1, "Failed");
  failed["lastError"] = "killed by signal 9";
  Json wrong_node = report("vm-a", 2, "Failed");
  stale["vms"] = Json::array({failed, wrong_node});
  ASSERT_TRUE(beat(stale).ok());

  EXPECT_EQ(revision_of("VM", "vm-a"), rv) << "a stale copy wrote the VM";
  EXPECT_EQ(get("VM", "vm-a")["status"], before);
  EXPECT_TRUE(events("VMFailed").empty()) << "a stale copy's failure is not the VM's";
}

TEST_F(HeartbeatServiceTest, AnswerListsBoundVmsExceptLostOnes) {
  create_vm("vm-a", "host-1", 3);
  create_vm("vm-lost", "host-1", 1, "Lost");
  create_vm("vm-other", "host-2", 1);
  auto answer = beat(request());
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ((*answer)["vms"].size(), 1u) << answer->dump();
  // The answer decodes as the agent decodes it.
  auto decoded = from_json<HeartbeatResponse>(*answer);
  ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
  const BoundVm& bound = decoded->vms.at(0);
  EXPECT_EQ(bound.name, "vm-a");
  EXPECT_EQ(bound.epoch, 3);
  EXPECT_EQ(bound.resources.cpu.text, "1");
  EXPECT_EQ(bound.runtime.driver, "sim");

  // A report of a Lost VM does not resurrect it.
  Json lost = request();
  lost["vms"] = Json::array({report("vm-lost", 1, "Running")});
  ASSERT_TRUE(beat(lost).ok());
  EXPECT_EQ(get("VM", "vm-lost")["status"]["phase"], "Lost");

  // The index follows binding changes.
  ASSERT_TRUE(store_->remove("VM", "vm-a").ok());
  create_vm("vm-new", "host-1", 1);
  answer = beat(request());
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ((*answer)["vms"].size(), 1u);
  EXPECT_EQ((*answer)["vms"][0]["name"], "vm-new");
}

// What the listeners send (handle_text: the bound VMs' text made once per VM
// change, spliced in) is the answer handle() gives, field for field.
TEST_F(HeartbeatServiceTest, TheAnswerTextIsTheAnswer) {
  create_vm("vm-a", "host-1", 3);
  create_vm("vm-b", "host-1", 1, "Running", "selfFence");
  create_vm("vm-lost", "host-1", 1, "Lost");
  create_vm("vm-other", "host-2", 1);
  Json body = request();
  body["endpointAuth"] = true;
  auto answer = beat(body);
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  ASSERT_EQ((*answer)["vms"].size(), 2u) << answer->dump();
  auto text = svc_->handle_text("host-1", body);
  ASSERT_TRUE(text.ok()) << text.error().to_string();
  auto parsed = parse_json(*text);
  ASSERT_TRUE(parsed.ok()) << *text;
  EXPECT_EQ(parsed->size(), answer->size()) << *text;
  for (const auto& [key, value] : answer->items()) EXPECT_EQ((*parsed)[key], value) << key;
  // No VM bound: an empty list, still valid JSON.
  auto none = svc_->handle_text("host-2", request("host-2/1-aa"));
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  auto none_parsed = parse_json(*none);
  ASSERT_TRUE(none_parsed.ok()) << *none;
  EXPECT_EQ((*none_parsed)["vms"].size(), 1u) << *none;
  ASSERT_TRUE(store_->remove("VM", "vm-other").ok());
  ASSERT_TRUE(svc_->sync().ok());
  none = svc_->handle_text("host-2", request("host-2/1-aa"));
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(parse_json(*none)->at("vms"), Json::array()) << *none;
}

TEST_F(HeartbeatServiceTest, FailedTransitionWritesOneWarningEvent) {
  create_vm("vm-a", "host-1", 1);
  Json body = request();
  Json failed = report("vm-a", 1, "Failed");
  failed["lastError"] = "Failed to start: exec \"/no/such/cmd\": No such file or directory";
  body["vms"] = Json::array({failed});
  ASSERT_TRUE(beat(body).ok());
  Json vm = get("VM", "vm-a");
  EXPECT_EQ(vm["status"]["phase"], "Failed");
  EXPECT_EQ(vm["status"]["lastError"], failed["lastError"]);
  auto evs = events("VMFailed");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["type"], "Warning");
  EXPECT_EQ(evs[0]["involvedObject"]["name"], "vm-a");
  EXPECT_NE(evs[0]["message"].get<std::string>().find("/no/such/cmd"), std::string::npos);

  failed["restarts"] = 1;  // still Failed: no second event
  body["vms"] = Json::array({failed});
  ASSERT_TRUE(beat(body).ok());
  EXPECT_EQ(events("VMFailed").size(), 1u);
}

TEST_F(HeartbeatServiceTest, ARisingRestartCountWritesOneWarningEventPerReport) {
  create_vm("vm-a", "host-1", 1);
  Json body = request();
  Json running = report("vm-a", 1, "Running");
  body["vms"] = Json::array({running});
  ASSERT_TRUE(beat(body).ok());
  EXPECT_TRUE(events("Restarted").empty()) << "a first start is no restart";

  running["restarts"] = 1;
  running["lastError"] = "exit code 3";
  body["vms"] = Json::array({running});
  ASSERT_TRUE(beat(body).ok());
  EXPECT_EQ(get("VM", "vm-a")["status"]["restarts"], 1);
  auto evs = events("Restarted");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0]["type"], "Warning");
  EXPECT_EQ(evs[0]["involvedObject"]["kind"], "VM");
  EXPECT_EQ(evs[0]["involvedObject"]["name"], "vm-a");
  EXPECT_EQ(evs[0]["message"], "vm/vm-a restarted on node/host-1 (restart 1) after: exit code 3");

  // The same count again (usage changed, say): no new event.
  running["usage"] = Json{{"cpu", "100m"}};
  body["vms"] = Json::array({running});
  ASSERT_TRUE(beat(body).ok());
  EXPECT_EQ(events("Restarted").size(), 1u);

  running["restarts"] = 2;
  body["vms"] = Json::array({running});
  ASSERT_TRUE(beat(body).ok());
  evs = events("Restarted");
  ASSERT_EQ(evs.size(), 2u);
}

TEST_F(HeartbeatServiceTest, ClockSkewIsReportedAsAConditionNotJudged) {
  Json skewed = request();
  skewed["time"] = format_time(clock_.now() + std::chrono::seconds(10));
  auto answer = beat(skewed);
  ASSERT_TRUE(answer.ok()) << answer.error().to_string();
  Json node = get("Node", "host-1");
  ASSERT_EQ(node["status"]["conditions"].size(), 1u) << node.dump();
  Json cond = node["status"]["conditions"][0];
  EXPECT_EQ(cond["type"], "ClockSkew");
  EXPECT_EQ(cond["status"], "True");
  EXPECT_NE(cond["message"].get<std::string>().find("10.0s ahead"), std::string::npos)
      << cond["message"];
  EXPECT_EQ(events("ClockSkew").size(), 1u);

  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(beat(skewed).ok());
  EXPECT_EQ(events("ClockSkew").size(), 1u) << "the event repeats";

  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(beat(request()).ok());  // back in sync: written at once
  node = get("Node", "host-1");
  EXPECT_EQ(node["status"]["conditions"][0]["status"], "False");
}

TEST_F(HeartbeatServiceTest, ARestartedServiceWritesTheFirstBeatOfEachHolder) {
  ASSERT_TRUE(beat(request()).ok());
  const int64_t rv = revision_of("Node", "host-1");
  start();  // a controller restart: nothing persisted since start
  clock_.advance(milliseconds(1000));
  ASSERT_TRUE(beat(request()).ok());
  EXPECT_GT(revision_of("Node", "host-1"), rv);
}

}  // namespace heartbeat_service_test
}  // namespace corral::heartbeat

namespace corral::heartbeat {
namespace heartbeat_service_test {

// A Node deleted for good takes its lease and per-node state with it, once
// it has been silent past forget_after; one whose agent still beats (and so
// re-registered it) keeps them.
TEST_F(HeartbeatServiceTest, ADeletedSilentNodeLosesItsLeaseAndOneThatStillBeatsKeepsIt) {
  ASSERT_TRUE(beat(request("gone/1"), "gone").ok());
  ASSERT_TRUE(beat(request("back/1"), "back").ok());
  ASSERT_TRUE(beat(request("kept/1"), "kept").ok());
  ASSERT_TRUE(store_->remove("Node", "gone", {}).ok());
  ASSERT_TRUE(store_->remove("Node", "back", {}).ok());

  // Nine minutes: "back" beats on (its agent never stopped); nobody is old enough yet.
  clock_.advance(std::chrono::minutes(9));
  ASSERT_TRUE(beat(request("back/1"), "back").ok());
  EXPECT_TRUE(leases_.current("gone").has_value());

  // Eleven minutes after the last beats of "gone" and "kept": "gone" has no
  // Node and is forgotten; "kept" still has its Node and keeps its lease;
  // "back" was re-registered by its beat and renewed two minutes ago.
  clock_.advance(std::chrono::minutes(2));
  ASSERT_TRUE(beat(request("other/1"), "other").ok());
  EXPECT_FALSE(leases_.current("gone").has_value());
  EXPECT_TRUE(leases_.current("kept").has_value());
  EXPECT_TRUE(leases_.current("back").has_value());
  EXPECT_TRUE(store_->get("Node", "back").ok()) << "re-registered by its beat";

  // The host comes back later: registered afresh, as a new node.
  ASSERT_TRUE(beat(request("gone/2"), "gone").ok());
  ASSERT_TRUE(leases_.current("gone").has_value());
  EXPECT_EQ(leases_.current("gone")->holder, "gone/2");
  EXPECT_EQ(leases_.current("gone")->renewals, 1);
}

}  // namespace heartbeat_service_test
}  // namespace corral::heartbeat
