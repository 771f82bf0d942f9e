#!/usr/bin/env bash
# Configures and builds one flavour of Corral.
#   scripts/build.sh [release|asan|bench] [all|binaries|benchmarks]   (default: release all)
#
#   release   build/       g++, -O2 -g1: the four programs and the test suite
#   asan      build-asan/  AddressSanitizer + UndefinedBehaviorSanitizer, -O0 -g1,
#                          with clang++-14 when installed (it compiles instrumented
#                          code about twice as fast as g++), else g++; one file per
#                          unit, so that a missing #include cannot hide in a batch
#   bench     build/       the release flavour plus the benchmarks in bench/
#   binaries  only corral-controller, corral-agent, corralctl and corral-balancer
#             (what the quick start runs), not the tests
#   benchmarks  (bench flavour) the four programs and the benchmarks, not the test
#             executables: what bench/run-all.sh needs
# CORRAL_BUILD_DIR overrides the flavour's directory (bench/run-all.sh --build-dir);
# CORRAL_JOBS the parallel jobs (default: nproc).
# A compiler cache (ccache) and lld are used when installed; scripts/install-deps.sh
# installs both.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
what="${2:-all}"
jobs="${CORRAL_JOBS:-$(nproc)}"
case "$flavour" in
  release) dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_BENCH=OFF) ;;
  bench)   dir=build; flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCORRAL_BENCH=ON) ;;
  # One file per translation unit (no unity batches): the sanitizer build also
  # proves that every file includes what it uses, which a batch can hide.
  asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=Debug -DCORRAL_SANITIZE=ON -DCORRAL_BENCH=OFF
                                  -DCORRAL_UNITY=OFF)
           if [ ! -f "${CORRAL_BUILD_DIR:-$dir}/CMakeCache.txt" ] && command -v clang++-14 >/dev/null 2>&1; then
             flags+=(-DCMAKE_CXX_COMPILER=clang++-14)
           fi ;;
  *) echo "usage: scripts/build.sh [release|asan|bench] [all|binaries|benchmarks]" >&2; exit 2 ;;
esac
dir="${CORRAL_BUILD_DIR:-$dir}"
case "$what" in
  all) targets=(); flags+=(-DCORRAL_TESTS=ON) ;;
  # Without the tests CMake needs no GoogleTest: the quick start installs none.
  binaries) targets=(--target corral-binaries); flags+=(-DCORRAL_TESTS=OFF) ;;
  # The benchmarks reuse tests/support, so the tests stay configured (as with
  # `all`: switching between the two does not re-configure), only not built.
  benchmarks)
    [ "$flavour" = bench ] || { echo "scripts/build.sh: benchmarks needs the bench flavour" >&2; exit 2; }
    targets=(--target corral-benchmarks); flags+=(-DCORRAL_TESTS=ON) ;;
  *) echo "usage: scripts/build.sh [release|asan|bench] [all|binaries|benchmarks]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
cmake --build "$dir" -j "$jobs" "${targets[@]}"
