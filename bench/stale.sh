#!/usr/bin/env bash
# Lists the sections of bench/RESULTS.md that are older than the code they
# measure (issue 17: "a RESULTS.md entry older than the code it measures is
# marked stale").
#
#   bench/stale.sh [--latest] [--verbose] [--results FILE]
#
#   (default)   every section (## or ###) that names a benchmark
#   --latest    per benchmark, only its newest measurement: are today's figures current?
#   --verbose   also print the sections that are current, and those with no commit
#
# A section's recorded commit: for a `## run-all <date> <commit>` section (what
# bench/run-all.sh appends), the commit in its heading (a "-dirty" suffix is
# dropped: the measured tree was that commit plus uncommitted changes); for a
# section written by hand, the newest of the commits it names (`4edfe15`, "main
# at 04ddfac", ...: hex words git resolves to a commit). The benchmarks it
# measures are the bench/*_bench names it mentions. It is stale when a commit
# after the recorded one (recorded..HEAD) changed a path on the hot path of one
# of those benchmarks (the table below) or the benchmark's own source:
#
#   STALE: <section> (recorded at X; <path> changed since in Y, N commits on NAME's paths)
#
# naming the first benchmark of the section found stale; a run-all section gets
# one line per benchmark of its table. Hand-written sections from before
# run-all are nearly all stale by now: that is history, not an alarm; --latest
# is the question to ask before resolving an issue. Exit status: 1 when
# something printed is stale, else 0.
set -euo pipefail

# The hot paths each benchmark measures: the product code it drives, as git
# pathspecs. base/ is under every path; client/ where real agents or a real
# balancer talk to the controller; agent/ where real agents run VMs. The
# benchmarks that run on SQLite only do not measure the etcd store.
not_etcd=":(exclude)controller/store/etcd*"
hot_paths() {
  case "$1" in
    codec_bench)                    echo "api base" ;;
    api_bench | heartbeat_bench | slow_clients_bench)
                                    echo "controller api base $not_etcd" ;;
    scheduler_bench)                echo "controller api base" ;;   # --etcd 1 runs it on etcd too
    etcd_store_bench)               echo "controller/store api base" ;;
    rebalance_bench)                echo "controller/rebalance controller/scheduler controller/reconcile api base" ;;
    failover_bench | takeover_bench) echo "controller agent client api base" ;;  # failover: --store etcd too
    false_failover_bench | convergence_bench)
                                    echo "controller agent client api base $not_etcd" ;;
    lb_bench | lb_slow_body_bench)  echo "balancer base" ;;
    lb_failover_bench)              echo "balancer controller agent client api base $not_etcd" ;;
    *)                              echo "controller agent balancer client api base" ;;  # a new benchmark
  esac
}

latest=0 verbose=0
root="$(cd "$(dirname "$0")/.." && pwd)"
results="$root/bench/RESULTS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --latest) latest=1 ;;
    --verbose | -v) verbose=1 ;;
    --results) [ $# -ge 2 ] || { echo "stale.sh: --results needs a file" >&2; exit 2; }; results="$(realpath "$2")"; shift ;;
    -h | --help) sed -n '/^#   bench\/stale.sh/,/^#   --verbose/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    *) echo "stale.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
cd "$root"

