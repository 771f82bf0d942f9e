// The sync loop against FakeControlPlane, the sim driver, a FakeClock and a
// fixture /proc: every round is run_once(), time only moves when advanced.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "agent/drivers/sim_driver.h"
#include "agent/state_file.h"
#include "agent/sync_loop.h"
#include "agent/tracked_vm.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/fake_control_plane.h"

namespace corral::agent {
namespace agent_sync_loop_test {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kGi = int64_t{1} << 30;

std::string proc_stat(uint64_t busy, uint64_t idle) {
  std::string text = "cpu  " + std::to_string(busy) + " 0 0 " + std::to_string(idle) + " 0 0 0 0 0 0\n";
  for (int i = 0; i < 4; ++i) text += "cpu" + std::to_string(i) + " 1 0 1 1 0 0 0 0 0 0\n";
  return text;
}

BoundVm bound(const std::string& name, int64_t epoch, const std::string& policy = "Always",
              const std::string& fencing = "none") {
  BoundVm vm;
  vm.fencing = fencing;
  vm.name = name;
  vm.epoch = epoch;
  vm.restartPolicy = policy;
  vm.runtime.driver = "sim";
  vm.runtime.sim.cpu = Quantity::from_milli(500);
  vm.runtime.sim.memory = Quantity::from_bytes(256 << 20);
  return vm;
}

class SyncLoopTest : public ::testing::Test {
 protected:
  SyncLoopTest() : source_(dir_.path()) {
    write_proc(100, 900);
    std::filesystem::create_directories(dir_.path() / "proc");
    std::ofstream(dir_.path() / "proc" / "meminfo")
        << "MemTotal:       16777216 kB\nMemFree: 1000 kB\nMemAvailable:   12582912 kB\n";
    options_.node = "host-1";
    options_.holder_identity = "host-1/42-cafe";
    options_.labels = {{"zone", "a"}};
    options_.address = "127.0.0.1:4100";
    options_.state_file = state_file();
  }

  void write_proc(uint64_t busy, uint64_t idle) {
    std::filesystem::create_directories(dir_.path() / "proc");
    std::ofstream(dir_.path() / "proc" / "stat") << proc_stat(busy, idle);
  }
  std::filesystem::path state_file() const { return dir_.path() / "agent-state.json"; }

  SyncLoop& loop() {
    if (!loop_) loop_ = std::make_unique<SyncLoop>(cp_, driver_, source_, clock_, options_);
    return *loop_;
  }
  // A restart of the agent: a new loop (new holder) over the same host (driver).
  void restart_agent() {
    loop_.reset();
    options_.holder_identity = "host-1/43-beef";
  }
  // One heartbeat interval later, one round.
  void round() {
    clock_.advance(seconds(1));
    loop().run_once();
  }
  InstanceStatus instance(const std::string& name) {
    for (const auto& s : driver_.list())
      if (s.name == name) return s;
    ADD_FAILURE() << name << " is not listed";
    return {};
  }
  int count_calls(const std::string& call) {
    auto calls = driver_.calls();
    return static_cast<int>(std::count(calls.begin(), calls.end(), call));
  }

