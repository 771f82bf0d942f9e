// Real child processes, started and stopped by each test. The only unit tests
// that wait for real: they poll a child's state with a deadline, never a fixed
// sleep.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "agent/drivers/driver.h"
#include "agent/drivers/process_driver.h"
#include "agent/fence/guard_file.h"
#include "agent/metrics/metrics_source.h"
#include "tests/support/temp_dir.h"

namespace corral::agent {
namespace agent_process_driver_test {

using namespace std::chrono_literals;

constexpr auto kDeadline = 5s;
constexpr auto kPoll = 10ms;
constexpr auto kTestGrace = 200ms;

bool eventually(const std::function<bool()>& pred) {
  auto until = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(kPoll);
  }
  return pred();
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A VM's grandchild outlives its parent and is re-parented. The test process
// is a child subreaper (see the fixture), so it becomes ours and is reaped here
// rather than left as a zombie for an init that may never reap it.
bool reaped(int pid) {
  int status;
  waitpid(pid, &status, WNOHANG);
  return !std::filesystem::exists("/proc/" + std::to_string(pid));
}

class ProcessDriverTest : public ::testing::Test {
 protected:
  ProcessDriverTest() {
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    options_.data_dir = dir_.path() / "data";
    options_.cgroup_root = dir_.path() / "no-cgroup";
    options_.stop_grace = kTestGrace;
    driver_ = make();
  }
  ~ProcessDriverTest() override {
    // Never leave a child behind, whatever the test did.
    for (const auto& s : driver_->list()) (void)driver_->destroy(s.name);
  }

  std::unique_ptr<Driver> make() {
    auto d = make_driver("process", options_);
    EXPECT_TRUE(d.ok()) << d.error().message;
    return std::move(d).value();
  }

  static VmInstance shell(const std::string& name, const std::string& script) {
    VmInstance vm;
    vm.name = name;
    vm.node = "host-1";
    vm.epoch = 5;
    vm.runtime.command = {"/bin/sh", "-c", script};
    return vm;
  }

  InstanceStatus status_of(const std::string& name) {
    for (const auto& s : driver_->list())
      if (s.name == name) return s;
    ADD_FAILURE() << "vm/" << name << " not listed";
    return {};
  }

  bool ended(const std::string& name) { return status_of(name).state != InstanceState::kRunning; }

  corral::testing::TempDir dir_;
  DriverOptions options_;
  std::unique_ptr<GuardFile> guard_;  // options_.guard when a test sets one
  std::unique_ptr<Driver> driver_;
};

TEST_F(ProcessDriverTest, SubstitutesPortAndCorralVariables) {
  auto vm = shell("web-1",
                  "echo arg=${PORT} env=$CORRAL_PORT port=$PORT name=$CORRAL_VM_NAME "
                  "node=${CORRAL_NODE} epoch=$CORRAL_EPOCH extra=$EXTRA keep=${UNKNOWN}x");
  vm.runtime.env.set("EXTRA", "p${PORT}");
  auto s = driver_->start(vm);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->state, InstanceState::kRunning) << s->message;
  ASSERT_GT(s->port, 0);
  ASSERT_TRUE(eventually([&] { return ended("web-1"); }));
  std::string port = std::to_string(s->port);
  auto log = slurp(options_.data_dir / "logs" / "web-1.log");
  EXPECT_EQ(log, "arg=" + port + " env=" + port + " port=" + port +
                     " name=web-1 node=host-1 epoch=5 extra=p" + port + " keep=x\n");
}

TEST_F(ProcessDriverTest, LogsStdoutAndStderrAndReportsExitCode) {
  ASSERT_TRUE(driver_->start(shell("job", "echo out; echo err >&2; exit 3")).ok());
  ASSERT_TRUE(eventually([&] { return ended("job"); }));
  auto s = status_of("job");
  EXPECT_EQ(s.state, InstanceState::kExited);
  EXPECT_EQ(s.exit_code, 3);
  EXPECT_EQ(s.message, "exited with code 3");
  EXPECT_EQ(slurp(options_.data_dir / "logs" / "job.log"), "out\nerr\n");
  // Reaped: no zombie left under our pid.
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(s.pid)));
}

TEST_F(ProcessDriverTest, MissingCommandFailsToStartWithReason) {
  VmInstance vm = shell("ghost", "");
  vm.runtime.command = {"/no/such/bin", "--flag"};
  auto s = driver_->start(vm);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->state, InstanceState::kFailedToStart);
  EXPECT_EQ(s->message, "failed to start: /no/such/bin: No such file or directory");
  EXPECT_EQ(status_of("ghost").state, InstanceState::kFailedToStart);
}

TEST_F(ProcessDriverTest, EmptyCommandIsABadRequest) {
  VmInstance vm = shell("empty", "");
  vm.runtime.command.clear();
  auto s = driver_->start(vm);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kBadRequest);
}

