#include "api/heartbeat.h"

#include "base/clock.h"

namespace corral {

std::string heartbeat_path(const std::string& node) {
  return std::string("/apis/corral/v1/nodes/") + node + kHeartbeatSuffix;
}

namespace {

void check_nonnegative(const ResourceList& r, const std::string& path, std::vector<Cause>& errs) {
  if (r.cpu.milli < 0) errs.push_back({path + ".cpu", "must not be negative: " + r.cpu.text, ""});
  if (r.memory.milli < 0)
    errs.push_back({path + ".memory", "must not be negative: " + r.memory.text, ""});
}

// Measured use may briefly exceed what the host has (smoothing, accounting
// lag), but never by a factor of two: such a value is a broken sensor.
void check_within(const Quantity& value, const Quantity& bound, const std::string& path,
                  const std::string& bound_name, int64_t factor, std::vector<Cause>& errs) {
  if (bound.milli > 0 && value.milli > bound.milli * factor) {
    errs.push_back({path, value.text + " is more than " +
                              (factor == 1 ? std::string() : std::to_string(factor) + " × ") +
                              bound_name + " (" + bound.text + ")",
                    ""});
  }
}

// Above what any one host has: the report is refused, not stored.
void check_host_bound(const ResourceList& r, const std::string& path, std::vector<Cause>& errs) {
  if (r.cpu.milli > kMaxHostCpuMilli)
    errs.push_back({path + ".cpu", "must be at most 1024 cores, not " + r.cpu.text, ""});
  if (r.memory.milli / 1000 > kMaxHostMemoryBytes)
    errs.push_back({path + ".memory", "must be at most 64Ti, not " + r.memory.text, ""});
}

// Identifiers have no business being long: over these a report is refused.
constexpr size_t kMaxNameBytes = 253;      // a DNS name, as Kubernetes' object names
constexpr size_t kMaxAddressBytes = 261;   // a 253-byte host, ':' and a port
constexpr size_t kMaxShortTextBytes = 128; // versions, condition types, reasons, times
constexpr size_t kMaxConditions = 16;

void check_length(const std::string& value, size_t max, const std::string& path,
                  std::vector<Cause>& errs) {
  if (value.size() > max)
    errs.push_back({path, "longer than " + std::to_string(max) + " bytes (" +
                              std::to_string(value.size()) + ")",
                    ""});
}

// Cuts `text` to at most `max` bytes on a UTF-8 character boundary, marking
// the cut, so that the stored status stays valid UTF-8.
void clamp_text(std::string& text, size_t max) {
  if (text.size() <= max) return;
  static constexpr std::string_view kMark = " [truncated]";
  size_t cut = max - kMark.size();
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  text += kMark;
}

}  // namespace

void clamp_heartbeat_text(HeartbeatRequest& r) {
  for (VmReport& vm : r.vms) {
    clamp_text(vm.message, kMaxHeartbeatMessageBytes);
    clamp_text(vm.lastError, kMaxHeartbeatMessageBytes);
    for (Condition& c : vm.conditions) clamp_text(c.message, kMaxHeartbeatMessageBytes);
  }
}

Result<void> validate_heartbeat(const HeartbeatRequest& r) {
  std::vector<Cause> errs;
  if (r.holderIdentity.empty()) errs.push_back({"holderIdentity", "required", ""});
  check_length(r.holderIdentity, kMaxNameBytes, "holderIdentity", errs);
  check_length(r.address, kMaxAddressBytes, "address", errs);
  check_length(r.agentVersion, kMaxShortTextBytes, "agentVersion", errs);
  check_length(r.time, kMaxShortTextBytes, "time", errs);
  if (r.vms.size() > kMaxHeartbeatVms)
    errs.push_back({"vms", "more than " + std::to_string(kMaxHeartbeatVms) + " VM reports (" +
                               std::to_string(r.vms.size()) + ")",
                    ""});
  std::chrono::system_clock::time_point t;
  if (!r.time.empty() && !parse_time(r.time, &t))
    errs.push_back({"time", "not an RFC 3339 time: \"" + r.time + "\"", ""});
  // Node.status.driver allows these (api/validate.cpp); the heartbeat writes
  // status without normalising it, so it checks here.
  if (!r.driver.empty() && r.driver != "process" && r.driver != "libvirt" && r.driver != "qemu" &&
      r.driver != "sim")
    errs.push_back({"driver", "must be process, libvirt, qemu or sim, not \"" + r.driver + "\"", ""});
  if (r.restartWindowSeconds < 0)
    errs.push_back({"restartWindowSeconds", "must not be negative", ""});
  check_nonnegative(r.capacity, "capacity", errs);
  check_nonnegative(r.allocatable, "allocatable", errs);
  check_nonnegative(r.usage, "usage", errs);
  check_host_bound(r.capacity, "capacity", errs);
  check_host_bound(r.allocatable, "allocatable", errs);
  check_host_bound(r.usage, "usage", errs);
  if (r.capacity.cpu.milli == 0) errs.push_back({"capacity.cpu", "must be positive", ""});
  if (r.capacity.memory.milli == 0) errs.push_back({"capacity.memory", "must be positive", ""});
  check_within(r.allocatable.cpu, r.capacity.cpu, "allocatable.cpu", "capacity.cpu", 1, errs);
  check_within(r.allocatable.memory, r.capacity.memory, "allocatable.memory", "capacity.memory", 1, errs);
  check_within(r.usage.cpu, r.capacity.cpu, "usage.cpu", "capacity.cpu", 2, errs);
  check_within(r.usage.memory, r.capacity.memory, "usage.memory", "capacity.memory", 2, errs);
  for (size_t i = 0; i < r.vms.size(); ++i) {
    const VmReport& vm = r.vms[i];
    const std::string path = "vms[" + std::to_string(i) + "]";
    if (vm.name.empty()) errs.push_back({path + ".name", "required", ""});
    check_length(vm.name, kMaxNameBytes, path + ".name", errs);
    check_length(vm.address, kMaxAddressBytes, path + ".address", errs);
    check_length(vm.startTime, kMaxShortTextBytes, path + ".startTime", errs);
    check_length(vm.message, kMaxHeartbeatMessageBytes, path + ".message", errs);
    check_length(vm.lastError, kMaxHeartbeatMessageBytes, path + ".lastError", errs);
    if (vm.conditions.size() > kMaxConditions)
      errs.push_back({path + ".conditions", "more than " + std::to_string(kMaxConditions), ""});
    for (size_t k = 0; k < vm.conditions.size() && k < kMaxConditions; ++k) {
      const Condition& c = vm.conditions[k];
      const std::string cpath = path + ".conditions[" + std::to_string(k) + "]";
      check_length(c.type, kMaxShortTextBytes, cpath + ".type", errs);
      check_length(c.status, kMaxShortTextBytes, cpath + ".status", errs);
      check_length(c.reason, kMaxShortTextBytes, cpath + ".reason", errs);
      check_length(c.lastTransitionTime, kMaxShortTextBytes, cpath + ".lastTransitionTime", errs);
      check_length(c.message, kMaxHeartbeatMessageBytes, cpath + ".message", errs);
    }
    if (vm.epoch < 0) errs.push_back({path + ".epoch", "must not be negative", ""});
    if (vm.phase != vm_phase::kStarting && vm.phase != vm_phase::kRunning && vm.phase != vm_phase::kFailed)
      errs.push_back({path + ".phase", "must be Starting, Running or Failed, not \"" + vm.phase + "\"", ""});
    if (vm.restarts < 0) errs.push_back({path + ".restarts", "must not be negative", ""});
    if (vm.pid < 0) errs.push_back({path + ".pid", "must not be negative", ""});
    check_nonnegative(vm.usage, path + ".usage", errs);
    check_host_bound(vm.usage, path + ".usage", errs);
  }
  if (!errs.empty()) return invalid("heartbeat", std::move(errs));
  return Ok();
}

Error not_the_leader(const std::string& leader_name, const std::string& leader_url) {
  if (leader_url.empty()) {
    return make_error(ErrorCode::kUnavailable,
                      "not the leader: no controller leads yet (an election is under way); "
                      "heartbeats go to the leader");
  }
  Error e = make_error(ErrorCode::kUnavailable, "not the leader: controller " + leader_name +
                                                    " leads at " + leader_url +
                                                    "; heartbeats go to the leader");
  e.causes.push_back({"leader", leader_url, ""});
  return e;
}

std::string leader_url_of(const Error& error) {
  if (error.code != ErrorCode::kUnavailable) return "";
  for (const Cause& c : error.causes)
    if (c.field == "leader") return c.message;
  return "";
}

}  // namespace corral
