#include <gtest/gtest.h>

#include "agent/drivers/driver.h"
#include "agent/drivers/sim_driver.h"

namespace corral::agent {
namespace agent_sim_driver_test {

VmInstance sim_vm(const std::string& name, const std::string& cpu, const std::string& mem) {
  VmInstance vm;
  vm.name = name;
  vm.node = "host-1";
  vm.epoch = 2;
  vm.runtime.driver = "sim";
  vm.runtime.sim.cpu = *parse_quantity(cpu);
  vm.runtime.sim.memory = *parse_quantity(mem);
  return vm;
}

TEST(DriverRegistry, MakesDriversByName) {
  auto sim = make_driver("sim", DriverOptions{});
  ASSERT_TRUE(sim.ok()) << sim.error().message;
  EXPECT_EQ((*sim)->name(), "sim");
  EXPECT_EQ(driver_names(), (std::vector<std::string>{"libvirt", "process", "qemu", "sim"}));
}

TEST(DriverRegistry, UnknownDriverIsNotFoundListingKnownOnes) {
  auto d = make_driver("docker", DriverOptions{});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code, ErrorCode::kNotFound);
  EXPECT_NE(d.error().message.find("process, qemu, sim"), std::string::npos) << d.error().message;
}

TEST(SimDriver, StartsWithScriptedLoad) {
  SimDriver d;
  auto s = d.start(sim_vm("web-1", "500m", "256Mi"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, InstanceState::kRunning);
  EXPECT_EQ(s->epoch, 2);
  auto st = d.stats("web-1");
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->cpu_milli, 500);
  EXPECT_EQ(st->memory_bytes, 256 * 1024 * 1024);
}

TEST(SimDriver, TestsOverrideLoad) {
  SimDriver d;
  ASSERT_TRUE(d.start(sim_vm("web-1", "500m", "256Mi")).ok());
  ASSERT_TRUE(d.set_load("web-1", 1500, 1024).ok());
  EXPECT_EQ(d.stats("web-1")->cpu_milli, 1500);
  EXPECT_EQ(d.stats("web-1")->memory_bytes, 1024);
  EXPECT_FALSE(d.set_load("nope", 1, 1).ok());
}

TEST(SimDriver, CrashReportsExitCode) {
  SimDriver d;
  ASSERT_TRUE(d.start(sim_vm("web-1", "1", "1Mi")).ok());
  ASSERT_TRUE(d.crash("web-1", 3).ok());
  auto all = d.list();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].state, InstanceState::kExited);
  EXPECT_EQ(all[0].exit_code, 3);
  EXPECT_EQ(d.stats("web-1")->cpu_milli, 0);
  // A crashed instance can be started again (the agent's restart).
  EXPECT_TRUE(d.start(sim_vm("web-1", "1", "1Mi")).ok());
  EXPECT_EQ(d.list()[0].state, InstanceState::kRunning);
}

TEST(SimDriver, FailNextStartReportsMessage) {
  SimDriver d;
  d.fail_next_start("web-1", "image not found");
  auto s = d.start(sim_vm("web-1", "1", "1Mi"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->state, InstanceState::kFailedToStart);
  EXPECT_EQ(s->message, "failed to start: image not found");
  // Only the next one.
  EXPECT_EQ(d.start(sim_vm("web-1", "1", "1Mi"))->state, InstanceState::kRunning);
}

TEST(SimDriver, StartingARunningInstanceIsRefused) {
  SimDriver d;
  ASSERT_TRUE(d.start(sim_vm("web-1", "1", "1Mi")).ok());
  auto again = d.start(sim_vm("web-1", "1", "1Mi"));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
}

TEST(SimDriver, StopThenDestroyAndRecordsCalls) {
  SimDriver d;
  ASSERT_TRUE(d.start(sim_vm("web-1", "1", "1Mi")).ok());
  ASSERT_TRUE(d.stop("web-1").ok());
  ASSERT_TRUE(d.stop("web-1").ok()) << "stopping a stopped instance is Ok";
  EXPECT_EQ(d.list()[0].state, InstanceState::kExited);
  ASSERT_TRUE(d.destroy("web-1").ok());
  ASSERT_TRUE(d.destroy("web-1").ok()) << "destroying an unknown instance is Ok";
  EXPECT_TRUE(d.list().empty());
  EXPECT_EQ(d.stop("web-1").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(d.calls(), (std::vector<std::string>{"start web-1", "stop web-1", "stop web-1",
                                                 "destroy web-1", "destroy web-1", "stop web-1"}));
}

TEST(SimDriver, NothingToAdopt) {
  SimDriver d;
  EXPECT_FALSE(d.adopt(sim_vm("web-1", "1", "1Mi"), InstanceHandle{}).ok());
}

}  // namespace agent_sim_driver_test
}  // namespace corral::agent
