// The factory of every driver, one line each, referenced by registry.cpp.
// Internal to agent/drivers/: callers use make_driver().
#pragma once

#include <memory>

#include "agent/drivers/driver.h"

namespace corral::agent {

using DriverFactory = Result<std::unique_ptr<Driver>> (*)(const DriverOptions&);

Result<std::unique_ptr<Driver>> make_libvirt_driver(const DriverOptions& options);
Result<std::unique_ptr<Driver>> make_process_driver(const DriverOptions& options);
Result<std::unique_ptr<Driver>> make_qemu_driver(const DriverOptions& options);
Result<std::unique_ptr<Driver>> make_sim_driver(const DriverOptions& options);

}  // namespace corral::agent
