#!/usr/bin/env bash
# Installs what Corral needs from Debian 12's packages, and nothing that is
# already there. Safe to run again.
#   scripts/install-deps.sh          to build and run the test suite (default)
#   scripts/install-deps.sh run      only to build and run the four programs (quick start)
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl openssl
  libcpp-httplib-dev libyaml-cpp-dev libspdlog-dev libfmt-dev libcurl4-openssl-dev nlohmann-json3-dev
  libsqlite3-dev libcli11-dev libssl-dev libvirt-dev libboost-dev
  # The etcd store talks to etcd over gRPC: the C++ runtime and the code generators.
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  python3 procps
  # Build speed: a compiler cache and a faster linker.
  ccache lld
)
if [ "${1:-test}" != run ]; then
  PACKAGES+=(
    libgtest-dev libgmock-dev libbenchmark-dev
    # The partition tests cut hosts apart in network namespaces (ip netns).
    iproute2
    # The sanitizer build uses clang: it compiles instrumented code about twice
    # as fast as g++ (scripts/build.sh asan).
    clang-14 libclang-rt-14-dev
    # The etcd client's integration tests start a real etcd (controller/store/etcd).
    etcd-server etcd-client
    # The dashboard's end-to-end test drives a headless browser (tests/e2e/dashboard_test.cpp).
    chromium
    # The package tests verify the units (systemd-analyze) and make the corral
    # user in a throwaway root (systemd-sysusers); dpkg-deb and dpkg-shlibdeps
    # come with build-essential (dpkg-dev).
    systemd
    # The qemu driver's tests boot a real guest (scripts/build-guest.sh): QEMU,
    # Debian's cloud kernel and a static busybox, packed with cpio. About 20 s
    # to install (measured); its tests skip when they are missing.
    qemu-system-x86 linux-image-cloud-amd64 busybox-static cpio
  )
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "corral: all build dependencies are installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "corral: missing packages (${missing[*]}) and not root: run this script as root" >&2
    exit 1
  fi
fi
echo "corral: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
