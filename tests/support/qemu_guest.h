// The qemu driver's test guest (scripts/build-guest.sh) for unit and e2e
// tests, which skip — never install — when this machine lacks what it needs.
#pragma once

#include <string>

namespace corral::testing {

// What the guest needs and this machine lacks, e.g. " qemu-system-x86_64
// (qemu-system-x86) busybox-static"; "" when everything is there.
std::string missing_qemu_guest_prerequisites();

// Runs scripts/build-guest.sh into `dir` (dir/vmlinuz, dir/initramfs); false
// with its output in `error` when it fails.
bool build_qemu_guest(const std::string& dir, std::string* error);

}  // namespace corral::testing