  corral::testing::TempDir dir_;
  MetricsSource source_;
  FakeClock clock_;
  SimDriver driver_;
  corral::testing::FakeControlPlane cp_;
  SyncOptions options_;
  std::unique_ptr<SyncLoop> loop_;
};

TEST_F(SyncLoopTest, FirstHeartbeatCarriesCapacityLabelsAndFullReport) {
  options_.host.reserved.cpu = Quantity::from_milli(500);
  options_.host.reserved.memory = Quantity::from_bytes(kGi);
  loop().run_once();
  ASSERT_EQ(cp_.requests.size(), 1u);
  const HeartbeatRequest& r = cp_.last();
  EXPECT_EQ(r.holderIdentity, "host-1/42-cafe");
  EXPECT_EQ(r.capacity.cpu.milli, 4000);
  EXPECT_EQ(r.capacity.memory.text, "16Gi");
  EXPECT_EQ(r.allocatable.cpu.text, "3500m");
  EXPECT_EQ(r.allocatable.memory.text, "15Gi");
  EXPECT_EQ(r.usage.memory.text, "4Gi") << "MemTotal − MemAvailable";
  EXPECT_EQ(r.labels, (Labels{{"zone", "a"}}));
  EXPECT_EQ(r.address, "127.0.0.1:4100");
  EXPECT_EQ(r.driver, "sim");
  EXPECT_EQ(r.time, format_time(clock_.now()));
  EXPECT_TRUE(r.fullReport);
  EXPECT_TRUE(validate_heartbeat(r).ok());
  EXPECT_TRUE(loop().has_answer());
}

TEST_F(SyncLoopTest, GeneratesAHolderIdentityPerStart) {
  // agent/main.cpp draws a new seed at every start.
  options_.holder_identity.clear();
  options_.seed = 1;
  const std::string first = loop().holder_identity();
  EXPECT_EQ(first.rfind("host-1/", 0), 0u) << first;
  restart_agent();
  options_.holder_identity.clear();
  options_.seed = 2;
  EXPECT_NE(loop().holder_identity(), first);
}

TEST_F(SyncLoopTest, GeneratedHolderIdentityDependsOnlyOnTheSeed) {
  options_.holder_identity.clear();
  options_.seed = 7;
  const std::string first = loop().holder_identity();
  restart_agent();
  options_.holder_identity.clear();
  options_.seed = 7;
  EXPECT_EQ(loop().holder_identity(), first) << "same process, same seed: same identity";
}

TEST_F(SyncLoopTest, CapacityFlagsOverrideAndCpuUseIsSmoothedFromStatDeltas) {
  options_.host.capacity_override.cpu = Quantity::from_milli(2000);
  loop().run_once();
  EXPECT_EQ(cp_.last().capacity.cpu.milli, 2000);
  EXPECT_EQ(cp_.last().capacity.memory.text, "16Gi") << "memory still measured";
  EXPECT_EQ(cp_.last().usage.cpu.milli, 0) << "one sample: no delta yet";
  write_proc(100 + 50, 900 + 50);  // half the ticks busy
  round();
  EXPECT_EQ(cp_.last().usage.cpu.milli, 1000) << "the first value is taken as is";
  write_proc(150, 1000 + 100);  // idle
  round();
  EXPECT_EQ(cp_.last().usage.cpu.milli, 700) << "alpha 0.3";
}

// A sim agent stands for a host: its use is what its simulated VMs use, not
// what /proc says of the machine the simulation runs on.
TEST_F(SyncLoopTest, ASimulatedHostUsesItsVmsLoadNotProc) {
  options_.simulated_host = true;
  cp_.answer.vms = {bound("web-1", 1), bound("web-2", 1)};  // 500m and 256Mi each
  loop().run_once();  // measures 0 (nothing runs yet), then starts them
  write_proc(100 + 50, 900 + 50);  // /proc says half busy: ignored
  round();
  // Smoothed like a measurement (alpha 0.3): 0 → 0.3 × 1000m.
  EXPECT_EQ(cp_.last().usage.cpu.milli, 300);
  EXPECT_EQ(cp_.last().usage.memory.text, std::to_string((int64_t{512} << 20) * 3 / 10));
  round();
  EXPECT_EQ(cp_.last().usage.cpu.milli, 510);  // 0.3 × 1000 + 0.7 × 300
}

TEST_F(SyncLoopTest, StartsBoundVmsWithTheirEpochsAndReportsThem) {
  cp_.answer.vms = {bound("web-1", 3), bound("web-2", 7)};
  loop().run_once();
  EXPECT_EQ(driver_.calls(), (std::vector<std::string>{"start web-1", "start web-2"}));
  EXPECT_EQ(instance("web-1").epoch, 3);
  EXPECT_EQ(instance("web-2").epoch, 7);

  ASSERT_EQ(cp_.requests.size(), 2u) << "VMs it just started are reported at once";
  EXPECT_FALSE(cp_.last().fullReport);
  ASSERT_EQ(cp_.last().vms.size(), 2u) << "new since the last acknowledged heartbeat";
  EXPECT_EQ(cp_.last_report("web-1")->phase, "Running");
  const VmReport* r = cp_.last_report("web-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->epoch, 3);
  EXPECT_EQ(r->phase, "Running");
  EXPECT_EQ(r->usage.cpu.text, "500m");
  EXPECT_EQ(r->usage.memory.text, "256Mi");
  EXPECT_EQ(r->lastError, "");
  EXPECT_EQ(r->startTime, format_time(clock_.now()));
  ASSERT_EQ(r->conditions.size(), 2u);
  EXPECT_EQ(r->conditions[0].type, "LimitsEnforced");
  EXPECT_EQ(r->conditions[0].status, "True");
  EXPECT_EQ(r->conditions[1].type, "Ready") << "running, and no readiness probe says otherwise";
  EXPECT_EQ(r->conditions[1].status, "True");
  EXPECT_TRUE(validate_heartbeat(cp_.last()).ok());

  round();
  EXPECT_TRUE(cp_.last().vms.empty()) << "nothing changed";
  ASSERT_TRUE(driver_.set_load("web-2", 900, 256 << 20).ok());
  round();
  ASSERT_EQ(cp_.last().vms.size(), 1u) << "usage moved by more than 10 %";
  EXPECT_EQ(cp_.last().vms[0].name, "web-2");
  for (int i = 0; i < 26; ++i) round();
  EXPECT_TRUE(cp_.last().vms.empty());
  round();
  EXPECT_TRUE(cp_.last().fullReport) << "the 31st heartbeat is full";
  EXPECT_EQ(cp_.last().vms.size(), 2u);
  EXPECT_EQ(cp_.requests.size(), 31u);
}

TEST_F(SyncLoopTest, VmDroppedFromTheAnswerIsStoppedAndDestroyed) {
  cp_.answer.vms = {bound("web-1", 3), bound("web-2", 7)};
  loop().run_once();
  cp_.answer.vms = {bound("web-2", 7)};
  round();
  EXPECT_EQ(count_calls("stop web-1"), 1);
  EXPECT_EQ(count_calls("destroy web-1"), 1);
  ASSERT_EQ(driver_.list().size(), 1u);
  EXPECT_EQ(driver_.list()[0].name, "web-2");
  auto state = read_state_file(state_file());
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->vms.size(), 1u) << "the state file follows";
}

TEST_F(SyncLoopTest, EpochBumpStopsTheOldCopyBeforeStartingTheNew) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  cp_.answer.vms = {bound("web-1", 4)};
  round();
  EXPECT_EQ(driver_.calls(),
            (std::vector<std::string>{"start web-1", "stop web-1", "destroy web-1", "start web-1"}));
  EXPECT_EQ(instance("web-1").epoch, 4);
  round();
  ASSERT_NE(cp_.last_report("web-1"), nullptr);
  EXPECT_EQ(cp_.last_report("web-1")->epoch, 4);
  EXPECT_EQ(cp_.last_report("web-1")->restarts, 0) << "a new binding starts its own count";
}

TEST_F(SyncLoopTest, CrashWithAlwaysRestartsAfterADoublingBackoff) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  ASSERT_TRUE(driver_.crash("web-1", 1).ok());
  loop().run_once();  // sees the crash: restart due in 1 s
  clock_.advance(milliseconds(899));
  loop().run_once();
  EXPECT_EQ(count_calls("start web-1"), 1) << "still backing off";
  clock_.advance(milliseconds(1));  // a round up to a tenth of the interval early counts
  loop().run_once();
  EXPECT_EQ(count_calls("start web-1"), 2);
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning);

  ASSERT_TRUE(driver_.crash("web-1", 1).ok());
  round();  // heartbeat first (reports the crash), then the restart is scheduled
  clock_.advance(milliseconds(1899));
  loop().run_once();
  EXPECT_EQ(count_calls("start web-1"), 2) << "the second back-off is 2 s";
  const VmReport* r = cp_.last_report("web-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->phase, "Starting") << "backing off: Starting, so the controller does not replace it";
  EXPECT_EQ(r->lastError, "exit code 1");
  EXPECT_EQ(r->restarts, 1);
  clock_.advance(milliseconds(1));
  loop().run_once();
  EXPECT_EQ(count_calls("start web-1"), 3);

  round();
  r = cp_.last_report("web-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->phase, "Running");
  EXPECT_EQ(r->restarts, 2);
  EXPECT_EQ(r->lastError, "exit code 1") << "the last failure stays visible";
}

TEST_F(SyncLoopTest, FailedStartIsRetriedWithBackoff) {
  driver_.fail_next_start("web-1", "no such image");
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  round();
  const VmReport* r = cp_.last_report("web-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->phase, "Starting");
  EXPECT_EQ(r->lastError, "failed to start: no such image");
  EXPECT_EQ(count_calls("start web-1"), 1) << "backing off";
  round();
  EXPECT_EQ(count_calls("start web-1"), 2) << "restarted after the 1 s back-off";
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning);
}

TEST_F(SyncLoopTest, OnFailureWithExitZeroIsNotRestartedAndHasNoLastError) {
  cp_.answer.vms = {bound("job-1", 1, "OnFailure")};
  loop().run_once();
  ASSERT_TRUE(driver_.crash("job-1", 0).ok());
  for (int i = 0; i < 5; ++i) round();
  EXPECT_EQ(count_calls("start job-1"), 1);
  round();
  const HeartbeatRequest& r = cp_.requests[cp_.requests.size() - 5];
  ASSERT_EQ(r.vms.size(), 1u);
  EXPECT_EQ(r.vms[0].phase, "Failed");
  EXPECT_EQ(r.vms[0].lastError, "");
}

TEST_F(SyncLoopTest, NeverIsReportedFailed) {
  cp_.answer.vms = {bound("job-1", 1, "Never")};
  loop().run_once();
  ASSERT_TRUE(driver_.crash("job-1", 2).ok());
  loop().run_once();
  for (int i = 0; i < 3; ++i) round();
  EXPECT_EQ(count_calls("start job-1"), 1);
  const VmReport* r = cp_.last_report("job-1");
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->phase, "Failed");
  EXPECT_EQ(r->lastError, "exit code 2");
}

