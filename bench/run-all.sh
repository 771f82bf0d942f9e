#!/usr/bin/env bash
# Runs every benchmark in bench/ at the size bench/RESULTS.md documents and
# prints one table: benchmark, figure, target, measured, met? — with the
# commit and the machine. Appends it to bench/RESULTS.md as a
# `## run-all <date> <commit>` section (issue 17: "benchmarks stay met").
#
#   bench/run-all.sh [--build-dir DIR] [--no-build] [--quick] [--only NAME[,NAME]]
#                    [--skip NAME[,NAME]] [--soak] [--no-append] [--list] [--from-logs DIR]
#
#   --build-dir DIR  the build tree to build and run (default: build/)
#   --no-build       run the benchmarks as they are in DIR/bench, do not build first
#   --quick          every benchmark at a tiny size (seconds each): checks this script
#                    end to end; the figures mean nothing and are never recorded
#   --only NAMES     run only these benchmarks (comma-separated; --list shows the names)
#   --skip NAMES     run all but these (e.g. --skip false_failover_bench: 10 minutes)
#   --soak           add the opt-in benchmarks (the 60-minute soak) to the run; without it
#                    they run only when --only names them (--only soak)
#   --no-append      print the table, do not append it to bench/RESULTS.md
#   --list           print the benchmarks, their arguments and time-outs, and exit
#   --from-logs DIR  run nothing: make the table from the logs of an earlier run
#                    (DIR/bench-logs/<stamp>/), for a run whose table was never
#                    printed; its commit and date are read from the logs' headers
#
# Do not edit this script while it runs: bash reads it as it goes, and an
# edit stops the run at the end with a syntax error (--from-logs recovers).
#
# The build is `scripts/build.sh bench benchmarks` (the release flavour with
# -DCORRAL_BENCH=ON, only the programs and the benchmarks); CORRAL_JOBS=N limits
# its parallel jobs.
# Every benchmark's output is kept in DIR/bench-logs/<UTC timestamp>/NAME.log and
# its figures are parsed from there. A benchmark that exits non-zero or overruns
# its time-out (GNU timeout; the benchmark and every child in its process group
# are stopped) is a row "FAILED ..., see LOG" and the run goes on; a figure that
# cannot be found in the log is "unparsed, see LOG". Exit status: 0 when every
# benchmark ran and every target was met, 1 otherwise, 2 for a usage error.
#
# A full run takes about 35 minutes on the 2-core development VM (--list prints
# the estimate per benchmark). Run it on a machine doing nothing else: figures
# taken while something compiles are meaningless (the header records the load).
# bench/stale.sh lists the RESULTS.md sections older than the code they measure.
set -euo pipefail