TEST_F(ProcessDriverTest, StopTerminatesTheProcessGroup) {
  auto pidfile = dir_.file("child.pid");
  ASSERT_TRUE(driver_->start(shell("web-1", "sleep 30 & echo $! > " + pidfile + "; wait")).ok());
  ASSERT_TRUE(eventually([&] { return slurp(pidfile).ends_with("\n"); }));
  int child = std::stoi(slurp(pidfile));
  int leader = status_of("web-1").pid;
  ASSERT_TRUE(driver_->stop("web-1").ok());
  auto s = status_of("web-1");
  EXPECT_EQ(s.state, InstanceState::kExited);
  EXPECT_EQ(s.exit_code, 128 + SIGTERM) << s.message;
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(leader))) << "leader reaped";
  EXPECT_TRUE(eventually([&] { return reaped(child); })) << "grandchild " << child;
  EXPECT_TRUE(driver_->stop("web-1").ok()) << "stopping twice is Ok";
}

TEST_F(ProcessDriverTest, StopKillsAGroupThatIgnoresSigterm) {
  auto pidfile = dir_.file("child.pid");
  ASSERT_TRUE(driver_
                  ->start(shell("stubborn", "trap '' TERM; sleep 30 & echo $! > " + pidfile +
                                                "; wait; sleep 30"))
                  .ok());
  ASSERT_TRUE(eventually([&] { return slurp(pidfile).ends_with("\n"); }));
  int child = std::stoi(slurp(pidfile));
  auto begun = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver_->stop("stubborn").ok());
  EXPECT_GE(std::chrono::steady_clock::now() - begun, kTestGrace) << "waited out the grace";
  auto s = status_of("stubborn");
  EXPECT_EQ(s.exit_code, 128 + SIGKILL) << s.message;
  EXPECT_TRUE(eventually([&] { return reaped(child); })) << "grandchild " << child;
}

TEST_F(ProcessDriverTest, StopAllStopsEveryVmWithinOneGrace) {
  options_.stop_grace = 1s;
  driver_ = make();
  std::vector<std::string> names;
  for (int i = 0; i < 4; ++i) {
    const std::string name = "stubborn-" + std::to_string(i);
    names.push_back(name);
    ASSERT_TRUE(
        driver_->start(shell(name, "trap '' TERM; touch " + dir_.file(name) + "; sleep 30")).ok());
  }
  ASSERT_TRUE(eventually([&] {
    for (const auto& n : names)
      if (!std::filesystem::exists(dir_.file(n))) return false;
    return true;
  }));
  const auto begun = std::chrono::steady_clock::now();
  ASSERT_TRUE(driver_->stop_all(names).ok());
  const auto took = std::chrono::steady_clock::now() - begun;
  EXPECT_GE(took, 1s) << "the grace was waited out";
  // One after another they would take 4 s; together, one grace and a little.
  EXPECT_LT(took, 3s) << "one grace for all four VMs";
  for (const auto& n : names) EXPECT_EQ(status_of(n).exit_code, 128 + SIGKILL) << n;
}

TEST_F(ProcessDriverTest, ASelfFenceVmIsGuardedBeforeItRunsAndForgottenOnceReaped) {
  auto guard = GuardFile::open(dir_.path() / "fence-guard", 200ms);
  ASSERT_TRUE(guard.ok()) << guard.error().message;
  guard_ = std::move(*guard);
  options_.guard = guard_.get();
  driver_ = make();
  VmInstance db = shell("db", "sleep 30");
  db.self_fence = true;
  auto s = driver_->start(db);
  ASSERT_TRUE(s.ok() && s->state == InstanceState::kRunning);
  ASSERT_TRUE(driver_->start(shell("web", "sleep 30")).ok());
  auto on_disk = read_guard_file(guard_->path());
  ASSERT_TRUE(on_disk.ok()) << on_disk.error().message;
  ASSERT_EQ(on_disk->vms.size(), 1u) << "only the selfFence VM";
  EXPECT_EQ(on_disk->vms.at("db").pid, s->pid);
  EXPECT_EQ(on_disk->vms.at("db").start_time, s->start_time);
  ASSERT_TRUE(driver_->stop("db").ok());
  on_disk = read_guard_file(guard_->path());
  ASSERT_TRUE(on_disk.ok());
  EXPECT_TRUE(on_disk->vms.empty()) << "reaped: its pid may be reused, the watchdog must forget it";
}

TEST_F(ProcessDriverTest, DestroyForgetsTheInstance) {
  ASSERT_TRUE(driver_->start(shell("web-1", "sleep 30")).ok());
  int pid = status_of("web-1").pid;
  ASSERT_TRUE(driver_->destroy("web-1").ok());
  EXPECT_TRUE(driver_->list().empty());
  EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(pid)));
  EXPECT_TRUE(driver_->destroy("web-1").ok());
}