TEST_F(SyncLoopTest, ControllerUnreachableKeepsVmsRunningRetriesAndCatchesUp) {
  cp_.answer.vms = {bound("web-1", 3), bound("web-2", 7)};
  loop().run_once();
  round();
  cp_.unreachable = true;
  const size_t before = cp_.requests.size();
  ASSERT_TRUE(driver_.crash("web-2", 1).ok());
  for (int i = 0; i < 20; ++i) round();
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning);
  EXPECT_EQ(instance("web-2").state, InstanceState::kRunning) << "restarts go on";
  EXPECT_EQ(count_calls("stop web-1"), 0);
  // An attempt every second: the back-off is capped at 1 s, so a controller
  // back after an outage of any length hears from this node within a second
  // (it was 1, 2, 4, 5, 5 s, longer than the grace a restarted controller gave).
  EXPECT_EQ(cp_.requests.size() - before, 20u);

  cp_.unreachable = false;
  for (int i = 0; i < 5 && cp_.requests.size() - before < 21; ++i) round();
  EXPECT_TRUE(cp_.last().fullReport) << "catching up after the outage";
  EXPECT_EQ(cp_.last().vms.size(), 2u);
  ASSERT_NE(cp_.last_report("web-2"), nullptr);
  EXPECT_EQ(cp_.last_report("web-2")->restarts, 1);
  round();
  EXPECT_FALSE(cp_.last().fullReport);
  // 21: the first answered beat, without VM reports; 22: the full report, at
  // once in the same round; 23: the next interval.
  EXPECT_EQ(cp_.requests.size() - before, 23u) << "back to one heartbeat per interval";
}