# ---------------------------------------------------------------------------
# Targets: the one place they are written down. One line each:
#   benchmark | figure | op (>=, <= or =) | limit | unit (x: a ratio) | where it comes from
# A figure parsed from a log with a line here gets a target and a met? verdict;
# any other figure is printed as information. README = README.md's "Numbers we
# measured" table.
TARGETS="
api_bench|creates/s|>=|5000|/s|README; RESULTS.md api_bench; issue 17 §1
api_bench|GET p99|<=|5|ms|README; RESULTS.md api_bench; issue 17 §1
api_bench|LIST transfer (median)|<=|1000|ms|README (full LIST of 100,000 VMs ≤ 1 s); RESULTS.md api_bench
api_bench|watch p99|<=|10|ms|README; RESULTS.md api_bench; issue 17 §1
api_bench|controller RSS|<=|1024|MiB|README; RESULTS.md api_bench; issue 17 §1
api_bench_300k|creates/s|>=|5000|/s|issue 17 §2 (10,000 Nodes, 300,000 VMs)
api_bench_300k|GET p99|<=|5|ms|issue 17 §2
api_bench_300k|LIST transfer (median)|<=|2000|ms|issue 17 §2 (LIST of 300,000 VMs streamed ≤ 2 s)
api_bench_300k|LIST paged by 500 (median)|<=|2000|ms|issue 17 §2 (with limit/continue paging)
api_bench_300k|watch p99|<=|10|ms|issue 17 §2 (to 1,000 watchers in a separate process)
api_bench_300k|controller RSS|<=|2048|MiB|issue 17 §2 (controller RSS ≤ 2 GiB)
scheduler_bench|SQLite placements/s|>=|10000|/s|README; RESULTS.md scheduler_bench; issue 17 §2
heartbeat_bench|latency p99|<=|50|ms|README; RESULTS.md heartbeat_bench
heartbeat_bench_10k|latency p99|<=|50|ms|issue 17 §2 (10,000 agents at 1 Hz, 30 VMs each: 300,000 VMs)
heartbeat_bench_10k|controller CPU|<=|150|%|issue 17 §2 (controller ≤ 1.5 cores)
heartbeat_bench_10k|VMs declared Lost|=|0|VMs|issue 4 (no false fail-over): every agent beats on time
failover_bench|fail-over p99|<=|3|s|README; RESULTS.md failover_bench (issue 4)
failover_bench_etcd|fail-over p99|<=|3|s|README; issue 16 (fail-over on etcd still ≤ 3 s)
takeover_bench|first decision p99|<=|3|s|README; issue 16 (control-plane take-over)
etcd_store_bench|etcd store / raw etcd put|>=|0.8|x|README; issue 16 (≥ 0.8× raw etcd)
rebalance_bench|plan_moves max|<=|200|ms|README (one round ≤ 200 ms); RESULTS.md rebalance_bench
rebalance_bench|converge moves / lower bound|<=|2|x|RESULTS.md rebalance_bench (moves ≤ 2× the bound)
convergence_bench|moves / lower bound|<=|2|x|README; RESULTS.md convergence_bench (issue 5)
false_failover_bench|nodes declared NotReady|=|0|nodes|README; RESULTS.md false_failover_bench (issue 4)
false_failover_bench|VMs moved|=|0|VMs|README; RESULTS.md false_failover_bench (issue 4)
slow_clients_bench|under attack: admin GET p99|<=|50|ms|README; RESULTS.md slow_clients_bench (issue 15 §1)
lb_bench|http: corral/haproxy req/s|>=|1.0|x|README; RESULTS.md lb_bench (issue 6)
lb_bench|http: corral/haproxy p99|<=|1.1|x|README; RESULTS.md lb_bench (issue 6)
lb_bench|tcp: corral/haproxy req/s|>=|1.0|x|README; RESULTS.md lb_bench (issue 6)
lb_bench|tcp: corral/haproxy p99|<=|1.1|x|README; RESULTS.md lb_bench (issue 6)
lb_slow_body_bench|VmRSS peak|<=|256|MiB|README; RESULTS.md lb_slow_body_bench (issue 15 §6)
lb_failover_bench|failed after detection|=|0|requests|README; RESULTS.md (issue 6: none fail once detected)
sim_cluster_bench|placements/s with 300k placed|>=|10000|/s|issue 17 §2 (the scheduler's passes; simulated cluster, 10,000 nodes)
sim_cluster_bench|rebalance round|<=|200|ms|issue 17 §2 (MoveLoop pass that starts moves, input built included; the longest after the first)
sim_cluster_bench|fail-over p99 (simulated)|<=|3|s|issue 4; issue 17 §2 (1 node of 10,000)
ui_bench|sync at 5,000 hosts|<=|10|s|issue 18 §1 (the dashboard stays usable at 5,000 hosts)
ui_bench|slowest render|<=|100|ms|issue 18 §1 (every tab's redraw, 5,000 hosts, 20,000 VMs)
ui_bench|NotReady on the page p50|<=|2000|ms|issue 18 §1 (a NotReady host shows within 2 s of the API saying so)
soak|invariant violations|=|0|violations|issue 17 §4 (no VM twice, placed ≤ 5 s, no acknowledged object lost)
soak|max placement latency|<=|5|s|issue 17 §4 (every VM of a set that fits placed within 5 s)
soak|controller RSS growth (life ends)|<=|5|%|issue 17 §4 (after warm-up — the first 10-minute controller life — over the hour: end of the second life to end of the last)
soak|controller fds growth (life ends)|<=|5|%|issue 17 §4
soak|controller threads growth (life ends)|<=|5|%|issue 17 §4
soak|database size growth (life ends)|<=|5|%|issue 17 §4 (Events expire after 5 min in this run: see --event-ttl-minutes)
"

# ---------------------------------------------------------------------------
# The benchmarks, in the order they run. One line each:
#   name | binary in DIR/bench | documented arguments | --quick arguments |
#   time-out s | --quick time-out s | estimated s (documented size) | needs
# The documented sizes are the commands in bench/RESULTS.md (defaults where it
# runs the defaults). needs: etcd (/usr/bin/etcd, which tests/support starts),
# lb-tools (nginx, haproxy, wrk, taskset), chromium (ui_bench), fds=N (an open-files hard limit),
# opt-in (not in a full run: only with --only NAME or --soak).
JOBS="
codec_bench|codec_bench|--benchmark_min_time=1|--benchmark_min_time=0.01|300|60|10|
api_bench|api_bench||--vms 2000 --nodes 200 --clients 4 --watchers 5|900|120|120|
api_bench_300k|api_bench|--vms 300000 --nodes 10000 --watchers 1000|--vms 3000 --nodes 300 --clients 4 --watchers 20|1800|120|150|
scheduler_bench|scheduler_bench||--nodes 200 --vms 1000|600|120|60|
scheduler_bench_etcd|scheduler_bench|--nodes 500 --vms 2000 --etcd 1|--nodes 50 --vms 200 --etcd 1|600|120|40|etcd
heartbeat_bench|heartbeat_bench|--agents 5000 --seconds 20|--agents 50 --seconds 2 --register-seconds 1|300|120|45|
heartbeat_bench_10k|heartbeat_bench|--agents 10000 --seconds 30 --vms-per-agent 30|--agents 100 --seconds 2 --register-seconds 1 --vms-per-agent 3|600|120|160|
failover_bench|failover_bench|--trials 20|--trials 2|900|120|110|
failover_bench_etcd|failover_bench|--trials 20 --store etcd|--trials 2 --store etcd|900|120|110|etcd
takeover_bench|takeover_bench|--trials 20|--trials 2|900|120|130|etcd
etcd_store_bench|etcd_store_bench|--seconds 10 --threads 32|--seconds 1 --threads 4|300|120|50|etcd
rebalance_bench|rebalance_bench||--nodes 200 --vms 2000 --runs 2 --sim-nodes 50 --sim-vms 500 --moves-per-round 10|600|120|20|
convergence_bench|convergence_bench|--agents 500 --vms 10000 --moves-per-round 500 --timeout 240|--agents 10 --vms 200 --moves-per-round 50 --timeout 60|1200|240|300|
slow_clients_bench|slow_clients_bench||--agents 5 --seconds 2 --attack 20 --trickle-ms 500|300|120|50|
lb_bench|lb_bench||--duration 1 --warmup 0 --repeat 2 --no-direct|900|180|190|lb-tools
lb_slow_body_bench|lb_slow_body_bench||--clients 20 --body-mib 1 --seconds 2|300|120|40|fds=2200
lb_failover_bench|lb_failover_bench|--trials 10|--trials 1 --clients 1|900|180|120|
false_failover_bench|false_failover_bench|--agents 20 --seconds 600|--agents 2 --seconds 5|900|120|620|
sim_cluster_bench|sim_cluster_bench|--nodes 10000 --vms 300000|--nodes 100 --vms 2000|3600|120|600|
ui_bench|ui_bench|--nodes 5000 --vms 20000 --trials 10|--nodes 100 --vms 400 --trials 2|900|180|120|chromium
soak|soak|--minutes 60 --event-ttl-minutes 5|--seconds 60 --controller-restart-seconds 30 --sim-agents 5 --real-agents 2|4500|240|3660|opt-in
"

usage() { sed -n '/^#   bench\/run-all.sh/,/^#   --list/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="$root/build"
do_build=1 quick=0 append=1 list=0 only="" skip="" soak=0 from_logs=""
command_line="bench/run-all.sh${*:+ $*}"
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) [ $# -ge 2 ] || usage; build_dir="$(realpath -m "$2")"; shift ;;
    --no-build) do_build=0 ;;
    --quick) quick=1 ;;
    --only) [ $# -ge 2 ] || usage; only="$2"; shift ;;
    --skip) [ $# -ge 2 ] || usage; skip="$2"; shift ;;
    --soak) soak=1 ;;
    --no-append) append=0 ;;
    --list) list=1 ;;
    --from-logs) [ $# -ge 2 ] || usage; from_logs="$(realpath -m "$2")"; do_build=0; shift ;;
    -h|--help) usage ;;
    *) echo "run-all.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
