// VM: one virtual machine, bound to a node by the scheduler (spec.nodeName,
// spec.epoch) and run there by its agent through a driver.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "api/types/env.h"
#include "api/types/meta.h"

namespace corral {

// VM status.phase (an empty phase reads as Pending).
namespace vm_phase {
inline constexpr const char* kPending = "Pending";
inline constexpr const char* kScheduled = "Scheduled";
inline constexpr const char* kStarting = "Starting";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kFailed = "Failed";
inline constexpr const char* kLost = "Lost";
inline constexpr const char* kTerminating = "Terminating";
}  // namespace vm_phase

// How a VM runs on its host, per driver.
struct SimLoad {
  Quantity cpu;                    // simulated CPU use
  Quantity memory;                 // simulated memory use
  template <class V> void visit(V& v) { v("cpu", cpu); v("memory", memory); }
};
struct RuntimeSpec {
  std::string driver = "process";  // process | libvirt | qemu | sim
  std::vector<std::string> command;        // process: argv; ${PORT} and ${CORRAL_*} substituted
  EnvList env;                     // process: extra environment (api/types/env.h)
  std::string image;               // libvirt, qemu: disk image path (qemu: a virtio disk)
  std::string domainType;          // libvirt: e.g. "test", "kvm"; empty = the connection's default
  SimLoad sim;                     // sim: scripted load
  std::string kernel;              // qemu: the guest kernel (absolute path on the node)
  std::string initrd;              // qemu: its initramfs (absolute path); needs kernel
  std::string cmdline;             // qemu: more kernel arguments; ${CORRAL_*} substituted
  int32_t guestPort = 0;           // qemu: the guest's TCP port published at ${PORT}; 0 = none
  template <class V> void visit(V& v) {
    v("driver", driver); v("command", command); v("env", env); v("image", image);
    v("domainType", domainType); v("sim", sim); v("kernel", kernel); v("initrd", initrd);
    v("cmdline", cmdline); v("guestPort", guestPort);
  }
};

struct VMSpec {
  ResourceList resources;          // requests: what the scheduler reserves
  RuntimeSpec runtime;
  std::string restartPolicy = "Always";  // Always | OnFailure | Never
  std::vector<Toleration> tolerations;
  std::string nodeName;            // the binding, written by the scheduler
  int64_t epoch = 0;               // +1 on every (re)placement; stale copies are stopped
  int32_t priority = 0;            // restartPriority of its VMSet: higher is re-placed first
  std::string fencing = "none";    // none | selfFence, from its VMSet
  template <class V> void visit(V& v) {
    v("resources", resources); v("runtime", runtime); v("restartPolicy", restartPolicy);
    v("tolerations", tolerations); v("nodeName", nodeName); v("epoch", epoch);
    v("priority", priority); v("fencing", fencing);
  }
};

struct VMStatus {
  int64_t observedGeneration = 0;
  // Pending | Scheduled | Starting | Running | Failed | Lost | Terminating
  std::string phase;
  std::string nodeName;            // where it runs (as reported)
  int64_t epoch = 0;               // the epoch of the copy that reported
  ResourceList usage;              // measured
  int32_t restarts = 0;
  std::string lastError;
  std::string address;             // host:port where it serves, when it does
  int64_t pid = 0;                 // its process on the node, when the driver runs one (process)
  std::string startTime;
  std::string message;             // e.g. why it fits nowhere: "0/12 nodes: 5 insufficient memory"
  std::vector<Condition> conditions;
  template <class V> void visit(V& v) {
    v("observedGeneration", observedGeneration); v("phase", phase); v("nodeName", nodeName);
    v("epoch", epoch); v("usage", usage); v("restarts", restarts); v("lastError", lastError);
    v("address", address); v("pid", pid); v("startTime", startTime); v("message", message);
    v("conditions", conditions);
  }
};

struct VM {
  static constexpr const char* kKind = "VM";
  ObjectMeta metadata;
  VMSpec spec;
  VMStatus status;
  template <class V> void visit(V& v) { v("metadata", metadata); v("spec", spec); v("status", status); }
};

// The template a VMSet stamps its VMs from. nodeName and epoch are not allowed here.

}  // namespace corral
