#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts a local
# Corral — the controller on its embedded SQLite store in .corral/ and three
# agents (node-1..3, process driver, zones a/b/c), all on loopback — applies
# manifests/examples/, waits for the VMs to run and prints nodes, pools,
# VMSets and VMs, starts corral-balancer for balancer/frontend on
# 127.0.0.1:8080 and curls through it. Running it again restarts the cluster
# on the same data.
#   scripts/quickstart.sh          install, build, (re)start, apply, show
#   scripts/quickstart.sh stop     stop the local cluster, agents restarted by hand included
# CORRAL_STATE_DIR moves .corral/ elsewhere (the tests' stop check uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
state="${CORRAL_STATE_DIR:-$root/.corral}"
port="${CORRAL_PORT:-7443}"
server="http://127.0.0.1:$port"

nodes=(node-1 node-2 node-3)
zones=(a b c)

# The VM processes the agents started (an agent that stops leaves its VMs
# running, by design): their pids are in each agent's state file.
vm_pids() {
  for f in "$state"/agents/*/agent-state.json; do
    [ -s "$f" ] || continue
    python3 -c 'import json,sys
for vm in json.load(open(sys.argv[1])).get("vms", {}).values():
    if vm.get("pid"): print(vm["pid"])' "$f" 2>/dev/null || true
  done
}

# Every corral daemon whose --data-dir or --ready-file lies in $state, however
# it was started: the pid files only know what this script started, not an
# agent restarted by hand (with a relative --data-dir, say), so /proc is read.
state_daemon_pids() {
  python3 - "$state" <<'PY' 2>/dev/null || true
import os, sys
state = os.path.realpath(sys.argv[1])
daemons = {"corral-agent", "corral-controller", "corral-balancer"}
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
        cwd = os.readlink("/proc/%s/cwd" % pid)
    except OSError:
        continue
    if not argv or os.path.basename(argv[0]) not in daemons:
        continue
    paths = []
    for i, a in enumerate(argv):
        for flag in ("--data-dir", "--ready-file"):
            if a == flag and i + 1 < len(argv):
                paths.append(argv[i + 1])
            elif a.startswith(flag + "="):
                paths.append(a[len(flag) + 1:])
    for p in paths:
        p = os.path.realpath(os.path.join(cwd, p))
        if p == state or p.startswith(state + os.sep):
            print(pid)
            break
PY
}

stop_cluster() {
  local stopped=0
  local vms pids=""
  vms="$(vm_pids)"
  for pidfile in "$state"/*.pid; do
    [ -e "$pidfile" ] || continue
    pids="$pids $(cat "$pidfile")"
    rm -f "$pidfile"
  done
  pids="$pids $(state_daemon_pids)"
  for pid in $(printf '%s\n' $pids | sort -un); do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      stopped=1
    fi
  done
  # Each VM runs in its own process group, led by the recorded pid.
  for pid in $vms; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; done
  [ "$stopped" = 1 ] && echo "corral: local cluster stopped" || true
}

if [ "${1:-}" = "stop" ]; then
  stop_cluster
  exit 0
fi

bash scripts/install-deps.sh run
# Only the four programs, not the tests (scripts/test.sh builds those).
bash scripts/build.sh release binaries
stop_cluster
mkdir -p "$state/data" "$state/logs"
chmod 700 "$state/data"  # the controller refuses a data directory others may read

rm -f "$state/controller.url"
# The quick start runs without tokens, which the controller allows only on loopback.
nohup build/controller/corral-controller --listen "127.0.0.1:$port" --data-dir "$state/data" \
  --ready-file "$state/controller.url" >"$state/logs/controller.log" 2>&1 &
echo $! >"$state/controller.pid"
for _ in $(seq 1 100); do [ -s "$state/controller.url" ] && break; sleep 0.1; done
if [ ! -s "$state/controller.url" ]; then
  echo "corral: the controller did not start; its log says:" >&2
  tail -n 20 "$state/logs/controller.log" >&2
  exit 1
fi

for i in "${!nodes[@]}"; do
  node="${nodes[$i]}"
  mkdir -p "$state/agents/$node"
  rm -f "$state/agents/$node/agent.url"
  nohup build/agent/corral-agent --server "$server" --node "$node" --driver process \
    --data-dir "$state/agents/$node" --zone "${zones[$i]}" --listen 127.0.0.1:0 \
    --ready-file "$state/agents/$node/agent.url" >"$state/logs/$node.log" 2>&1 &
  echo $! >"$state/$node.pid"
done
for node in "${nodes[@]}"; do
  for _ in $(seq 1 100); do [ -s "$state/agents/$node/agent.url" ] && break; sleep 0.1; done
  if [ ! -s "$state/agents/$node/agent.url" ]; then
    echo "corral: the agent of $node did not start; its log says:" >&2
    tail -n 20 "$state/logs/$node.log" >&2
    exit 1
  fi
done

export CORRAL_SERVER="$server"
ctl="$root/build/cli/corralctl"
# Wait (at most 15 s) until every node has registered and is Ready, so that
# nothing is applied against nodes the scheduler cannot use yet (it would
# say so in FailedScheduling warnings).
for _ in $(seq 1 30); do
  ready="$("$ctl" get nodes -o json 2>/dev/null | python3 -c 'import json,sys
items=json.load(sys.stdin).get("items",[])
print(sum(1 for i in items if i.get("status",{}).get("phase")=="Ready"))')" || ready=0
  [ "$ready" -ge "${#nodes[@]}" ] 2>/dev/null && break
  sleep 0.5
done
echo
echo "\$ corralctl apply -f manifests/examples/"
"$ctl" apply -f manifests/examples/
# Wait (at most 30 s) until every VM of the examples runs and every pool's
# status (recomputed every second) counts its Ready nodes.
for _ in $(seq 1 60); do
  phases="$("$ctl" get vms -o json | python3 -c 'import json,sys
items=json.load(sys.stdin).get("items",[])
print(" ".join(i.get("status",{}).get("phase","Pending") for i in items))')"
  pools="$("$ctl" get pools -o json | python3 -c 'import json,sys
items=json.load(sys.stdin).get("items",[])
print(all(i.get("status",{}).get("readyNodes",0) > 0 for i in items))')"
  [ -n "$phases" ] && ! echo "$phases" | grep -qv Running && [ "$pools" = True ] && break
  sleep 0.5
done

# The data plane for balancer/frontend: it follows the Balancer through the
# API and proxies 127.0.0.1:8080 to the VMs the controller publishes.
rm -f "$state/balancer.json"
nohup build/balancer/corral-balancer --server "$server" --balancer frontend \
  --admin 127.0.0.1:9901 --ready-file "$state/balancer.json" >"$state/logs/balancer.log" 2>&1 &
echo $! >"$state/balancer.pid"
for _ in $(seq 1 100); do [ -s "$state/balancer.json" ] && break; sleep 0.1; done
# Wait (at most 15 s) until the data plane reports its endpoints healthy.
for _ in $(seq 1 30); do
  healthy="$("$ctl" get lb frontend -o json | python3 -c 'import json,sys
eps=json.load(sys.stdin).get("status",{}).get("endpoints",[])
print(sum(1 for e in eps if e.get("health")=="Healthy"))')" || healthy=0
  [ "$healthy" -ge 3 ] 2>/dev/null && break
  sleep 0.5
done

echo
echo "\$ corralctl get nodes -o wide"
"$ctl" get nodes -o wide
echo
echo "\$ corralctl get pools,vmsets,vms,lb"
"$ctl" get pools,vmsets,vms,lb
echo
echo "\$ for i in 1 2 3; do curl -s http://127.0.0.1:8080/; done"
for i in 1 2 3; do curl -s --max-time 5 http://127.0.0.1:8080/ || echo "(no answer: see .corral/logs/balancer.log)"; done
cat <<MSG

Corral is running: controller at $server and agents node-1..3 (data in
.corral/, logs in .corral/logs). Each VM of vmset/frontend is a python3 web
server on a loopback port: see ADDRESS in 'corralctl get vms'.
The dashboard: $server/ui/ (no sign-in: this local controller has no tokens).
Reach it with:
  export CORRAL_SERVER=$server PATH="$root/build/cli:\$PATH"
  corralctl get pools,vmsets,vms
  corralctl describe vmset frontend
Requests to the Balancer (corral-balancer on 127.0.0.1:8080, admin and
/metrics on 127.0.0.1:9901) go to the VMs the controller publishes:
  curl http://127.0.0.1:8080/
  corralctl describe lb frontend
Watch a fail-over: kill -9 one agent and its VMs, then watch them move:
  corralctl get vms -o wide            # PID: each VM's process
  kill -9 \$(cat .corral/node-1.pid) PID-OF-ITS-VM
  corralctl get vms -w
Stop it with:
  bash scripts/quickstart.sh stop
MSG
