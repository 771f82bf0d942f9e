#!/usr/bin/env bash
# Configures and builds one flavour of Corral.
#   scripts/build.sh [release|asan]   (default: release)
# release → build/, asan → build-asan/ (AddressSanitizer + UndefinedBehaviorSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
jobs="${CORRAL_JOBS:-$(nproc)}"
case "$flavour" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo) ;;
  asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCORRAL_SANITIZE=ON -DCORRAL_BENCH=OFF) ;;
  *) echo "usage: scripts/build.sh [release|asan]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs"
