// A thin C++ layer over the libvirt C API for the libvirt driver: owning
// handles, libvirt errors turned into corral Errors, and a domain's state
// turned into an instance state. No policy lives here.
#pragma once

#include <libvirt/libvirt.h>

#include <memory>
#include <string>

#include "agent/drivers/driver.h"
#include "base/error.h"

namespace corral::agent {

// Installs (once per process) a libvirt error handler that prints nothing:
// libvirt's default handler writes every error to stderr, including the
// expected ones (a lookup of a domain that does not exist). Errors are read
// with virGetLastError (thread-local) right after the failing call instead.
// Also calls virInitialize, which multi-threaded programs must do first.
void install_libvirt_error_handler();

// The last libvirt error of this thread, as text ("no error" when none).
std::string libvirt_last_message();
// The last libvirt error of this thread as an Error, its message prefixed by
// `what` ("vm/web-1: virDomainDestroy: Requested operation is not valid: ...").
// The code follows libvirt's: no domain → NotFound, invalid operation →
// Conflict, bad XML or configuration → BadRequest, timeout → Timeout, anything
// else (no connection, daemon errors) → Unavailable.
Error libvirt_error(const std::string& what);
// Whether the last libvirt error of this thread says the domain does not exist.
bool libvirt_no_domain();

struct DomainFree {
  void operator()(virDomainPtr d) const { virDomainFree(d); }
};
// An owned domain handle; null when there is none.
using DomainRef = std::unique_ptr<virDomain, DomainFree>;

// Sets `status` (state, exit_code, message) from virDomainGetState's state and
// reason: running, blocked, paused, being shut down, pm-suspended → kRunning
// (the domain exists and holds its resources); shut off → kExited with a code
// and message per reason ("shut down" 0, "destroyed" 137 as a SIGKILL would
// be, "crashed" 1, "failed" 1, ...); crashed → kExited 1 "crashed".
void apply_domain_state(InstanceStatus& status, int state, int reason);

}  // namespace corral::agent