TEST_F(SyncLoopTest, AGracefulStopTellsTheControllerItIsARestart) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  const size_t beats = cp_.requests.size();
  std::stop_source stop;
  stop.request_stop();
  loop().run(stop.get_token());
  ASSERT_EQ(cp_.requests.size(), beats + 1);
  EXPECT_EQ(cp_.last().restartWindowSeconds, 300);
  EXPECT_EQ(cp_.last().holderIdentity, "host-1/42-cafe");
  EXPECT_TRUE(cp_.last().vms.empty());
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning) << "VMs are left running";
  EXPECT_EQ(count_calls("stop web-1"), 0);
}

TEST_F(SyncLoopTest, NoRestartIsAnnouncedWhenDisabledOrNeverAnswered) {
  std::stop_source stop;
  stop.request_stop();
  cp_.unreachable = true;
  loop().run_once();
  const size_t beats = cp_.requests.size();
  loop().run(stop.get_token());
  EXPECT_EQ(cp_.requests.size(), beats) << "nothing to keep before the first answer";

  loop_.reset();
  cp_.unreachable = false;
  options_.restart_window = std::chrono::milliseconds(0);
  loop().run_once();
  const size_t answered = cp_.requests.size();
  loop().run(stop.get_token());
  EXPECT_EQ(cp_.requests.size(), answered);
}