[ "$quick" = 1 ] && append=0   # quick runs check the script; they are never recorded
cd "$root"

# --- the two tables, read once ---------------------------------------------
declare -A target_op target_limit target_unit
while IFS='|' read -r t_bench t_fig t_op t_limit t_unit _; do
  [ -n "$t_bench" ] || continue
  target_op["$t_bench|$t_fig"]="$t_op"
  target_limit["$t_bench|$t_fig"]="$t_limit"
  target_unit["$t_bench|$t_fig"]="$t_unit"
done <<<"$TARGETS"

job_names=()
declare -A job_bin job_args job_quick job_timeout job_quick_timeout job_estimate job_needs
while IFS='|' read -r j_name j_bin j_args j_quick j_timeout j_qtimeout j_est j_needs; do
  [ -n "$j_name" ] || continue
  job_names+=("$j_name")
  job_bin[$j_name]="$j_bin"
  job_args[$j_name]="$j_args"
  job_quick[$j_name]="$j_quick"
  job_timeout[$j_name]="$j_timeout"
  job_quick_timeout[$j_name]="$j_qtimeout"
  job_estimate[$j_name]="$j_est"
  job_needs[$j_name]="$j_needs"
done <<<"$JOBS"

in_list() {  # in_list NAME "a,b,c"
  local IFS=,
  local x
  for x in $2; do [ "$x" = "$1" ] && return 0; done
  return 1
}
for name in ${only//,/ } ${skip//,/ }; do
  if [ -z "${job_bin[$name]+set}" ]; then
    echo "run-all.sh: no benchmark named $name (bench/run-all.sh --list)" >&2
    exit 2
  fi
done
selected=()
for name in "${job_names[@]}"; do
  if [ -n "$only" ] && ! in_list "$name" "$only"; then continue; fi
  if [ -n "$skip" ] && in_list "$name" "$skip"; then continue; fi
  # Opt-in (an hour): only when named, or with --soak.
  if in_list opt-in "${job_needs[$name]}" && [ "$soak" = 0 ] && ! in_list "$name" "$only"; then continue; fi
  selected+=("$name")
done

estimate=0
for name in "${selected[@]}"; do estimate=$((estimate + job_estimate[$name])); done

if [ "$list" = 1 ]; then
  printf '%-22s %-8s %-8s %s\n' NAME TIMEOUT ESTIMATE "COMMAND (documented size)"
  for name in "${selected[@]}"; do
    printf '%-22s %-8s %-8s %s\n' "$name" "${job_timeout[$name]}s" "~${job_estimate[$name]}s" \
      "${job_bin[$name]} ${job_args[$name]}${job_needs[$name]:+   [needs ${job_needs[$name]}]}"
  done
  echo "total: about $(( (estimate + 59) / 60 )) min, plus the build"
  exit 0
fi

# --- the machine, the commit, the build --------------------------------------
started_epoch=$(date -u +%s)
stamp=$(date -u +%Y%m%dT%H%M%SZ)
date_text=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git rev-parse --short HEAD)
# "-dirty": tracked files changed, other than documents (this script's own
# append to RESULTS.md included); an untracked scratch file changes nothing measured.
if ! git diff --quiet HEAD -- . ':(exclude,glob)**/*.md' 2>/dev/null; then commit="$commit-dirty"; fi
branch=$(git rev-parse --abbrev-ref HEAD)
cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
mem_gib=$(awk '/^MemTotal:/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)
os_name=$(sed -nE 's/^PRETTY_NAME="?([^"]*)"?$/\1/p' /etc/os-release 2>/dev/null || true)
machine="$(nproc) cores, ${cpu_model:-unknown CPU}, $mem_gib GiB, Linux $(uname -r)${os_name:+, $os_name}"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
busy=""
log_dir="$build_dir/bench-logs/$stamp"
[ "$quick" = 0 ] || log_dir="$log_dir-quick"
if [ -n "$from_logs" ]; then
  # The run that wrote these logs: "# run-all <commit> <date>: ..." heads each.
  log_dir="$from_logs"
  first_log=$(ls "$log_dir"/*.log 2>/dev/null | grep -v '/build.log$' | head -1 || true)
  [ -n "$first_log" ] || { echo "run-all.sh: no benchmark logs in $log_dir" >&2; exit 2; }
  header=$(head -1 "$first_log")
  commit=$(echo "$header" | sed -nE 's/^# run-all ([^ ]+) .*/\1/p')
  date_text=$(echo "$header" | sed -nE 's/^# run-all [^ ]+ ([0-9-]+ [0-9:]+ UTC):.*/\1/p')
  load_start="(not recorded)"
  command_line="$command_line (the logs of a run whose table was not printed)"
fi
mkdir -p "$log_dir"
# rel PATH: relative to the repository when inside it (build/...), else absolute.
rel() {
  case "$1" in "$root"/*) echo "${1#"$root"/}" ;; *) echo "$1" ;; esac
}

echo "run-all: $commit on $machine"
echo "run-all: load average at start $load_start; logs in $(rel "$log_dir")/"
if [ "$quick" = 1 ]; then
  echo "run-all: --quick: tiny sizes, figures meaningless, nothing recorded"
else
  echo "run-all: ${#selected[@]} benchmark(s) at their documented sizes, about $(( (estimate + 59) / 60 )) min"
  if [ -z "$from_logs" ] && awk -v l="${load_start%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
    busy="load average $load_start on $(nproc) cores at the start: other work distorts the figures"
    echo "run-all: WARNING: $busy"
  fi
fi

if [ "$do_build" = 1 ]; then
  echo "run-all: building the bench flavour into $(rel "$build_dir") (log: $(rel "$log_dir")/build.log)"
  if ! CORRAL_BUILD_DIR="$build_dir" bash scripts/build.sh bench benchmarks >"$log_dir/build.log" 2>&1 </dev/null; then
    tail -30 "$log_dir/build.log" >&2
    echo "run-all: the build failed; see $(rel "$log_dir")/build.log" >&2
    exit 1
  fi
fi
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
cxx_version=$({ [ -n "$cxx" ] && "$cxx" --version 2>/dev/null | head -1; } || true)
build_text="$(rel "$build_dir")/ (${build_type:-unknown build type}${cxx_version:+, $cxx_version})"
[ "$do_build" = 1 ] || build_text="$build_text, not rebuilt (--no-build)"

# --- rows ----------------------------------------------------------------------
rows=()          # "benchmark<TAB>figure<TAB>target<TAB>measured<TAB>met"
failed=0 not_met=0 unparsed=0
current_log=""

add_row() { rows+=("$1"$'\t'"$2"$'\t'"$3"$'\t'"$4"$'\t'"$5"); }

# grab LOG SED-SCRIPT: the first line sed -nE prints, or nothing.
grab() { sed -nE "$2" "$1" 2>/dev/null | head -1 || true; }

# with_unit NUMBER UNIT: "5,000 /s", "0.80×", "3 s" (thousands grouped, as RESULTS.md writes them).
with_unit() {
  local n
  n=$(awk -v v="$1" 'BEGIN {
        i = v; f = ""; p = index(v, "."); if (p) { i = substr(v, 1, p - 1); f = substr(v, p) }
        while (length(i) > 3 && i ~ /^[0-9]+$/) { f = "," substr(i, length(i) - 2) f; i = substr(i, 1, length(i) - 3) }
        print i f }')
  if [ "$2" = x ]; then echo "$n×"; else echo "$n${2:+ $2}"; fi
}

# fig BENCH FIGURE VALUE UNIT: a figure; checked against its target when it has one.
fig() {
  local bench=$1 figure=$2 value=$3 unit=$4 key="$1|$2"
  local target="" met="" op="" limit=""
  if [ -n "${target_op[$key]+set}" ]; then
    op=${target_op[$key]} limit=${target_limit[$key]} unit=${target_unit[$key]}
    case "$op" in ">=") target="≥ " ;; "<=") target="≤ " ;; *) target="" ;; esac
    target+=$(with_unit "$limit" "$unit")
  fi
  if [ -z "$value" ]; then
    if [ -n "$target" ]; then met="?"; unparsed=$((unparsed + 1)); fi
    add_row "$bench" "$figure" "${target:-—}" "unparsed, see ${current_log##*/}" "${met:-—}"
    return
  fi
  if [ -n "$target" ]; then
    if awk -v v="$value" -v l="$limit" -v op="$op" \
        'BEGIN { exit !(op == ">=" ? v + 0 >= l + 0 : op == "<=" ? v + 0 <= l + 0 : v + 0 == l + 0) }'; then
      met="yes"
    else
      met="NO"
      not_met=$((not_met + 1))
    fi
  fi
  add_row "$bench" "$figure" "${target:-—}" "$(with_unit "$value" "$unit")" "${met:-—}"
}

# info BENCH FIGURE TEXT: a figure without a target, as text (skipped when empty).
info() {
  [ -n "$3" ] || return 0
  add_row "$1" "$2" "—" "$3" "—"
}

# --- parsers: one per benchmark, reading the lines its source prints ---------
# Each takes the log; a line it cannot find leaves its figure "unparsed".
N='[0-9][0-9.]*'   # a number; no group of its own, so \1.. count only the ( ) below

parse_codec_bench() {
  local log=$1
  fig codec_bench "normalize a VMSet (CPU)" "$(grab "$log" "s/^BM_NormalizeVMSet +$N ns +($N) ns.*/\\1/p")" ns
  fig codec_bench "parse a stored VMSet (CPU)" "$(grab "$log" "s/^BM_ParseStoredVMSet +$N ns +($N) ns.*/\\1/p")" ns
}

parse_api() {  # parse_api BENCH LOG
  local bench=$1 log=$2
  fig "$bench" "creates/s" "$(grab "$log" "s/^creates: .* = ($N) acknowledged creates\\/s.*/\\1/p")" /s
  fig "$bench" "GET p99" "$(grab "$log" "s/^GET: .* p99 ($N) ms.*/\\1/p")" ms
  fig "$bench" "LIST transfer (median)" "$(grab "$log" "s/^LIST: .* in ($N) ms median transfer.*/\\1/p")" ms
  info "$bench" "LIST with client JSON parse" "$(grab "$log" "s/^LIST: .* ($N) ms with client JSON parse.*/\\1 ms/p")"
  fig "$bench" "LIST paged by 500 (median)" "$(grab "$log" "s/^LIST paged: .* in ($N) ms median transfer.*/\\1/p")" ms
  fig "$bench" "watch p99" "$(grab "$log" "s/^watch: .* p99 ($N) ms from send.*/\\1/p")" ms
  info "$bench" "watch deliveries" \
    "$(grab "$log" "s/^watch: +([0-9]+) watchers, ([0-9]+) deliveries.*/\\2 (\\1 watchers × 200 sent)/p")"
  fig "$bench" "controller RSS" "$(grab "$log" "s/^RSS: +($N) MiB.*/\\1/p")" MiB
}
parse_api_bench() { parse_api api_bench "$1"; }
parse_api_bench_300k() { parse_api api_bench_300k "$1"; }

parse_scheduler() {  # parse_scheduler BENCH LOG
  local bench=$1 log=$2 store
  for store in sqlite memory etcd; do
    local line label
    line=$(grep -E "^$store +[0-9]+ of [0-9]+ VMs bound" "$log" 2>/dev/null | head -1 || true)
    [ "$store" = sqlite ] && label="SQLite" || label="$store"
    if [ "$store" = etcd ] && [ "$bench" != scheduler_bench_etcd ]; then continue; fi
    fig "$bench" "$label placements/s" \
      "$(sed -nE "s/.* = ($N) placements\\/s.*/\\1/p" <<<"$line")" /s
    info "$bench" "$label CPU per placement, bound" \
      "$(sed -nE "s/^[a-z]+ +([0-9]+ of [0-9]+) VMs bound.*\\(($N) us per placement\\).*/\\2 µs; \\1 bound/p" <<<"$line")"
  done
}
parse_scheduler_bench() { parse_scheduler scheduler_bench "$1"; }
parse_scheduler_bench_etcd() { parse_scheduler scheduler_bench_etcd "$1"; }

parse_heartbeat() {  # parse_heartbeat BENCH LOG
  local bench=$1 log=$2
  fig "$bench" "latency p99" "$(grab "$log" "s/^latency: .* p99 ($N) ms.*/\\1/p")" ms
  info "$bench" "latency p50 / max" "$(grab "$log" "s/^latency: +p50 ($N) ms, p99 $N ms, max ($N) ms.*/\\1 \\/ \\2 ms/p")"
  info "$bench" "beats served, errors" \
    "$(grab "$log" "s/^measured: ([0-9]+) heartbeats in ($N) s = ([0-9]+)\\/s \\(offered ([0-9]+)\\/s\\), ([0-9]+) errors.*/\\3\\/s of \\4\\/s offered, \\5 errors/p")"
  info "$bench" "controller RSS" "$(grab "$log" "s/^controller: CPU.*RSS ([0-9]+) MiB.*/\\1 MiB/p")"
  fig "$bench" "controller CPU" "$(grab "$log" "s/^controller: CPU ([0-9]+)% of one core.*/\\1/p")" %
  info "$bench" "answers listing fewer VMs than bound" \
    "$(grab "$log" "s/^answers: ([0-9]+) of ([0-9]+) checked listed fewer.*/\\1 of \\2 checked/p")"
  fig "$bench" "VMs declared Lost" "$(grab "$log" "s/^fail-over: ([0-9]+) VMs declared Lost.*/\\1/p")" VMs
  info "$bench" "client CPU" "$(grab "$log" "s/^client: CPU ([0-9]+)% of one core.*/\\1 % of a core/p")"
}
parse_heartbeat_bench() { parse_heartbeat heartbeat_bench "$1"; }
parse_heartbeat_bench_10k() { parse_heartbeat heartbeat_bench_10k "$1"; }

parse_failover() {  # parse_failover BENCH LOG
  local bench=$1 log=$2
  fig "$bench" "fail-over p99" "$(grab "$log" "s/^fail-over: .* p99 ($N) s.*/\\1/p")" s
  info "$bench" "fail-over p50 / max, trials" \
    "$(grab "$log" "s/^fail-over: p50 ($N) s, p99 $N s, max ($N) s over ([0-9]+) trials.*/\\1 \\/ \\2 s, \\3 trials/p")"
}
parse_failover_bench() { parse_failover failover_bench "$1"; }
parse_failover_bench_etcd() { parse_failover failover_bench_etcd "$1"; }

parse_takeover_bench() {
  local log=$1
  fig takeover_bench "first decision p99" "$(grab "$log" "s/^first decision: .* p99 ($N) s.*/\\1/p")" s
  info takeover_bench "first decision p50, trials" \
    "$(grab "$log" "s/^first decision: +p50 ($N) s, .* over ([0-9]+) trials.*/\\1 s, \\2 trials/p")"
  info takeover_bench "new leader p50 / p99" \
    "$(grab "$log" "s/^new leader: +p50 ($N) s, p99 ($N) s.*/\\1 \\/ \\2 s/p")"
}

parse_etcd_store_bench() {
  local log=$1 what
  fig etcd_store_bench "etcd store / raw etcd put" "$(grab "$log" "s/^etcd store \\/ raw etcd put: ($N)x.*/\\1/p")" x
  info etcd_store_bench "etcd store / raw etcd txn" "$(grab "$log" "s/^etcd store \\/ raw etcd txn: ($N)x.*/\\1×/p")"
  info etcd_store_bench "etcd store / txn, waited" "$(grab "$log" "s/^etcd store \\/ txn, waited: ($N)x.*/\\1×/p")"
  for what in "raw etcd put" "raw etcd txn" "txn, watched" "txn, waited" "etcd store" "sqlite store"; do
    fig etcd_store_bench "$what" "$(grab "$log" "s/^ +$what +($N) \\/s.*/\\1/p")" /s
  done
}

parse_rebalance_bench() {
  local log=$1
  fig rebalance_bench "plan_moves max" "$(grab "$log" "s/^plan_moves: .* max ($N) ms.*/\\1/p")" ms
  info rebalance_bench "plan_moves p50" "$(grab "$log" "s/^plan_moves: +p50 ($N) ms.*/\\1 ms/p")"
  info rebalance_bench "build_plan_input p50 / max" \
    "$(grab "$log" "s/^build_plan_input: +p50 ($N) ms, max ($N) ms.*/\\1 \\/ \\2 ms/p")"
  fig rebalance_bench "converge moves / lower bound" "$(grab "$log" "s/^converge: .* moves \\/ bound ($N) .*/\\1/p")" x
  info rebalance_bench "converge rounds, moves" "$(grab "$log" "s/^converge: .*: ([0-9]+) rounds, ([0-9]+) moves,.*/\\1 rounds, \\2 moves/p")"
}

parse_convergence_bench() {
  local log=$1
  fig convergence_bench "moves / lower bound" "$(grab "$log" "s/^rounds with moves .*: ($N)x the bound.*/\\1/p")" x
  local converged
  converged=$(grab "$log" "s/^converged: every node within 0.2 of L after ($N) s.*/after \\1 s/p")
  [ -n "$converged" ] || converged=$(grab "$log" "s/^(NOT converged within [0-9]+ s).*/\\1/p")
  info convergence_bench "converged" "$converged"
  info convergence_bench "rounds with moves, moves" \
    "$(grab "$log" "s/^rounds with moves ([0-9]+), moves ([0-9]+) \\(cancelled ([0-9]+)\\).*/\\1 rounds, \\2 moves (\\3 cancelled)/p")"
}

parse_ui_bench() {
  local log=$1
  fig ui_bench "sync at 5,000 hosts" "$(grab "$log" "s/^sync: ($N) s .*/\1/p")" s
  fig ui_bench "slowest render" \
    "$(sed -nE "s/^render .* max +($N) ms.*/\1/p" "$log" 2>/dev/null | sort -g | tail -1)" ms
  fig ui_bench "NotReady on the page p50" "$(grab "$log" "s/^NotReady: .* p50 ($N) ms.*/\1/p")" ms
  info ui_bench "NotReady max; page heap" \
    "$(grab "$log" "s/^NotReady: .* max ($N) ms.*/\1 ms/p"); $(grab "$log" "s/^page heap: ($N) MiB.*/\1 MiB/p")"
}

parse_sim_cluster_bench() {
  local log=$1
  fig sim_cluster_bench "placements/s with 300k placed" "$(grab "$log" "s/^placement: the scheduler's passes .* = ($N) VMs\/s.*/\\1/p")" /s
  info sim_cluster_bench "placement end to end (creates, cache, every loop)" "$(grab "$log" "s/^placement: .* = ($N) VMs\/s end to end.*/\\1 VMs\/s/p")"
  info sim_cluster_bench "the VMSet loop's creates" "$(grab "$log" "s/^placement: .* the VMSet loop's creates ($N) VMs\/s.*/\\1 VMs\/s/p")"
  fig sim_cluster_bench "rebalance round" "$(grab "$log" "s/^rebalance: .* the rounds after it: p50 $N ms, max ($N) ms.*/\\1/p")" ms
  info sim_cluster_bench "rebalance: rounds, moves; the first round" \
    "$(grab "$log" "s/^rebalance: ([0-9]+) rounds started moves in 10 s \\(([0-9]+) moves\\); the first \\(every VM read\\) ($N) ms.*/\\1 rounds, \\2 moves; first \\3 ms/p")"
  fig sim_cluster_bench "fail-over p99 (simulated)" "$(grab "$log" "s/^fail-over: .* p99 ($N) s, max.*/\\1/p")" s
  info sim_cluster_bench "place all: simulated, wall" \
    "$(grab "$log" "s/^place: ([0-9]+) of [0-9]+ VMs running after ($N) s simulated, ($N) s wall.*/\\1 VMs: \\2 s, \\3 s/p")"
  info sim_cluster_bench "peak RSS" "$(grab "$log" "s/^peak RSS: ([0-9]+) MiB.*/\\1 MiB/p")"
  info sim_cluster_bench "rebalance rounds after the first, p50" "$(grab "$log" "s/^rebalance: .* the rounds after it: p50 ($N) ms.*/\\1 ms/p")"
  info sim_cluster_bench "placement, controller time by loop" "$(grab "$log" "s/^placement: by loop: ([^;]*);.*/\\1/p")"
  info sim_cluster_bench "placement, queued Events written after" "$(grab "$log" "s/^placement: by loop: .* written ($N) ms later.*/\\1 ms/p")"
}

parse_false_failover_bench() {
  local log=$1 result
  result=$(grep -E '^result after [0-9]+ s saturated:' "$log" 2>/dev/null | head -1 || true)
  fig false_failover_bench "nodes declared NotReady" "$(sed -nE 's/.*: ([0-9]+) nodes declared NotReady.*/\1/p' <<<"$result")" nodes
  fig false_failover_bench "VMs moved" "$(sed -nE 's/.* ([0-9]+) VMs moved.*/\1/p' <<<"$result")" VMs
  info false_failover_bench "nodes seen Unreachable" "$(sed -nE 's/.* ([0-9]+) seen Unreachable.*/\1/p' <<<"$result")"
}

parse_slow_clients_bench() {
  local log=$1 phase_a phase_b
  # The phases' lines follow their "phase A"/"phase B" headers.
  phase_a=$(sed -n '/^phase A/,/^$/p' "$log" 2>/dev/null || true)
  phase_b=$(sed -n '/^phase B/,/^$/p' "$log" 2>/dev/null || true)
  fig slow_clients_bench "under attack: admin GET p99" \
    "$(sed -nE "s/^ +admin GET: .* p99 ($N) ms.*/\\1/p" <<<"$phase_b" | head -1)" ms
  info slow_clients_bench "under attack: admin GETs, errors" \
    "$(sed -nE 's/^ +admin GET: +([0-9]+) requests, ([0-9]+) errors.*/\1 requests, \2 errors/p' <<<"$phase_b" | head -1)"
  info slow_clients_bench "under attack: heartbeats ok, errors, p99" \
    "$(sed -nE "s/^ +heartbeats: ([0-9]+) ok, ([0-9]+) errors .* p99 ($N) ms.*/\\1 ok, \\2 errors, p99 \\3 ms/p" <<<"$phase_b" | head -1)"
  info slow_clients_bench "no attack: admin GET p99" \
    "$(sed -nE "s/^ +admin GET: .* p99 ($N) ms.*/\\1 ms/p" <<<"$phase_a" | head -1)"
}

parse_lb_bench() {
  local log=$1 mode line
  for mode in http tcp; do
    line=$(grep -E "^ +corral/haproxy \\($mode\\):" "$log" 2>/dev/null | head -1 || true)
    fig lb_bench "$mode: corral/haproxy req/s" "$(sed -nE "s/.* req\\/s ($N)x.*/\\1/p" <<<"$line")" x
    fig lb_bench "$mode: corral/haproxy p99" "$(sed -nE "s/.* p99 ($N)x.*/\\1/p" <<<"$line")" x
    info lb_bench "$mode: corral/haproxy req per proxy cpu-s" "$(sed -nE "s/.* req per proxy cpu-s ($N)x.*/\\1×/p" <<<"$line")"
  done
  local before after
  before=$(grab "$log" "s/^ +load average before the run: ($N) .*/\\1/p")
  after=$(grab "$log" "s/^load average after the run: ($N).*/\\1/p")
  info lb_bench "load average before / after" "${before:+$before / ${after:-?}}"
}

parse_lb_slow_body_bench() {
  local log=$1
  fig lb_slow_body_bench "VmRSS peak" "$(grab "$log" "s/^ +VmRSS peak: ($N) MiB.*/\\1/p")" MiB
  info lb_slow_body_bench "per client" "$(grab "$log" "s/^ +VmRSS peak: .*, ($N) KiB per client\\).*/\\1 KiB/p")"
}

