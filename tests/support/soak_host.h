// What the soak (tests/support/soak.h) reads from the host: the running
// copies of its VMs, and what a daemon holds (RSS, fds, threads, files).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/soak_invariants.h"

namespace corral::testing {

// Every process-driver VM of this soak: a process-group leader (each VM
// leads its own group, agent/drivers/process_driver.h) whose environment
// holds `marker` ("NAME=VALUE", set through the VMs' runtime.env) and names
// the VM (CORRAL_VM_NAME, CORRAL_NODE, CORRAL_EPOCH, exported by the driver).
// Zombies are not counted: their environment reads empty.
std::vector<VmCopy> process_vm_copies(const std::string& marker);

// SIGKILLs every such VM's process group; returns how many groups.
int kill_process_vms(const std::string& marker);

// The VMs a sim agent runs, from its state file (agent/state_file.h); none
// when the file is missing or being replaced.
std::vector<VmCopy> state_file_copies(const std::string& node, const std::filesystem::path& file);

struct ProcStats {
  double rss_mib = -1;
  int fds = -1;
  int threads = -1;
};
// /proc/PID/status (VmRSS, Threads) and /proc/PID/fd; -1 where unreadable.
ProcStats proc_stats(pid_t pid);

// Σ of the sizes of the regular files in `dir` whose name starts with
// `prefix` (a SQLite database with its -wal and -shm), in MiB.
double files_mib(const std::filesystem::path& dir, const std::string& prefix);

}  // namespace corral::testing