# The benchmarks that exist: bench/NAME.cpp.
declare -A known=()
for f in bench/*_bench.cpp; do f=${f#bench/}; known[${f%.cpp}]=1; done

# One record per section (fields split by the unit separator, \037, which no
# text contains): heading line number, heading, the hex words and the
# benchmark names in it (a run-all job name such as failover_bench_etcd is
# checked as its program, failover_bench).
sections=$(awk '
  function flush() {
    if (title != "") printf "%d\037%s\037%s\037%s\n", line, title, hexes, benches
  }
  /^##+ / { flush(); line = NR; title = $0; hexes = ""; benches = "" }
  {
    if (title == "") next
    s = $0
    while (match(s, /[0-9A-Za-z_]+/)) {
      w = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
      if (w ~ /^[0-9a-f]+(-dirty)?$/ && w ~ /[a-f]/ && w ~ /[0-9]/ && length(w) >= 7) hexes = hexes " " w
      else if (w ~ /_bench(_etcd)?$/) benches = benches " " w
    }
  }
  END { flush() }' "$results")

# commit_time HEX: committer time of the commit HEX names, or nothing.
commit_time() { git log -1 --format=%ct "$1^{commit}" -- 2>/dev/null || true; }

# check LABEL COMMIT BENCHES...: prints STALE (naming the first of BENCHES
# whose hot paths or own source changed after COMMIT) or, with --verbose,
# current; returns 1 when stale.
check() {
  local label=$1 recorded=$2; shift 2
  local bench since file count
  local -a paths
  for bench in "$@"; do
    read -r -a paths <<<"$(hot_paths "${bench%_etcd}")"
    paths+=("bench/${bench%_etcd}.cpp" ":(exclude,glob)**/*.md")
    since=$(git log -1 --format=%h "$recorded..HEAD" -- "${paths[@]}")
    [ -n "$since" ] || continue
    file=$(git show --format= --name-only "$since" -- "${paths[@]}" | head -1)
    count=$(git rev-list --count "$recorded..HEAD" -- "${paths[@]}")
    echo "STALE: $label (recorded at $recorded; $file changed since in $since, $count commit$([ "$count" = 1 ] || echo s) on ${bench}'s paths)"
    return 1
  done
  [ "$verbose" = 0 ] || echo "current: $label (recorded at $recorded)"
  return 0
}

stale=0
declare -A newest_time=() newest_label=() newest_commit=()
while IFS=$'\037' read -r line title hexes benches; do   # \037: fields may be empty
  # The benchmarks named, once each, that exist.
  declare -A seen=()
  names=()
  for b in $benches; do
    if [ -n "${known[${b%_etcd}]+set}" ] && [ -z "${seen[$b]+set}" ]; then seen[$b]=1; names+=("$b"); fi
  done
  unset seen
  [ ${#names[@]} -gt 0 ] || continue
  heading="${title#"${title%%[!#]*}"}"
  heading="${heading# }"
  label="${results##*/}:$line \"$heading\""

  # The recorded commit.
  recorded="" best=0
  if [[ "$title" =~ ^##\ run-all\ .*\ ([0-9a-f]{7,40})(-dirty)?$ ]]; then
    recorded=${BASH_REMATCH[1]}
    [ -n "$(commit_time "$recorded")" ] || recorded=""
  else
    for h in $hexes; do
      h=${h%-dirty}
      t=$(commit_time "$h")
      if [ -n "$t" ] && [ "$t" -gt "$best" ]; then best=$t; recorded=$(git rev-parse --short "$h^{commit}"); fi
    done
  fi
  if [ -z "$recorded" ]; then
    [ "$verbose" = 0 ] || echo "UNDATED: $label (no commit git knows; measures ${names[*]})"
    continue
  fi
  t=$(commit_time "$recorded")

  if [ "$latest" = 1 ]; then
    for b in "${names[@]}"; do   # a later section wins a tie (same commit)
      if [ -z "${newest_time[$b]+set}" ] || [ "$t" -ge "${newest_time[$b]}" ]; then
        newest_time[$b]=$t newest_commit[$b]=$recorded newest_label[$b]="$label"
      fi
    done
  elif [[ "$title" =~ ^##\ run-all ]]; then
    for b in "${names[@]}"; do check "$label › $b" "$recorded" "$b" || stale=1; done
  else
    check "$label" "$recorded" "${names[@]}" || stale=1
  fi
done <<<"$sections"

if [ "$latest" = 1 ]; then
  for b in $(printf '%s\n' "${!newest_time[@]}" | sort); do
    check "$b: ${newest_label[$b]}" "${newest_commit[$b]}" "$b" || stale=1
  done
fi
exit "$stale"