parse_lb_failover_bench() {
  local log=$1
  fig lb_failover_bench "failed after detection" "$(grab "$log" "s/^failed after detection: +([0-9]+) of.*/\\1/p")" requests
  info lb_failover_bench "failed before detection" "$(grab "$log" "s/^failed before detection: (.*)/\\1/p")"
  info lb_failover_bench "detection p50 / max" \
    "$(grab "$log" "s/^detection .*: p50 ($N) s, max ($N) s over ([0-9]+) trials.*/\\1 \\/ \\2 s, \\3 trials/p")"
}

parse_soak() {
  local log=$1
  fig soak "invariant violations" "$(grab "$log" "s/^invariant violations: ([0-9]+) .*/\\1/p")" violations
  fig soak "max placement latency" "$(grab "$log" "s/^max placement latency: ($N) s.*/\\1/p")" s
  info soak "placements checked" "$(grab "$log" "s/^placements checked: ([0-9]+) VMs, ([0-9]+) sets late.*/\\1 VMs, \\2 sets late/p")"
  info soak "controller restarts, agent kills" \
    "$(grab "$log" "s/^controller restarts: ([0-9]+).*/\\1/p") restarts, $(grab "$log" "s/^agent kills: ([0-9]+).*/\\1/p") kills"
  info soak "acknowledged objects checked" "$(grab "$log" "s/^acknowledged objects checked: ([0-9]+).*/\\1/p")"
  info soak "writes" "$(grab "$log" "s/^writes: (.*)/\\1/p")"
  # "growth controller RSS: +1.2 % (30.1 -> 30.5 MiB; target < 5 %)"; $1 a regex
  soak_growth() { grab "$log" "s/^growth $1: \\+?(-?$N) %.*/\\1/p"; }
  fig soak "controller RSS growth (life ends)" "$(soak_growth "controller RSS at life ends")" %
  fig soak "controller fds growth (life ends)" "$(soak_growth "controller open fds at life ends")" %
  fig soak "controller threads growth (life ends)" "$(soak_growth "controller threads at life ends")" %
  fig soak "database size growth (life ends)" "$(soak_growth "database size \\(file \\+ WAL\\) at life ends")" %
  # The median windows (10 % after warm-up vs the last 10 %) compare two
  # phases of a controller life (its watch history refills after each restart).
  local median
  for median in "controller RSS" "controller open fds" "database size \\(file \\+ WAL\\)"; do
    local g
    g=$(soak_growth "$median")
    info soak "${median//\\/} growth (median windows)" "${g:+$g %}"
  done
  local agent
  agent=$(soak_growth "sim agent RSS")
  info soak "sim agent RSS growth" "${agent:+$agent %}"
}

