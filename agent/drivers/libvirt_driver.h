// LibvirtDriver: each VM is a libvirt domain, through the libvirt C API on one
// connection (options.libvirt_uri: qemu:///system in production,
// test:///default in tests).
//
//  - The domain of VM `web-1` is "corral-web-1" (see libvirt_xml.h), so it
//    never collides with an administrator's domains, and its <metadata>
//    records the VM, node and epoch.
//  - start() defines a persistent domain from the VmInstance (memory, vcpus,
//    disk from runtime.image) and starts it. A domain libvirt refuses to
//    define or start is listed as kFailedToStart with libvirt's message and
//    leaves no definition behind.
//  - stop() asks the guest to shut down (ACPI), and forces it off after
//    options.stop_grace, polling every options.stop_poll.
//  - destroy() stops the domain (as stop()) and undefines it; it acts on the
//    corral-<vm> domain even when this driver did not know it.
//  - list() reads every known instance's state from libvirt, so a domain that
//    crashed, or was shut down or destroyed with virsh, is reported as exited.
//  - adopt() takes over a running corral-<vm> domain (a previous agent run's):
//    the domain's name identifies it, so the handle's pid and start time are
//    not used. The epoch is the one the domain recorded.
//  - libvirt enforces the memory and vcpus it was given: limits_enforced.
//
// libvirt errors never reach stderr (install_libvirt_error_handler); they are
// turned into Errors or start-failure messages. A connection that died (the
// daemon restarted) is reopened on the next call.
//
// Thread-safe: libvirt connections are, and mu_ guards the driver's own state.
// stop() and destroy() hold mu_ for up to options.stop_grace.
#pragma once

#include <libvirt/libvirt.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/drivers/driver.h"
#include "agent/drivers/libvirt_api.h"

namespace corral::agent {

class LibvirtDriver final : public Driver {
 public:
  // Connects to options.libvirt_uri; Unavailable with libvirt's reason when it
  // cannot (no daemon, no permission, unknown URI scheme).
  static Result<std::unique_ptr<LibvirtDriver>> open(DriverOptions options);
  ~LibvirtDriver() override;  // closes the connection; domains keep running

  LibvirtDriver(const LibvirtDriver&) = delete;
  LibvirtDriver& operator=(const LibvirtDriver&) = delete;

  std::string name() const override { return "libvirt"; }
  Result<InstanceStatus> start(const VmInstance& vm) override;
  Result<void> stop(const std::string& name) override;
  // ACPI shutdown of every domain at once, one stop grace, then
  // virDomainDestroy of what still runs. Holds the driver's lock throughout.
  Result<void> stop_all(const std::vector<std::string>& names) override;
  Result<void> destroy(const std::string& name) override;
  std::vector<InstanceStatus> list() override;
  Result<InstanceStats> stats(const std::string& name) override;
  Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& handle) override;

  // The corral-* domains this driver does not know (left by a previous agent
  // run whose state file was lost, or defined by hand), with their recorded
  // epoch and state; each can be adopt()ed or destroy()ed.
  Result<std::vector<InstanceStatus>> unknown_instances();

  // The domain type used when runtime.domainType is empty: "test" for test://
  // connections, "kvm" otherwise.
  const std::string& default_domain_type() const { return default_type_; }

 private:
  struct Instance {
    InstanceStatus status;
    // The previous stats() sample, for CPU rates.
    bool has_sample = false;
    unsigned long long sample_cpu_ns = 0;
    std::chrono::steady_clock::time_point sample_time{};
  };

  LibvirtDriver(DriverOptions options, virConnectPtr conn);

  // Reopens the connection when it died. REQUIRES: mu_ held.
  Result<void> ensure_connected_locked();
  // The corral-<vm> domain; null when there is none. REQUIRES: mu_ held.
  Result<DomainRef> lookup_locked(const std::string& vm);
  // Re-reads the instance's state from libvirt. REQUIRES: mu_ held.
  void refresh_locked(Instance& inst);
  // Shutdown, the grace, then a forced power-off. REQUIRES: mu_ held.
  Result<void> power_off_locked(virDomainPtr dom, const std::string& vm);
  // The epoch a domain recorded in its metadata; `fallback` when none.
  static int64_t recorded_epoch(virDomainPtr dom, int64_t fallback);

  const DriverOptions options_;
  const Clock* clock_;
  const std::string default_type_;

  std::mutex mu_;
  virConnectPtr conn_;                         // guarded by mu_; null after a failed reopen
  std::map<std::string, Instance> instances_;  // guarded by mu_
};

}  // namespace corral::agent
