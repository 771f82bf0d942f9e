// Self-fencing's parts with fakes: the Fencer (one stop_all for every
// selfFence VM, the deadline, starts refused once it passed), the fence
// watchdog's decisions (a fake ProcessOps, time passed in) and the guard
// file's format. Nothing sleeps.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include "agent/drivers/sim_driver.h"
#include "agent/fence/fencer.h"
#include "agent/fence/guard_file.h"
#include "agent/fence/watchdog.h"
#include "base/clock.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_fence_test {

using std::chrono::milliseconds;
using std::chrono::seconds;

// The sim driver, recording each stop_all call with its names.
class RecordingDriver final : public Driver {
 public:
  std::string name() const override { return "recording"; }
  Result<InstanceStatus> start(const VmInstance& vm) override { return sim.start(vm); }
  Result<void> stop(const std::string& name) override {
    stops.push_back(name);
    return sim.stop(name);
  }
  Result<void> stop_all(const std::vector<std::string>& names) override {
    stop_all_calls.push_back(names);
    for (const auto& n : names) (void)sim.stop(n);
    return Ok{};
  }
  Result<void> destroy(const std::string& name) override { return sim.destroy(name); }
  std::vector<InstanceStatus> list() override { return sim.list(); }
  Result<InstanceStats> stats(const std::string& name) override { return sim.stats(name); }
  Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& h) override {
    return sim.adopt(vm, h);
  }

  SimDriver sim;
  std::vector<std::string> stops;
  std::vector<std::vector<std::string>> stop_all_calls;
};

VmInstance vm(const std::string& name) {
  VmInstance v;
  v.name = name;
  v.node = "host-1";
  v.epoch = 1;
  v.runtime.driver = "sim";
  return v;
}

class RecordingLease final : public FenceLease {
 public:
  void renew(std::chrono::steady_clock::time_point deadline) override { deadlines.push_back(deadline); }
  std::vector<std::chrono::steady_clock::time_point> deadlines;
};

TEST(Fencer, StopsEverySelfFenceVmInOneStopAllAtTheDeadline) {
  FakeClock clock;
  RecordingDriver driver;
  RecordingLease lease;
  Fencer fencer(driver, clock, &lease);
  for (const char* n : {"db-1", "db-2", "db-3", "web-1"}) ASSERT_TRUE(driver.start(vm(n)).ok());
  fencer.set_guarded({"db-1", "db-2", "db-3"});
  const auto sent = clock.steady_now();
  EXPECT_FALSE(fencer.renew(sent, seconds(2)));
  ASSERT_EQ(lease.deadlines.size(), 1u) << "every renewal goes to the watchdog too";
  EXPECT_EQ(lease.deadlines[0], sent + seconds(2));
  ASSERT_TRUE(fencer.deadline());
  EXPECT_EQ(*fencer.deadline(), sent + seconds(2));

  clock.advance(milliseconds(1999));
  EXPECT_EQ(fencer.fence_if_due(clock.steady_now()), 0) << "not before the deadline";
  clock.advance(milliseconds(1));
  EXPECT_EQ(fencer.fence_if_due(clock.steady_now()), 3);
  ASSERT_EQ(driver.stop_all_calls.size(), 1u) << "one budget for all of them";
  EXPECT_EQ(driver.stop_all_calls[0], (std::vector<std::string>{"db-1", "db-2", "db-3"}));
  EXPECT_TRUE(driver.stops.empty()) << "never one stop after another";
  EXPECT_TRUE(fencer.fenced());
  EXPECT_EQ(fencer.reason(), "lease not renewed for 2s (grace 2s)");
  ASSERT_EQ(driver.list().size(), 1u) << "fenced VMs destroyed, fencing none kept";
  EXPECT_EQ(driver.list()[0].name, "web-1");
  EXPECT_EQ(fencer.fence_if_due(clock.steady_now()), 0) << "idempotent";
  EXPECT_FALSE(fencer.deadline());

  EXPECT_TRUE(fencer.renew(clock.steady_now(), seconds(2))) << "an answer lifts the fence";
  EXPECT_FALSE(fencer.fenced());
}