# --- prerequisites -------------------------------------------------------------
have_program() {  # on PATH, or in the sbin directories Debian puts nginx and haproxy in
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/local/sbin/$1" ] || [ -x "/sbin/$1" ]
}
# missing_for NEEDS: why the benchmark cannot run here, or nothing.
missing_for() {
  local need tool
  for need in ${1//,/ }; do
    case "$need" in
      etcd) [ -x /usr/bin/etcd ] || { echo "etcd not installed (apt-get install etcd-server)"; return; } ;;
      chromium) have_program chromium || { echo "chromium not installed (apt-get install chromium)"; return; } ;;
      lb-tools)
        for tool in nginx haproxy wrk taskset; do
          have_program "$tool" || { echo "$tool not installed (bash bench/install-bench-deps.sh)"; return; }
        done ;;
      fds=*)
        local hard
        hard=$(ulimit -Hn)
        if [ "$hard" != unlimited ] && [ "$hard" -lt "${need#fds=}" ]; then
          echo "needs ${need#fds=} open files, the hard limit is $hard"; return
        fi ;;
    esac
  done
}

# --- run -------------------------------------------------------------------------
running_pid=""
on_signal() {
  # timeout(1) passes the signal to the benchmark's whole process group.
  if [ -n "$running_pid" ]; then
    kill -TERM "$running_pid" 2>/dev/null || true
    wait "$running_pid" 2>/dev/null || true
  fi
  echo >&2
  echo "run-all: interrupted; nothing recorded" >&2
  exit 130
}
trap on_signal INT TERM HUP

