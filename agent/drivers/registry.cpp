// The driver registry. Adding a driver is one new file (which defines its
// factory) plus one line in kDrivers below.
//
// Why a table and not self-registering static objects (Envoy's REGISTER_FACTORY):
// corral_agent is a static library, and the linker drops an object file nothing
// refers to, together with its registrar, so a driver would silently vanish from
// binaries that do not name it. The table refers to every factory.
#include <algorithm>

#include "agent/drivers/driver.h"
#include "agent/drivers/factories.h"

namespace corral::agent {

namespace {

struct Registration {
  const char* name;
  DriverFactory factory;
};

constexpr Registration kDrivers[] = {
    {"libvirt", &make_libvirt_driver},
    {"process", &make_process_driver},
    {"qemu", &make_qemu_driver},
    {"sim", &make_sim_driver},
};

}  // namespace

const char* state_name(InstanceState state) {
  switch (state) {
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kExited:
      return "exited";
    case InstanceState::kFailedToStart:
      return "failed";
  }
  return "unknown";
}

Result<void> Driver::stop_all(const std::vector<std::string>& names) {
  Result<void> first = Ok{};
  for (const auto& name : names) {
    auto r = stop(name);
    if (!r && r.error().code != ErrorCode::kNotFound && first.ok()) first = std::move(r);
  }
  return first;
}

Result<std::unique_ptr<Driver>> make_driver(const std::string& name, const DriverOptions& options) {
  for (const auto& r : kDrivers) {
    if (name == r.name) return r.factory(options);
  }
  std::string known;
  for (const auto& n : driver_names()) known += (known.empty() ? "" : ", ") + n;
  return make_error(ErrorCode::kNotFound, "unknown driver \"" + name + "\" (known: " + known + ")");
}

std::vector<std::string> driver_names() {
  std::vector<std::string> names;
  for (const auto& r : kDrivers) names.emplace_back(r.name);
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace corral::agent