TEST(Fencer, StartsOnlyWhileTheLeaseHolds) {
  FakeClock clock;
  RecordingDriver driver;
  Fencer fencer(driver, clock);
  int started = 0;
  auto start = [&] { ++started; };
  fencer.set_guarded({"db-1"});
  EXPECT_FALSE(fencer.while_lease_holds(clock.steady_now(), start)) << "no answer yet";
  fencer.renew(clock.steady_now(), seconds(2));
  EXPECT_TRUE(fencer.while_lease_holds(clock.steady_now() + milliseconds(1999), start));
  EXPECT_FALSE(fencer.while_lease_holds(clock.steady_now() + seconds(2), start))
      << "the deadline passed: the fence may be stopping it, the controller re-placing it";
  EXPECT_EQ(started, 1);
  clock.advance(seconds(2));
  fencer.fence_if_due(clock.steady_now());
  EXPECT_FALSE(fencer.while_lease_holds(clock.steady_now() - seconds(1), start))
      << "fenced: nothing starts until an answer";
  EXPECT_EQ(started, 1);
}

TEST(Fencer, NothingGuardedNoDeadlineAndAnOlderAnswerMovesNothing) {
  FakeClock clock;
  RecordingDriver driver;
  Fencer fencer(driver, clock);
  const auto t0 = clock.steady_now();
  fencer.renew(t0 + seconds(1), seconds(2));
  EXPECT_FALSE(fencer.deadline()) << "no selfFence VM: nothing to fence";
  fencer.set_guarded({"db-1"});
  fencer.renew(t0, seconds(2));  // the answer to an earlier beat, arriving late
  EXPECT_EQ(*fencer.deadline(), t0 + seconds(3));
}

// ---- the watchdog's decisions ------------------------------------------------------

class FakeProcesses final : public ProcessOps {
 public:
  Found find(int pid, uint64_t start_time) override {
    auto it = procs.find(pid);
    if (it == procs.end()) return Found::kGone;
    if (it->second.first != start_time) return Found::kOther;
    return it->second.second ? Found::kOursZombie : Found::kOurs;
  }
  void signal_group(int pgid, int signal) override { signals.push_back({pgid, signal}); }
  std::map<int, std::pair<uint64_t, bool>> procs;  // pid → (starttime, zombie)
  std::vector<std::pair<int, int>> signals;         // (group, signal)
};

constexpr int64_t kMs = 1'000'000;

GuardState guard_with(int64_t deadline_ns, int64_t budget_ms) {
  GuardState g;
  g.deadline_ns = deadline_ns;
  g.budget_ms = budget_ms;
  g.vms["db-1"] = {101, 7};
  g.vms["db-2"] = {102, 8};
  return g;
}

TEST(FenceWatchdog, SigtermsEveryGuardedVmAtTheDeadlineAndSigkillsAtTheBudget) {
  FakeProcesses procs;
  procs.procs = {{101, {7, false}}, {102, {8, false}}};
  FenceWatchdog watchdog(procs);
  const GuardState g = guard_with(1000 * kMs, 500);
  EXPECT_TRUE(watchdog.step(g, 999 * kMs).empty()) << "not before the deadline";
  EXPECT_TRUE(procs.signals.empty());
  EXPECT_EQ(watchdog.step(g, 1000 * kMs).size(), 2u);
  EXPECT_EQ(procs.signals, (std::vector<std::pair<int, int>>{{101, SIGTERM}, {102, SIGTERM}}));
  procs.procs.erase(101);  // db-1 ended on SIGTERM (its group may still hold children)
  procs.signals.clear();
  EXPECT_TRUE(watchdog.step(g, 1499 * kMs).empty());
  watchdog.step(g, 1500 * kMs);
  EXPECT_EQ(procs.signals, (std::vector<std::pair<int, int>>{{101, SIGKILL}, {102, SIGKILL}}))
      << "the group of a leader that is gone (its pid free) and of one still running";
  procs.signals.clear();
  watchdog.step(g, 9000 * kMs);
  EXPECT_TRUE(procs.signals.empty()) << "each copy fenced once";
  EXPECT_EQ(watchdog.pending(), 0u);
}

