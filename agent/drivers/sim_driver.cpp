#include "agent/drivers/sim_driver.h"

#include "agent/drivers/factories.h"

namespace corral::agent {

namespace {
// A simulated VM stopped by the agent ends as a process stopped by SIGTERM would.
constexpr int kSigtermExitCode = 128 + 15;
constexpr int64_t kMilliPerByte = 1000;  // Quantity stores bytes × 1000
}  // namespace

Result<std::unique_ptr<Driver>> make_sim_driver(const DriverOptions& /*options*/) {
  return std::unique_ptr<Driver>(std::make_unique<SimDriver>());
}

Result<InstanceStatus> SimDriver::start(const VmInstance& vm) {
  std::lock_guard lock(mu_);
  calls_.push_back("start " + vm.name);
  if (vm.name.empty()) return make_error(ErrorCode::kBadRequest, "start: empty VM name");
  auto it = instances_.find(vm.name);
  if (it != instances_.end() && it->second.status.state == InstanceState::kRunning)
    return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + " is already running");
  Instance inst;
  inst.status.name = vm.name;
  inst.status.epoch = vm.epoch;
  inst.status.limits_enforced = true;  // simulated limits always hold
  inst.load.cpu_milli = vm.runtime.sim.cpu.milli;
  inst.load.memory_bytes = vm.runtime.sim.memory.milli / kMilliPerByte;
  if (auto f = fail_next_.find(vm.name); f != fail_next_.end()) {
    inst.status.state = InstanceState::kFailedToStart;
    inst.status.message = "failed to start: " + f->second;
    inst.load = {};
    fail_next_.erase(f);
  }
  instances_[vm.name] = inst;
  return inst.status;
}

Result<void> SimDriver::stop(const std::string& name) {
  if (on_stop) on_stop(name);
  std::lock_guard lock(mu_);
  calls_.push_back("stop " + name);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  if (it->second.status.state == InstanceState::kRunning) {
    it->second.status.state = InstanceState::kExited;
    it->second.status.exit_code = kSigtermExitCode;
    it->second.status.message = "stopped";
    it->second.load = {};
  }
  return Ok{};
}

Result<void> SimDriver::destroy(const std::string& name) {
  std::lock_guard lock(mu_);
  calls_.push_back("destroy " + name);
  instances_.erase(name);
  return Ok{};
}

std::vector<InstanceStatus> SimDriver::list() {
  std::lock_guard lock(mu_);
  std::vector<InstanceStatus> out;
  for (const auto& [name, inst] : instances_) out.push_back(inst.status);
  return out;
}

Result<InstanceStats> SimDriver::stats(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  return it->second.load;
}

Result<InstanceStatus> SimDriver::adopt(const VmInstance& vm, const InstanceHandle& /*handle*/) {
  std::lock_guard lock(mu_);
  calls_.push_back("adopt " + vm.name);
  auto it = instances_.find(vm.name);
  if (it == instances_.end() || it->second.status.state != InstanceState::kRunning ||
      it->second.status.epoch != vm.epoch)
    return make_error(ErrorCode::kNotFound,
                      "vm/" + vm.name + " epoch " + std::to_string(vm.epoch) + " is not running");
  it->second.status.adopted = true;
  return it->second.status;
}

Result<void> SimDriver::set_load(const std::string& name, int64_t cpu_milli, int64_t memory_bytes) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  it->second.load = {cpu_milli, memory_bytes};
  return Ok{};
}

Result<void> SimDriver::crash(const std::string& name, int exit_code) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  it->second.status.state = InstanceState::kExited;
  it->second.status.exit_code = exit_code;
  it->second.status.message = "crashed";
  it->second.load = {};
  return Ok{};
}

void SimDriver::fail_next_start(const std::string& name, const std::string& message) {
  std::lock_guard lock(mu_);
  fail_next_[name] = message;
}

std::vector<std::string> SimDriver::calls() const {
  std::lock_guard lock(mu_);
  return calls_;
}

}  // namespace corral::agent
