// Driver: how the agent runs VMs on its host. One interface, one file per
// implementation (process, sim, libvirt), registered by name in
// registry.cpp.
//
// The agent's sync loop is level-triggered: every round it calls list() and
// converges to the VMs bound to the node with start / stop / destroy. So a
// driver keeps no desired state of its own; it only reports what is there.
// Every call is idempotent where it can be: stopping a stopped instance is Ok.
//
// Implementations are thread-safe unless they say otherwise.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/error.h"
#include "api/types.h"

namespace corral::agent {

class GuardFile;  // agent/fence/guard_file.h

// What the agent asks a driver to run: one VM's binding on this node.
struct VmInstance {
  std::string name;        // the VM's metadata.name; unique on the node
  std::string node;        // this node's name (CORRAL_NODE)
  int64_t epoch = 0;       // the binding's epoch (CORRAL_EPOCH)
  ResourceList resources;  // limits, where the driver can enforce them
  RuntimeSpec runtime;
  // `fencing: selfFence`: the process driver registers the copy with the
  // fence watchdog (agent/fence/guard_file.h) before it may exec, so that it
  // is stopped on time even when the agent is dead or frozen.
  bool self_fence = false;
};

// The exit code of a VM whose end was not seen (a domain undefined outside Corral).
inline constexpr int kExitUnknown = -1;

enum class InstanceState {
  kRunning,
  kExited,         // ran and ended; exit_code says how
  kFailedToStart,  // never ran; message says why
};
const char* state_name(InstanceState state);  // "running", "exited", "failed"

// What a driver reports about one instance.
struct InstanceStatus {
  std::string name;
  int64_t epoch = 0;
  InstanceState state = InstanceState::kRunning;
  int exit_code = 0;        // kExited: the code, or 128 + signal when killed by one,
                            // or kExitUnknown
  std::string message;      // kFailedToStart / kExited: a human reason
  int port = 0;             // the loopback port handed to it (process driver); 0 = none
  int pid = 0;              // process driver: the process (group leader); 0 = none
  uint64_t start_time = 0;  // process driver: /proc/PID/stat starttime, for adoption
  bool adopted = false;     // taken over from a previous agent run, not started by this one
  // Whether CPU and memory limits are enforced; when not, limits_message says
  // why (it becomes a VM status condition).
  bool limits_enforced = false;
  std::string limits_message;
  // What the driver adds to the VM's conditions while it runs (qemu:
  // Accelerated); lastTransitionTime is filled in with the start time.
  std::vector<Condition> conditions;
};

// Measured use of one instance.
struct InstanceStats {
  int64_t cpu_milli = 0;  // cores × 1000 since the previous stats() call
  int64_t memory_bytes = 0;
};

// What the local state file remembers of an instance, so that a restarted agent
// can hand it back to the driver (adopt) instead of starting a second copy.
struct InstanceHandle {
  int pid = 0;
  uint64_t start_time = 0;
  int port = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string name() const = 0;

  // Starts `vm`. An instance that cannot start is not an Error: it is listed
  // with state kFailedToStart and a message, so the agent reports it on the VM.
  // An Error means the request itself was bad (an empty command, a name that is
  // already running).
  virtual Result<InstanceStatus> start(const VmInstance& vm) = 0;
  // Stops the instance (gracefully, then by force); it stays listed as exited
  // until destroy(). Ok when it is not running. NotFound when unknown.
  virtual Result<void> stop(const std::string& name) = 0;
  // Stops these instances together within ONE stop grace, whatever their
  // count: all are asked to stop at once, and what still runs when the grace
  // ends is killed. Self-fencing stops every selfFence VM with it, so that the
  // controller's fence wait is one grace, not one per VM. Unknown names are
  // skipped. The default calls stop() in turn: right only for drivers whose
  // stop() does not wait (sim); the process and libvirt drivers override it.
  virtual Result<void> stop_all(const std::vector<std::string>& names);
  // Stops if needed and forgets the instance and its driver-side resources.
  // Ok when unknown.
  virtual Result<void> destroy(const std::string& name) = 0;
  // Every known instance with its current state; reaps what has ended.
  virtual std::vector<InstanceStatus> list() = 0;
  virtual Result<InstanceStats> stats(const std::string& name) = 0;
  // Takes over an instance a previous agent run started, after checking that
  // `handle` still denotes it. Refused (an Error) when it does not, e.g. a
  // recycled pid; the caller then starts the VM afresh.
  virtual Result<InstanceStatus> adopt(const VmInstance& vm, const InstanceHandle& handle) = 0;
};

struct DriverOptions {
  // Where the driver keeps its files: logs/<vm>.log for the process driver.
  std::filesystem::path data_dir;
  // Root of the /proc tree per-process stats and adoption read ("/" in production).
  std::filesystem::path proc_root = "/";
  // The cgroup v2 mount where the process driver creates corral/<vm>.
  std::filesystem::path cgroup_root = "/sys/fs/cgroup";
  // stop(): SIGTERM, then SIGKILL to the process group after this long.
  // 10 s, as systemd's and Docker's default stop grace.
  std::chrono::milliseconds stop_grace{10000};
  // How often stop() looks whether the process has exited during the grace.
  std::chrono::milliseconds stop_poll{20};
  // sysconf(_SC_CLK_TCK) when 0; tests pass a fixed rate.
  int64_t clock_ticks_per_second = 0;
  // The address the driver binds to find a free port (and that VMs serve on).
  std::string bind_address = "127.0.0.1";
  // Time for stats() rates; RealClock when null. Not owned.
  const Clock* clock = nullptr;
  // The libvirt driver's connection URI. qemu:///system (the system libvirtd,
  // KVM guests) in production; tests pass "test:///default", libvirt's
  // in-process mock hypervisor, which needs no daemon.
  std::string libvirt_uri = "qemu:///system";
  // The fence watchdog's guard file (agent/fence/guard_file.h): the process
  // driver registers every selfFence VM's process there before it may exec,
  // and removes it once reaped. Null: none (tests, other drivers). Not owned.
  GuardFile* guard = nullptr;
  // The qemu driver: its binary, "auto" | "kvm" | "tcg", and the kernel the
  // KVM probe boots ("auto"; empty: the newest /boot/vmlinuz-*).
  std::string qemu_binary = "qemu-system-x86_64";
  std::string qemu_accel = "auto";
  std::filesystem::path qemu_probe_kernel;
};

// Makes the driver registered under `name` ("libvirt", "process", "qemu", "sim").
// NotFound with the known names when there is no such driver.
Result<std::unique_ptr<Driver>> make_driver(const std::string& name, const DriverOptions& options);
// The registered names, sorted.
std::vector<std::string> driver_names();

}  // namespace corral::agent