TEST(FenceWatchdog, NeverSignalsARecycledPidNorBeforeTheFirstDeadline) {
  FakeProcesses procs;
  procs.procs = {{101, {99, false}}, {102, {8, false}}};  // 101 is another process now
  FenceWatchdog watchdog(procs);
  watchdog.step(guard_with(0, 500), 5000 * kMs);
  EXPECT_TRUE(procs.signals.empty()) << "deadline 0: not armed yet";
  const GuardState g = guard_with(1000 * kMs, 500);
  watchdog.step(g, 1000 * kMs);
  watchdog.step(g, 2000 * kMs);
  EXPECT_EQ(procs.signals, (std::vector<std::pair<int, int>>{{102, SIGTERM}, {102, SIGKILL}}));
}

TEST(FenceWatchdog, ARenewalAfterTheDeadlineDoesNotCallOffAFenceUnderWay) {
  FakeProcesses procs;
  procs.procs = {{101, {7, false}}, {102, {8, false}}};
  FenceWatchdog watchdog(procs);
  watchdog.step(guard_with(1000 * kMs, 500), 1000 * kMs);
  // The agent was answered again: a later deadline; the agent's own fence
  // stops these copies too, so the watchdog finishes what it began.
  watchdog.step(guard_with(5000 * kMs, 500), 1500 * kMs);
  EXPECT_EQ(procs.signals.size(), 4u);
  EXPECT_EQ(procs.signals.back(), (std::pair<int, int>{102, SIGKILL}));
}

// ---- the guard file -----------------------------------------------------------------

TEST(GuardFile, RoundTripsAndNamesTheLineOfABadOne) {
  GuardState g = guard_with(123456789, 10000);
  auto parsed = parse_guard(format_guard(g), "guard");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(*parsed, g);
  auto bad = parse_guard("corral-fence-guard 1\ndeadline 5\nbudget-ms 10\nvm db-1 0 7\n", "f");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "f:4: fence guard file: vm: expected NAME PID STARTTIME with PID > 0");
  auto truncated = parse_guard("corral-fence-guard 1\ndeadline 5\n", "f");
  ASSERT_FALSE(truncated.ok());
  EXPECT_NE(truncated.error().message.find("truncated"), std::string::npos);
}

TEST(GuardFile, ARestartedAgentKeepsThePreviousDeadlineAndEntries) {
  corral::testing::TempDir dir;
  const auto path = dir.path() / "fence-guard";
  {
    auto first = GuardFile::open(path, seconds(10));
    ASSERT_TRUE(first.ok()) << first.error().message;
    (*first)->renew(std::chrono::steady_clock::now() + seconds(2));
    ASSERT_TRUE((*first)->add("db-1", {4242, 77}).ok());
  }
  auto second = GuardFile::open(path, seconds(3));
  ASSERT_TRUE(second.ok());
  const GuardState s = (*second)->state();
  EXPECT_GT(s.deadline_ns, boottime_now_ns()) << "the old deadline stays armed";
  EXPECT_EQ(s.budget_ms, 3000) << "the new agent's budget";
  ASSERT_EQ(s.vms.count("db-1"), 1u);
  (*second)->remove("db-1");
  auto read = read_guard_file(path);
  ASSERT_TRUE(read.ok());
  EXPECT_TRUE(read->vms.empty());
}

}  // namespace agent_fence_test
}  // namespace corral::agent