index=0
for name in "${selected[@]}"; do
  index=$((index + 1))
  bin="$build_dir/bench/${job_bin[$name]}"
  if [ "$quick" = 1 ]; then
    args=${job_quick[$name]} limit=${job_quick_timeout[$name]}
  else
    args=${job_args[$name]} limit=${job_timeout[$name]}
  fi
  read -r -a argv <<<"$args"
  current_log="$log_dir/$name.log"
  if [ -n "$from_logs" ]; then
    if [ ! -f "$current_log" ]; then
      echo "run-all: [$index/${#selected[@]}] $name: no log, left out"
      continue
    fi
    echo "run-all: [$index/${#selected[@]}] $name: from $(rel "$current_log")"
    add_row "$name" "run" "—" "from its log (exit status not recorded)" "—"
    "parse_$name" "$current_log"
    continue
  fi
  printf 'run-all: [%d/%d] %s %s (time-out %d s) ... ' "$index" "${#selected[@]}" "$name" "$args" "$limit"
  why=$(missing_for "${job_needs[$name]}")
  if [ -n "$why" ]; then
    echo "skipped: $why"
    add_row "$name" "run" "—" "skipped: $why" "—"
    continue
  fi
  if [ ! -x "$bin" ]; then
    echo "FAILED: $(rel "$bin") not built"
    add_row "$name" "run" "—" "FAILED: $(rel "$bin") not built" "NO"
    failed=$((failed + 1))
    continue
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  {
    echo "# run-all $commit $date_text: ${job_bin[$name]} $args (time-out $limit s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
  } >"$current_log"
  t0=$(date +%s)
  # Its own process group (timeout's), so that a time-out stops every child
  # too; stdin closed; stdout and stderr to the log.
  timeout --kill-after=30 "$limit" "$bin" "${argv[@]}" >>"$current_log" 2>&1 </dev/null &
  running_pid=$!
  rc=0
  wait "$running_pid" || rc=$?
  running_pid=""
  secs=$(($(date +%s) - t0))
  if [ "$rc" = 0 ]; then
    echo "ok, $secs s"
    add_row "$name" "run" "—" "ok, $secs s (load $load at start)" "—"
  else
    # 124: timeout's TERM ended it; 137 after the limit: its KILL, 30 s later.
    if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ "$secs" -ge "$limit" ]; }; then
      status="FAILED (timed out after $limit s, exit $rc), see ${current_log##*/}"
    else
      status="FAILED (exit $rc), see ${current_log##*/}"
    fi
    echo "$status"
    add_row "$name" "run" "—" "$status" "NO"
    failed=$((failed + 1))
  fi
  "parse_$name" "$current_log"
  [ "$quick" = 1 ] || [ "$index" = "${#selected[@]}" ] || sleep 2   # let ports and CPU settle
