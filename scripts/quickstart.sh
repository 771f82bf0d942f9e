#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, starts a local
# Corral (the controller on its embedded SQLite store in .corral/, on loopback),
# applies manifests/examples/ and prints what `corralctl get pools,vmsets,vms`
# shows. Running it again restarts the cluster on the same data.
#   scripts/quickstart.sh          install, build, (re)start, apply, show
#   scripts/quickstart.sh stop     stop the local cluster
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
state="$root/.corral"
port="${CORRAL_PORT:-7443}"
server="http://127.0.0.1:$port"

stop_cluster() {
  local stopped=0
  for pidfile in "$state"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -KILL "$pid" 2>/dev/null || true
      stopped=1
    fi
    rm -f "$pidfile"
  done
  [ "$stopped" = 1 ] && echo "corral: local cluster stopped" || true
}

if [ "${1:-}" = "stop" ]; then
  stop_cluster
  exit 0
fi

bash scripts/install-deps.sh
bash scripts/build.sh release
stop_cluster
mkdir -p "$state/data" "$state/logs"

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

export CORRAL_SERVER="$server"
ctl="$root/build/cli/corralctl"
echo
echo "\$ corralctl apply -f manifests/examples/"
"$ctl" apply -f manifests/examples/
echo
echo "\$ corralctl get pools,vmsets,vms"
"$ctl" get pools,vmsets,vms
cat <<MSG

Corral is running: controller at $server (data in .corral/data, logs in .corral/logs).
Reach it with:
  export CORRAL_SERVER=$server PATH="$root/build/cli:\$PATH"
  corralctl get pools,vmsets,vms
  corralctl describe vmset frontend
Stop it with:
  bash scripts/quickstart.sh stop
MSG
