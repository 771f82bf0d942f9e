// A one-shot QMP client: connect to a QEMU's QMP unix socket, negotiate
// capabilities, run one command, return its "return" value. Every call is
// bounded by `timeout` (connect, each read and write). Internal to the qemu driver.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>

#include "api/json_fwd.h"
#include "base/error.h"

namespace corral::agent {

// {"execute": command}; the answer's "return" (an object, often empty), or an
// Error: kUnavailable when the socket does not answer, kInternal with QEMU's
// error description when QEMU refuses the command.
Result<Json> qmp_execute(const std::filesystem::path& socket, const std::string& command,
                         std::chrono::milliseconds timeout);

}  // namespace corral::agent
