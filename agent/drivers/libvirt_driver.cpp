#include "agent/drivers/libvirt_driver.h"

#include <libvirt/virterror.h>

#include <cstdlib>
#include <thread>

#include "agent/drivers/factories.h"
#include "agent/drivers/libvirt_xml.h"
#include "base/log.h"

namespace corral::agent {

namespace {


bool is_active(virDomainPtr dom) { return virDomainIsActive(dom) == 1; }

// Undefines `dom` with its managed save image, snapshot and checkpoint
// metadata and NVRAM (a plain undefine refuses a domain that has any). Drivers
// that do not know a flag refuse the whole call, so fewer flags are tried next.
bool undefine(virDomainPtr dom) {
  constexpr unsigned kBasic =
      VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA;
  constexpr unsigned kAll =
      kBasic | VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA | VIR_DOMAIN_UNDEFINE_NVRAM;
  for (unsigned flags : {kAll, kBasic, 0u}) {
    if (virDomainUndefineFlags(dom, flags) == 0) return true;
    const int code = virGetLastErrorCode();
    if (code != VIR_ERR_INVALID_ARG && code != VIR_ERR_NO_SUPPORT) return false;
  }
  return false;
}

// "test" for libvirt's mock hypervisor, whose only domain type that is;
// otherwise KVM, the only type Corral runs in production.
std::string default_type_for(const std::string& uri) {
  return uri.rfind("test:", 0) == 0 || uri.rfind("test+", 0) == 0 ? "test" : "kvm";
}

// libvirt refuses '/' in names (they become file names) and a newline would
// break its status files; an empty name would be the bare prefix.
bool valid_vm_name(const std::string& vm) {
  return !vm.empty() && vm.find_first_of("/\n") == std::string::npos;
}

Error invalid_name(const char* op, const std::string& vm) {
  return make_error(ErrorCode::kBadRequest,
                    std::string(op) + ": invalid VM name \"" + vm + "\" for a libvirt domain");
}

}  // namespace

Result<std::unique_ptr<Driver>> make_libvirt_driver(const DriverOptions& options) {
  auto d = LibvirtDriver::open(options);
  if (!d) return d.take_error();
  return std::unique_ptr<Driver>(std::move(d).value());
}

Result<std::unique_ptr<LibvirtDriver>> LibvirtDriver::open(DriverOptions options) {
  install_libvirt_error_handler();
  virConnectPtr conn = virConnectOpen(options.libvirt_uri.c_str());
  if (!conn)
    return make_error(
        ErrorCode::kUnavailable,
        "libvirt driver: cannot connect to " + options.libvirt_uri + ": " + libvirt_last_message());
  return std::unique_ptr<LibvirtDriver>(new LibvirtDriver(std::move(options), conn));
}

LibvirtDriver::LibvirtDriver(DriverOptions options, virConnectPtr conn)
    : options_(std::move(options)),
      clock_(options_.clock ? options_.clock : &RealClock::instance()),
      default_type_(default_type_for(options_.libvirt_uri)),
      conn_(conn) {
  logger("agent")->info("libvirt driver connected to {} (default domain type {})",
                        options_.libvirt_uri, default_type_);
}

LibvirtDriver::~LibvirtDriver() {
  std::lock_guard lock(mu_);
  if (conn_) virConnectClose(conn_);
}

Result<void> LibvirtDriver::ensure_connected_locked() {
  if (conn_ && virConnectIsAlive(conn_) == 1) return Ok{};
  if (conn_) {
    logger("agent")->warn("libvirt connection to {} lost; reconnecting", options_.libvirt_uri);
    virConnectClose(conn_);
  }
  conn_ = virConnectOpen(options_.libvirt_uri.c_str());
  if (!conn_)
    return make_error(ErrorCode::kUnavailable, "libvirt driver: cannot reconnect to " +
                                                   options_.libvirt_uri + ": " +
                                                   libvirt_last_message());
  return Ok{};
}

Result<DomainRef> LibvirtDriver::lookup_locked(const std::string& vm) {
  if (auto c = ensure_connected_locked(); !c) return c.take_error();
  DomainRef dom(virDomainLookupByName(conn_, domain_name(vm).c_str()));
  if (!dom && !libvirt_no_domain()) return libvirt_error("vm/" + vm + ": virDomainLookupByName");
  return dom;
}

int64_t LibvirtDriver::recorded_epoch(virDomainPtr dom, int64_t fallback) {
  char* meta = virDomainGetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, kMetadataNamespace, 0);
  if (!meta) return fallback;
  auto epoch = metadata_epoch(meta);
  free(meta);  // NOLINT: allocated by libvirt with malloc
  return epoch.value_or(fallback);
}