TEST_F(SyncLoopTest, ConflictStartsNothing) {
  cp_.conflict = true;
  cp_.answer.vms = {bound("web-1", 3)};
  for (int i = 0; i < 3; ++i) round();
  EXPECT_TRUE(driver_.calls().empty());
  EXPECT_TRUE(loop().conflicted());
  cp_.conflict = false;
  for (int i = 0; i < 5 && driver_.calls().empty(); ++i) round();
  EXPECT_EQ(driver_.calls(), (std::vector<std::string>{"start web-1"}));
  EXPECT_FALSE(loop().conflicted());
}

TEST_F(SyncLoopTest, InvalidAnswerKeepsConvergingToTheLastAnswer) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  cp_.fail_next.push_back(invalid("heartbeat", {{"usage.cpu", "must not be negative", ""}}));
  ASSERT_TRUE(driver_.crash("web-1", 1).ok());
  round();
  round();
  EXPECT_EQ(count_calls("start web-1"), 2);
}

TEST_F(SyncLoopTest, RestartedAgentAdoptsInsteadOfStartingTwice) {
  cp_.answer.vms = {bound("web-1", 3), bound("web-2", 7)};
  loop().run_once();
  auto state = read_state_file(state_file());
  ASSERT_TRUE(state.ok());
  ASSERT_EQ(state->vms.size(), 2u);
  EXPECT_EQ(state->vms["web-2"].epoch, 7);
  EXPECT_EQ(state->vms["web-2"].driver, "sim");

  restart_agent();
  cp_.unreachable = true;  // the controller is down while the agent restarts
  for (int i = 0; i < 3; ++i) round();
  EXPECT_EQ(count_calls("adopt web-1"), 1);
  EXPECT_EQ(count_calls("stop web-1") + count_calls("stop web-2"), 0)
      << "adopted VMs are kept until an answer says otherwise";
  cp_.unreachable = false;
  for (int i = 0; i < 5 && !loop().has_answer(); ++i) round();
  ASSERT_TRUE(loop().has_answer());
  EXPECT_EQ(count_calls("start web-1") + count_calls("start web-2"), 2) << "no second start";
  EXPECT_EQ(cp_.last().holderIdentity, "host-1/43-beef");
  EXPECT_TRUE(cp_.last().fullReport);
  ASSERT_NE(cp_.last_report("web-2"), nullptr);
  EXPECT_EQ(cp_.last_report("web-2")->phase, "Running");
  EXPECT_EQ(cp_.last_report("web-2")->epoch, 7);
}

TEST_F(SyncLoopTest, AdoptedVmNoLongerBoundIsStoppedOnceTheControllerAnswers) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  restart_agent();
  cp_.answer.vms = {};
  round();
  EXPECT_EQ(count_calls("adopt web-1"), 1);
  EXPECT_EQ(count_calls("destroy web-1"), 1);
  EXPECT_TRUE(driver_.list().empty());
}

TEST_F(SyncLoopTest, CorruptStateFileIsRebuiltFromTheDriver) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  restart_agent();
  std::ofstream(state_file(), std::ios::trunc) << "{\"version\": 1, \"vms\": {\"web-1\": {\"ep";
  round();
  EXPECT_EQ(count_calls("start web-1"), 1) << "found running in the driver: kept";
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning);
  auto state = read_state_file(state_file());
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->vms.size(), 1u) << "rewritten";
  EXPECT_TRUE(std::filesystem::exists(state_file().string() + ".corrupt"));
}

TEST_F(SyncLoopTest, PokeHeartbeatsAtOnceInsteadOfAtTheNextInterval) {
  loop().run_once();
  const size_t beats = cp_.requests.size();
  loop().run_once();
  EXPECT_EQ(cp_.requests.size(), beats) << "not due yet";
  cp_.answer.vms = {bound("web-1", 3)};  // the controller bound a VM here and nudged
  loop().poke();
  loop().run_once();
  EXPECT_GT(cp_.requests.size(), beats);
  EXPECT_EQ(count_calls("start web-1"), 1) << "started without waiting for the interval";
}

