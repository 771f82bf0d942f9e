#!/usr/bin/env bash
# Fuzzes every target for SECONDS each (default 600), one after another on one
# core, and prints one line per target: executions, executions per second,
# coverage and whether it found anything. Needs the sanitizer build with clang
# (bash scripts/build.sh asan all). New corpus entries go to
# $FUZZ_WORK/<target> (default /tmp/corral-fuzz), findings to $FUZZ_WORK/crashes.
# FUZZ_TARGETS="manifest heartbeat" fuzzes only those.
#   bash tests/fuzz/run-all.sh [SECONDS]
set -uo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-600}"
work="${FUZZ_WORK:-/tmp/corral-fuzz}"
mkdir -p "$work/crashes"
echo "fuzzing, ${seconds} s per target, commit $(git rev-parse --short HEAD), $(nproc) cores, $(date -u +%FT%TZ)"
printf '%-14s %12s %10s %8s %8s  %s\n' target execs execs/s cov ft result
for bin in build-asan/tests/fuzz/fuzz_*; do
  t="${bin##*/fuzz_}"
  if [ -n "${FUZZ_TARGETS:-}" ] && [[ " $FUZZ_TARGETS " != *" $t "* ]]; then continue; fi
  mkdir -p "$work/$t"
  log="$work/$t.log"
  "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$work/crashes/$t-" -print_final_stats=1 \
      "$work/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  result=$([ $rc = 0 ] && echo "no finding" || echo "FINDING (exit $rc): $log")
  printf '%-14s %12s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$result"
done
