// The agent's small local state file: for each VM it runs, what a restarted
// agent needs to adopt it instead of starting a second copy (epoch, driver,
// pid and its start time, port).
//
// Written atomically (a temp file in the same directory, fsync, rename, fsync
// of the directory), so a crash leaves either the old or the new file. A
// corrupt or truncated file (a disk error, a hand edit) is detected and
// reported as an Error naming the file; the caller then rebuilds its view from
// the driver. Nothing here crashes on bad content.
//
// Format (JSON):
//   {"version": 1, "vms": {"web-1": {"epoch": 3, "driver": "process",
//                                   "pid": 4242, "startTime": 991, "port": 40001}}}
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "base/error.h"

namespace corral::agent {

struct StateEntry {
  int64_t epoch = 0;
  std::string driver;       // the driver that runs it: process | sim | libvirt
  int pid = 0;              // process driver; 0 otherwise
  uint64_t start_time = 0;  // /proc/PID/stat starttime of pid
  int port = 0;
  bool operator==(const StateEntry&) const = default;
};

struct AgentState {
  std::map<std::string, StateEntry> vms;  // by VM name
  bool operator==(const AgentState&) const = default;
};

// Reads the file. A file that does not exist is an empty state (a first
// start); anything unreadable or malformed is an Error (code kInvalid for bad
// content) whose message names the file and what was wrong.
Result<AgentState> read_state_file(const std::filesystem::path& file);
// The file's content, as read_state_file checks it (errors name `file`).
Result<AgentState> parse_state(const std::string& text, const std::filesystem::path& file);

// Replaces the file atomically.
Result<void> write_state_file(const std::filesystem::path& file, const AgentState& state);

}  // namespace corral::agent