TEST_F(SyncLoopTest, WallClockJumpChangesNothing) {
  cp_.answer.vms = {bound("web-1", 3)};
  loop().run_once();
  ASSERT_TRUE(driver_.crash("web-1", 1).ok());
  loop().run_once();  // restart due in 1 s (steady)
  const size_t beats = cp_.requests.size();
  clock_.set(clock_.now() + hours(24));
  loop().run_once();
  clock_.set(clock_.now() - hours(48));
  loop().run_once();
  EXPECT_EQ(count_calls("start web-1"), 1) << "no restart: steady time did not move";
  EXPECT_EQ(cp_.requests.size(), beats) << "no extra heartbeat";
  round();
  EXPECT_EQ(count_calls("start web-1"), 2);
  EXPECT_EQ(cp_.last().time, format_time(clock_.now())) << "timestamps follow the wall";
}

// ---- partitions and self-fencing --------------------------------------------------

TEST_F(SyncLoopTest, ReturningAfterAPartitionStopsMovedCopiesBeforeReportingThem) {
  cp_.answer.vms = {bound("web-1", 3), bound("web-2", 7)};
  loop().run_once();
  cp_.unreachable = true;  // partitioned: the process goes on running
  for (int i = 0; i < 8; ++i) round();
  EXPECT_EQ(instance("web-1").state, InstanceState::kRunning) << "fencing none: keeps running";
  // Meanwhile the controller re-placed web-1 elsewhere and web-2 here again at epoch 8.
  cp_.answer.vms = {bound("web-2", 8)};
  cp_.unreachable = false;
  const size_t before = cp_.requests.size();
  for (int i = 0; i < 6 && cp_.requests.size() == before + 0; ++i) round();
  ASSERT_GT(cp_.requests.size(), before);
  // Every beat since the partition: no report of web-1, none of web-2 epoch 7.
  for (size_t i = before; i < cp_.requests.size(); ++i) {
    for (const VmReport& r : cp_.requests[i].vms) {
      EXPECT_NE(r.name, "web-1") << "beat " << i << " reported the moved copy";
      EXPECT_EQ(r.epoch, 8) << "beat " << i << " reported a stale epoch";
    }
  }
  EXPECT_TRUE(cp_.requests[before].vms.empty()) << "the first answered beat reports nothing";
  EXPECT_EQ(count_calls("stop web-1"), 1);
  EXPECT_EQ(count_calls("destroy web-1"), 1);
  EXPECT_EQ(instance("web-2").epoch, 8);
  EXPECT_TRUE(cp_.last().fullReport) << "the full report follows in the same round";
  ASSERT_NE(cp_.last_report("web-2"), nullptr);
  EXPECT_EQ(cp_.last_report("web-2")->epoch, 8);
}

TEST_F(SyncLoopTest, SelfFenceFiresAfterTheGraceWithoutAnswersNotBefore) {
  cp_.answer.leaseDurationSeconds = 3;  // the controller's grace, not the 2 s default
  cp_.answer.vms = {bound("fenced", 3, "Always", "selfFence"), bound("plain", 4)};
  loop().run_once();  // answered beats sent at t = 0
  EXPECT_EQ(loop().lease_grace(), seconds(3));
  ASSERT_TRUE(loop().fence_deadline().has_value());
  EXPECT_EQ(*loop().fence_deadline(), clock_.steady_now() + seconds(3));
  cp_.unreachable = true;
  round();
  round();
  clock_.advance(milliseconds(999));
  loop().run_once();  // t = 2.999 s
  EXPECT_FALSE(loop().fenced());
  EXPECT_EQ(count_calls("stop fenced"), 0) << "not before the grace";
  clock_.advance(milliseconds(1));
  loop().run_once();  // t = 3 s
  EXPECT_TRUE(loop().fenced());
  EXPECT_EQ(count_calls("stop fenced"), 1);
  EXPECT_EQ(count_calls("destroy fenced"), 1);
  EXPECT_EQ(count_calls("stop plain"), 0) << "fencing none keeps running";
  EXPECT_EQ(instance("plain").state, InstanceState::kRunning);
  for (int i = 0; i < 10; ++i) round();
  EXPECT_EQ(count_calls("start fenced"), 1) << "not restarted while the lease cannot be renewed";
  for (const auto& s : driver_.list()) EXPECT_NE(s.name, "fenced");
  EXPECT_FALSE(loop().fence_deadline().has_value());
}

