#include "tests/support/qemu_guest.h"

#include <cstdlib>

#include "tests/support/cluster.h"
#include "tests/support/paths.h"

namespace corral::testing {

std::string missing_qemu_guest_prerequisites() {
  std::string missing;
  if (std::system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
    missing += " qemu-system-x86_64 (qemu-system-x86)";
  if (std::system("ls /boot/vmlinuz-*-cloud-amd64 >/dev/null 2>&1") != 0)
    missing += " the cloud kernel (linux-image-cloud-amd64)";
  if (std::system("dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | "
                  "grep -q 'install ok installed'") != 0)
    missing += " busybox-static";
  if (std::system("command -v cpio >/dev/null 2>&1") != 0) missing += " cpio";
  return missing;
}

bool build_qemu_guest(const std::string& dir, std::string* error) {
  auto built = run_command("/bin/bash", {source_path("scripts/build-guest.sh"), dir});
  if (built.exit_code == 0) return true;
  *error = "scripts/build-guest.sh " + dir + " failed:\n" + built.out + built.err;
  return false;
}

}  // namespace corral::testing