void LibvirtDriver::refresh_locked(Instance& inst) {
  InstanceStatus& s = inst.status;
  if (s.state == InstanceState::kFailedToStart) return;
  auto dom = lookup_locked(s.name);
  if (!dom) {
    // The connection is down: keep the last known state rather than guess.
    logger("agent")->warn("vm/{}: state unknown: {}", s.name, dom.error().message);
    return;
  }
  if (!*dom) {
    s.state = InstanceState::kExited;
    s.exit_code = kExitUnknown;
    s.message = "domain " + domain_name(s.name) + " is gone (undefined outside Corral)";
    return;
  }
  int state = 0;
  int reason = 0;
  if (virDomainGetState(dom->get(), &state, &reason, 0) < 0) {
    logger("agent")->warn("vm/{}: virDomainGetState: {}", s.name, libvirt_last_message());
    return;
  }
  apply_domain_state(s, state, reason);
}

Result<InstanceStatus> LibvirtDriver::start(const VmInstance& vm) {
  if (!valid_vm_name(vm.name)) return invalid_name("start", vm.name);
  std::lock_guard lock(mu_);
  if (auto it = instances_.find(vm.name); it != instances_.end()) {
    refresh_locked(it->second);
    if (it->second.status.state == InstanceState::kRunning)
      return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + " is already running");
  }
  auto existing = lookup_locked(vm.name);
  if (!existing) return existing.take_error();
  if (*existing) {
    if (is_active(existing->get()))
      return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + ": domain " +
                                                       domain_name(vm.name) +
                                                       " is already running (adopt it instead)");
    // A stopped definition left by an earlier run: this start's spec replaces it.
    if (!undefine(existing->get()))
      return libvirt_error("vm/" + vm.name + ": undefining the stale domain");
  }

  Instance inst;
  InstanceStatus& s = inst.status;
  s.name = vm.name;
  s.epoch = vm.epoch;
  s.limits_enforced = true;  // libvirt gives the guest exactly its memory and vcpus
  auto failed = [&](const std::string& step) {
    s.state = InstanceState::kFailedToStart;
    s.message = "failed to start: " + libvirt_last_message();
    logger("agent")->warn("vm/{} {} ({})", vm.name, s.message, step);
    instances_[vm.name] = inst;
    return s;
  };
  const std::string xml = domain_xml(vm, default_type_);
  DomainRef dom(virDomainDefineXML(conn_, xml.c_str()));
  if (!dom) return failed("virDomainDefineXML");
  if (virDomainCreate(dom.get()) < 0) {
    InstanceStatus result = failed("virDomainCreate");
    // Nothing ran: leave no definition behind for the next start to trip on.
    if (!undefine(dom.get()))
      logger("agent")->warn("vm/{}: cannot undefine the failed domain: {}", vm.name,
                            libvirt_last_message());
    return result;
  }
  s.state = InstanceState::kRunning;
  logger("agent")->info("vm/{} started: domain {} epoch {}", vm.name, domain_name(vm.name),
                        vm.epoch);
  instances_[vm.name] = inst;
  return s;
}