TEST_F(SyncLoopTest, SelfFenceIsMeasuredFromTheSendOfTheLastAnsweredBeat) {
  cp_.answer.vms = {bound("fenced", 3, "Always", "selfFence")};
  loop().run_once();
  const auto t0 = clock_.steady_now();
  // The next beat is sent at t0 + 1 s and answered 1.5 s later (a slow
  // controller): the lease was renewed no earlier than t0 + 1 s.
  cp_.during_call = [this] {
    cp_.during_call = nullptr;
    clock_.advance(milliseconds(1500));
  };
  round();
  cp_.unreachable = true;
  ASSERT_TRUE(loop().fence_deadline().has_value());
  EXPECT_EQ(*loop().fence_deadline(), t0 + seconds(3)) << "send + 2 s grace, not answer + 2 s";
  clock_.advance(milliseconds(499));  // t0 + 2.999 s
  loop().run_once();
  EXPECT_FALSE(loop().fenced());
  clock_.advance(milliseconds(1));  // t0 + 3 s
  loop().run_once();
  EXPECT_TRUE(loop().fenced());
  EXPECT_EQ(count_calls("stop fenced"), 1);
}

TEST_F(SyncLoopTest, AfterSelfFencingTheAnswerDecidesWhatStartsAgain) {
  cp_.answer.vms = {bound("kept", 3, "Always", "selfFence"),
                    bound("moved", 5, "Always", "selfFence")};
  loop().run_once();
  cp_.unreachable = true;
  for (int i = 0; i < 3; ++i) round();
  ASSERT_TRUE(loop().fenced());
  EXPECT_TRUE(driver_.list().empty());
  // The controller had not re-placed `kept` yet; `moved` runs elsewhere now.
  cp_.answer.vms = {bound("kept", 3, "Always", "selfFence")};
  cp_.unreachable = false;
  for (int i = 0; i < 6 && loop().fenced(); ++i) round();
  ASSERT_FALSE(loop().fenced());
  EXPECT_EQ(count_calls("start kept"), 1)
      << "the first answer may predate the controller's Lost write: one more is awaited";
  round();
  EXPECT_EQ(count_calls("start kept"), 2) << "still bound here at the same epoch: started again";
  EXPECT_EQ(count_calls("start moved"), 1) << "re-placed: its fenced copy stays stopped";
  ASSERT_EQ(driver_.list().size(), 1u);
  EXPECT_EQ(instance("kept").epoch, 3);
  EXPECT_EQ(instance("kept").state, InstanceState::kRunning);
}

TEST_F(SyncLoopTest, TheFenceDeadlineIsCheckedWhileConvergingNotOnlyAroundHeartbeats) {
  cp_.answer.vms = {bound("old", 1)};
  loop().run_once();
  ASSERT_EQ(instance("old").epoch, 1);
  // The next answer re-binds `old` at a new epoch and binds a selfFence VM.
  // Stopping the stale copy takes 3 s (a guest slow to shut down): the lease
  // answered at the start of the round lapses meanwhile (grace 2 s).
  cp_.answer.vms = {bound("old", 2), bound("db", 5, "Always", "selfFence")};
  driver_.on_stop = [this](const std::string& name) {
    if (name == "old") clock_.advance(seconds(3));
  };
  round();
  driver_.on_stop = nullptr;
  EXPECT_EQ(count_calls("start db"), 0)
      << "a selfFence VM is not started after its deadline, even in the round that was answered";
  const VmReport* db = cp_.last_report("db");
  ASSERT_NE(db, nullptr);
  EXPECT_NE(db->message.find("stopped by self-fencing: lease not renewed for 3s"), std::string::npos)
      << db->message;
  EXPECT_EQ(instance("old").epoch, 2) << "fencing none VMs still converge";
  // The report beat was answered: still bound here, it starts on the answer
  // to a later beat.
  round();
  round();
  EXPECT_EQ(count_calls("start db"), 1);
}

TEST(MakeReport, ARunningCopyCarriesItsAddressAndPid) {
  TrackedVm vm;
  vm.binding.name = "web-1";
  vm.binding.epoch = 2;
  InstanceStatus instance;
  instance.name = "web-1";
  instance.epoch = 2;
  instance.port = 40001;
  instance.pid = 4242;
  const VmReport r = make_report(vm, &instance, nullptr, ReportContext{});
  EXPECT_EQ(r.address, "127.0.0.1:40001");
  EXPECT_EQ(r.pid, 4242);
  instance.state = InstanceState::kExited;
  EXPECT_EQ(make_report(vm, &instance, nullptr, ReportContext{}).pid, 0) << "an ended copy has no process";
}

}  // namespace agent_sync_loop_test
}  // namespace corral::agent
