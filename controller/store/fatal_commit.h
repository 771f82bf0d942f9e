// The controller's answer to a failed store commit: log why, and exit.
//
// A commit that failed may still be in SQLite's log (the write went through,
// the sync did not), so the process cannot tell what a restart will find.
// etcd panics in this case; Corral exits with its own code, and whatever
// restarts it (systemd, a supervisor, an operator) recovers what is on disk.
#pragma once

#include <functional>
#include <string>

#include "controller/store/store.h"

namespace corral::store {

// The exit code of a controller whose store failed to commit: EX_IOERR of
// <sysexits.h> ("an error occurred while doing I/O on some file"), distinct
// from 1 (bad flags, cannot start) and 0 (stopped by a signal).
inline constexpr int kExitCommitFailed = 74;

// A StoreOptions::on_commit_failure that logs at error level, naming
// `data_file` and the cause (e.g. "store: commit of revision 812 to
// /var/lib/corral/corral.db failed: ...: database or disk is full (No space
// left on device); exiting with code 74 so that a restart recovers what is
// on disk"), flushes the logs and _exit()s: no destructor or atexit handler
// runs, so nothing more is written.
std::function<void(const CommitFailure&)> exit_on_commit_failure(std::string data_file);

}  // namespace corral::store