done
trap - INT TERM HUP

# --- the report --------------------------------------------------------------------
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
minutes=$(( ($(date -u +%s) - started_epoch + 59) / 60 ))
summary="$log_dir/summary.md"
{
  echo "## run-all $date_text $commit"
  echo
  echo "\`$command_line\`$([ "$quick" = 1 ] && echo " (quick: tiny sizes, the figures mean nothing)")"
  echo
  echo "- commit: $commit ($branch)"
  echo "- machine: $machine"
  echo "- load average: $load_start at the start, $load_end at the end; $minutes min in all"
  echo "- build: $build_text"
  echo "- logs: $(rel "$log_dir")/ (not kept in git)"
  [ -z "$busy" ] || echo "- **WARNING**: $busy"
  echo
  echo "| benchmark | figure | target | measured | met? |"
  echo "| --- | --- | --- | --- | --- |"
  for row in "${rows[@]}"; do
    IFS=$'\t' read -r r_bench r_fig r_target r_measured r_met <<<"$row"
    echo "| $r_bench | $r_fig | $r_target | $r_measured | $r_met |"
  done
  echo
  echo "$failed benchmark(s) failed, $not_met target(s) not met, $unparsed targeted figure(s) unparsed."
} >"$summary"
echo
cat "$summary"
if [ "$append" = 1 ]; then
  { echo; cat "$summary"; } >>"$root/bench/RESULTS.md"
  echo
  echo "run-all: appended to bench/RESULTS.md"
else
  echo
  echo "run-all: not recorded ($([ "$quick" = 1 ] && echo "--quick" || echo "--no-append")); the table is in $(rel "$summary")"
fi
[ "$failed" = 0 ] && [ "$not_met" = 0 ] && [ "$unparsed" = 0 ]
