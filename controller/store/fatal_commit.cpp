#include "controller/store/fatal_commit.h"

#include <unistd.h>

#include <utility>

#include "base/log.h"

namespace corral::store {

std::function<void(const CommitFailure&)> exit_on_commit_failure(std::string data_file) {
  return [data_file = std::move(data_file)](const CommitFailure& failure) {
    logger("store")->error(
        "commit of revision {} to {} failed: {}; exiting with code {} so that a restart "
        "recovers what is on disk",
        failure.revision, data_file, failure.error.message, kExitCommitFailed);
    flush_logs();
    // _exit, not exit: the other threads still run, and destructors (the
    // store's, SQLite's) could write more to a file in an unknown state.
    _exit(kExitCommitFailed);
  };
}

}  // namespace corral::store
