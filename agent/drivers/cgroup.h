// CPU and memory limits for process-driver VMs through cgroup v2.
//
// At construction it probes whether `root` is a cgroup v2 mount it may
// delegate from: cgroup.controllers exists and offers cpu and memory, and
// corral/ can be created with both controllers enabled for its children.
// When not (cgroup v1, a read-only /sys/fs/cgroup in a container, no
// privileges), limits are simply not enforced: VMs still run, and reason()
// says why, for the VM's status condition.
//
// Thread-safe after construction (creates and removes distinct directories).
#pragma once

#include <filesystem>
#include <string>

#include "base/error.h"
#include "api/types.h"

namespace corral::agent {

class Cgroups {
 public:
  explicit Cgroups(std::filesystem::path root);

  bool enabled() const { return enabled_; }
  // Empty when enabled; otherwise "cgroup v2 not writable at ROOT: limits not enforced".
  const std::string& reason() const { return reason_; }
  // What the probe tripped on, for the log (reason() is what users see).
  const std::string& detail() const { return detail_; }

  // Creates (or reuses) corral/<vm> with cpu.max and memory.max from `limits`
  // (an empty quantity = no limit) and returns its directory.
  Result<std::filesystem::path> create(const std::string& vm, const ResourceList& limits) const;
  // Removes corral/<vm>; its processes must have exited. Best effort.
  void remove(const std::string& vm) const;
  std::filesystem::path dir(const std::string& vm) const;

 private:
  // "" when root_ is usable; otherwise what was wrong.
  std::string probe() const;

  std::filesystem::path root_;
  bool enabled_ = false;
  std::string reason_;
  std::string detail_;
};

}  // namespace corral::agent
