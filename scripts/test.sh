#!/usr/bin/env bash
# The README's test command and what CI runs: installs what is missing, builds,
# and runs the whole suite — unit, integration and end-to-end tests — first on
# the release build, then again on the sanitizer (ASan + UBSan) build.
# Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

status=0
for flavour in release asan; do
  dir=build; [ "$flavour" = asan ] && dir=build-asan
  echo "=== build ($flavour) ==="
  bash scripts/build.sh "$flavour"
  echo "=== tests ($flavour) ==="
  if ! (cd "$dir" && ctest --output-on-failure -j "$(nproc)" --timeout 300); then
    status=1
  fi
done
exit $status