TEST_F(ProcessDriverTest, StartingARunningInstanceIsRefused) {
  ASSERT_TRUE(driver_->start(shell("web-1", "sleep 30")).ok());
  auto again = driver_->start(shell("web-1", "sleep 30"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST_F(ProcessDriverTest, RunsWithoutLimitsWhenCgroupV2IsNotWritable) {
  auto s = driver_->start(shell("web-1", "sleep 30"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, InstanceState::kRunning);
  EXPECT_FALSE(s->limits_enforced);
  EXPECT_EQ(s->limits_message,
            "cgroup v2 not writable at " + options_.cgroup_root.string() + ": limits not enforced");
}

TEST_F(ProcessDriverTest, WritesLimitsIntoADelegatedCgroupV2Tree) {
  // A stand-in cgroup v2 mount: the files the probe and the child write are
  // ordinary files here, so the test sees exactly what was written.
  auto root = dir_.path() / "cgroup";
  std::filesystem::create_directories(root);
  std::ofstream(root / "cgroup.controllers") << "cpuset cpu io memory pids\n";
  std::ofstream(root / "cgroup.subtree_control") << "cpu memory\n";
  options_.cgroup_root = root;
  auto driver = make();
  auto vm = shell("web-1", "exit 0");
  vm.resources.cpu = *parse_quantity("500m");
  vm.resources.memory = *parse_quantity("64Mi");
  auto s = driver->start(vm);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->limits_enforced) << s->limits_message;
  EXPECT_EQ(slurp(root / "corral" / "web-1" / "cpu.max"), "50000 100000");
  EXPECT_EQ(slurp(root / "corral" / "web-1" / "memory.max"), "67108864");
  EXPECT_EQ(slurp(root / "corral" / "web-1" / "cgroup.procs"), "0\n");
  EXPECT_EQ(slurp(root / "corral" / "cgroup.subtree_control"), "+cpu +memory");
  ASSERT_TRUE(eventually([&] { return driver->list()[0].state != InstanceState::kRunning; }));
  ASSERT_TRUE(driver->destroy("web-1").ok());
  EXPECT_FALSE(std::filesystem::exists(root / "corral" / "web-1"));
}

TEST_F(ProcessDriverTest, StatsMeasureTheProcess) {
  FakeClock clock;
  options_.clock = &clock;
  auto driver = make();
  ASSERT_TRUE(driver->start(shell("web-1", "sleep 30")).ok());
  auto first = driver->stats("web-1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->cpu_milli, 0) << "no rate from one sample";
  EXPECT_GT(first->memory_bytes, 0);
  clock.advance(1000ms);
  auto second = driver->stats("web-1");
  ASSERT_TRUE(second.ok());
  EXPECT_GE(second->cpu_milli, 0);
  ASSERT_TRUE(driver->destroy("web-1").ok());
  EXPECT_FALSE(driver->stats("web-1").ok());
}

TEST_F(ProcessDriverTest, AdoptsOnlyTheProcessRecordedInTheStateFile) {
  auto started = driver_->start(shell("web-1", "sleep 30"));
  ASSERT_TRUE(started.ok());
  ASSERT_GT(started->start_time, 0u);
  InstanceHandle handle{started->pid, started->start_time, started->port};

  // A second driver stands for the restarted agent.
  auto restarted = make();
  auto recycled = restarted->adopt(shell("web-1", "sleep 30"),
                                   InstanceHandle{handle.pid, handle.start_time + 1, handle.port});
  ASSERT_FALSE(recycled.ok());
  EXPECT_EQ(recycled.error().code, ErrorCode::kConflict);
  EXPECT_NE(recycled.error().message.find("recycled"), std::string::npos)
      << recycled.error().message;
  EXPECT_TRUE(restarted->list().empty());

  auto adopted = restarted->adopt(shell("web-1", "sleep 30"), handle);
  ASSERT_TRUE(adopted.ok()) << adopted.error().message;
  EXPECT_TRUE(adopted->adopted);
  EXPECT_EQ(adopted->port, handle.port);
  EXPECT_EQ(restarted->list()[0].state, InstanceState::kRunning);

  ASSERT_TRUE(restarted->stop("web-1").ok());
  EXPECT_EQ(restarted->list()[0].state, InstanceState::kExited);
  // The first driver is still its parent here and reaps it.
  EXPECT_TRUE(eventually([&] { return ended("web-1"); }));
}

TEST_F(ProcessDriverTest, AdoptingAVanishedPidIsNotFound) {
  ASSERT_TRUE(driver_->start(shell("gone", "exit 0")).ok());
  ASSERT_TRUE(eventually([&] { return ended("gone"); }));
  auto s = status_of("gone");
  auto adopted = driver_->adopt(shell("other", "x"), InstanceHandle{s.pid, s.start_time, 0});
  ASSERT_FALSE(adopted.ok());
  EXPECT_EQ(adopted.error().code, ErrorCode::kNotFound);
}

}  // namespace agent_process_driver_test
}  // namespace corral::agent