Result<void> LibvirtDriver::power_off_locked(virDomainPtr dom, const std::string& vm) {
  if (!is_active(dom)) return Ok{};
  if (virDomainShutdown(dom) == 0) {
    const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
    while (is_active(dom) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(options_.stop_poll);
  } else {
    logger("agent")->warn("vm/{}: graceful shutdown refused ({}); forcing it off", vm,
                          libvirt_last_message());
  }
  if (!is_active(dom)) return Ok{};
  logger("agent")->info("vm/{} still running after {} ms; forcing it off", vm,
                        options_.stop_grace.count());
  // It may have ended between the check and the call: only a domain that is
  // still running after a failed destroy is an error.
  if (virDomainDestroy(dom) < 0 && is_active(dom))
    return libvirt_error("vm/" + vm + ": virDomainDestroy");
  return Ok{};
}

Result<void> LibvirtDriver::stop(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  Instance& inst = it->second;
  if (inst.status.state == InstanceState::kFailedToStart) return Ok{};
  auto dom = lookup_locked(name);
  if (!dom) return dom.take_error();
  if (*dom) {
    if (auto r = power_off_locked(dom->get(), name); !r) return r;
  }
  refresh_locked(inst);
  logger("agent")->info("vm/{} stopped: {}", name, inst.status.message);
  return Ok{};
}

Result<void> LibvirtDriver::stop_all(const std::vector<std::string>& names) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, DomainRef>> domains;
  for (const std::string& name : names) {
    auto it = instances_.find(name);
    if (it == instances_.end() || it->second.status.state == InstanceState::kFailedToStart) continue;
    auto dom = lookup_locked(name);
    if (!dom) return dom.take_error();
    if (!*dom || !is_active(dom->get())) continue;
    if (virDomainShutdown(dom->get()) != 0)
      logger("agent")->warn("vm/{}: graceful shutdown refused ({}); forced off at the end of the "
                            "grace", name, libvirt_last_message());
    domains.emplace_back(name, std::move(*dom));
  }
  // One grace for all of them.
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  auto any_active = [&] {
    for (const auto& [name, dom] : domains)
      if (is_active(dom.get())) return true;
    return false;
  };
  while (any_active() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(options_.stop_poll);
  Result<void> first = Ok{};
  for (auto& [name, dom] : domains) {
    if (is_active(dom.get()) && virDomainDestroy(dom.get()) < 0 && is_active(dom.get()) &&
        first.ok())
      first = libvirt_error("vm/" + name + ": virDomainDestroy");
    if (auto it = instances_.find(name); it != instances_.end()) refresh_locked(it->second);
  }
  return first;
}

Result<void> LibvirtDriver::destroy(const std::string& name) {
  std::lock_guard lock(mu_);
  // The domain is looked up even when the VM is not known: every corral-*
  // domain is Corral's, and destroy() is how the agent gets rid of one.
  if (valid_vm_name(name)) {
    auto dom = lookup_locked(name);
    if (!dom) return dom.take_error();
    if (*dom) {
      if (auto r = power_off_locked(dom->get(), name); !r) return r;
      if (!undefine(dom->get()) && !libvirt_no_domain())
        return libvirt_error("vm/" + name + ": virDomainUndefine");
      logger("agent")->info("vm/{} destroyed: domain {} undefined", name, domain_name(name));
    }
  }
  instances_.erase(name);
  return Ok{};
}

std::vector<InstanceStatus> LibvirtDriver::list() {
  std::lock_guard lock(mu_);
  std::vector<InstanceStatus> out;
  for (auto& [name, inst] : instances_) {
    refresh_locked(inst);
    out.push_back(inst.status);
  }
  return out;
}

Result<InstanceStats> LibvirtDriver::stats(const std::string& name) {
  std::lock_guard lock(mu_);
  auto it = instances_.find(name);
  if (it == instances_.end())
    return make_error(ErrorCode::kNotFound, "vm/" + name + " is not known");
  Instance& inst = it->second;
  refresh_locked(inst);
  InstanceStats st;
  if (inst.status.state != InstanceState::kRunning) return st;
  auto dom = lookup_locked(name);
  if (!dom) return dom.take_error();
  if (!*dom) return st;
  virDomainInfo info{};
  if (virDomainGetInfo(dom->get(), &info) < 0)
    return libvirt_error("vm/" + name + ": virDomainGetInfo");
  const auto now = clock_->steady_now();
  // cpuTime is nanoseconds of CPU over all vcpus; it restarts with the domain.
  if (inst.has_sample && info.cpuTime >= inst.sample_cpu_ns && now > inst.sample_time) {
    const double cpu_ns = static_cast<double>(info.cpuTime - inst.sample_cpu_ns);
    const double wall_ns = static_cast<double>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - inst.sample_time).count());
    st.cpu_milli = static_cast<int64_t>(cpu_ns * static_cast<double>(kMilliPerUnit) / wall_ns);
  }
  inst.has_sample = true;
  inst.sample_cpu_ns = info.cpuTime;
  inst.sample_time = now;
  st.memory_bytes = static_cast<int64_t>(info.memory) * kBytesPerKiB;
  return st;
}

Result<InstanceStatus> LibvirtDriver::adopt(const VmInstance& vm,
                                            const InstanceHandle& /*handle*/) {
  if (!valid_vm_name(vm.name)) return invalid_name("adopt", vm.name);
  std::lock_guard lock(mu_);
  if (instances_.count(vm.name))
    return make_error(ErrorCode::kAlreadyExists, "vm/" + vm.name + " is already known");
  auto dom = lookup_locked(vm.name);
  if (!dom) return dom.take_error();
  if (!*dom)
    return make_error(ErrorCode::kNotFound,
                      "vm/" + vm.name + ": no domain " + domain_name(vm.name) + " to adopt");
  if (!is_active(dom->get()))
    return make_error(ErrorCode::kNotFound,
                      "vm/" + vm.name + ": domain " + domain_name(vm.name) + " is not running");
  Instance inst;
  InstanceStatus& s = inst.status;
  s.name = vm.name;
  // The epoch the domain was started with, not the one asked for: a stale copy
  // must show as stale so that the agent stops it.
  s.epoch = recorded_epoch(dom->get(), vm.epoch);
  s.state = InstanceState::kRunning;
  s.adopted = true;
  s.limits_enforced = true;
  instances_[vm.name] = inst;
  logger("agent")->info("vm/{} adopted: domain {} epoch {}", vm.name, domain_name(vm.name),
                        s.epoch);
  return s;
}

Result<std::vector<InstanceStatus>> LibvirtDriver::unknown_instances() {
  std::lock_guard lock(mu_);
  if (auto c = ensure_connected_locked(); !c) return c.take_error();
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(conn_, &doms, 0);
  if (n < 0) return libvirt_error("virConnectListAllDomains");
  std::vector<DomainRef> owned(doms, doms + n);  // freed whatever happens below
  free(doms);  // NOLINT: the array is libvirt's, allocated with malloc
  std::vector<InstanceStatus> out;
  for (const auto& dom : owned) {
    const char* domain = virDomainGetName(dom.get());
    auto vm = domain ? vm_of_domain(domain) : std::nullopt;
    if (!vm || instances_.count(*vm)) continue;
    InstanceStatus s;
    s.name = *vm;
    s.epoch = recorded_epoch(dom.get(), 0);
    int state = 0;
    int reason = 0;
    if (virDomainGetState(dom.get(), &state, &reason, 0) < 0) continue;  // vanished meanwhile
    apply_domain_state(s, state, reason);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace corral::agent
