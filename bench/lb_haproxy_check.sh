#!/usr/bin/env bash
# A standalone check of lb_bench's reference setup, without the C++ build and
# without corral-balancer: the same shape of nginx backends (one nginx, one
# worker, one port per backend, `return 200 "ok\n"`, X-Backend header) and
# the same HAProxy configs (nbthread, roundrobin, http-keep-alive or tcp,
# health checks), validated (`nginx -t`, `haproxy -c`), started on loopback
# ports, then checked: every backend answers through HAProxy, and a short wrk
# run gives a Requests/sec and a 99% line with no errors. Stops every child
# it started on exit.
#
#   bash bench/lb_haproxy_check.sh [BACKENDS=3] [THREADS=1]
#
# Keep in step with nginx_config() and haproxy_config() in bench/lb_bench.cpp.
set -uo pipefail
BACKENDS=${1:-3}
THREADS=${2:-1}
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
for tool in nginx haproxy wrk curl python3; do
  command -v "$tool" >/dev/null || { echo "lb_haproxy_check: $tool not found: bash bench/install-bench-deps.sh" >&2; exit 2; }
done

DIR=$(mktemp -d /tmp/lb-haproxy-check-XXXXXX)
chmod 755 "$DIR"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  done
  rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0 failed=0
check() {  # check NAME COMMAND...
  if "${@:2}"; then passed=$((passed + 1)); echo "ok   $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}
wait_200() {  # wait_200 PORT
  for _ in $(seq 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

read -r -a PORTS <<<"$(free_ports "$BACKENDS")"
mkdir -p "$DIR/tmp"
{
  echo "daemon off; master_process on; worker_processes 1;"
  echo "pid $DIR/nginx.pid; error_log $DIR/nginx-error.log warn; worker_rlimit_nofile 65536;"
  echo "events { worker_connections 16384; multi_accept on; }"
  echo "http { access_log off; keepalive_timeout 65s; keepalive_requests 10000000;"
  echo "  sendfile on; tcp_nopush on; tcp_nodelay on; default_type text/plain;"
  for t in client_body proxy fastcgi uwsgi scgi; do echo "  ${t}_temp_path $DIR/tmp/$t;"; done
  for i in "${!PORTS[@]}"; do
    echo "  server { listen 127.0.0.1:${PORTS[$i]} reuseport backlog=4096; add_header X-Backend b$i;"
    echo "    location / { return 200 \"ok\\n\"; } }"
  done
  echo "}"
} >"$DIR/nginx.conf"
check "nginx -t accepts the backends' config" nginx -t -q -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log"
nginx -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" >"$DIR/nginx.out" 2>&1 &
PIDS+=($!)
for i in "${!PORTS[@]}"; do check "backend b$i answers 200 on ${PORTS[$i]}" wait_200 "${PORTS[$i]}"; done

maxconn=$(( ($(ulimit -n) - 200) / 2 )); [ "$maxconn" -gt 10000 ] && maxconn=10000
for mode in http tcp; do
  read -r LISTEN <<<"$(free_ports 1)"
  cfg="$DIR/haproxy-$mode.cfg"
  {
    printf 'global\n  nbthread %s\n  maxconn %s\n\ndefaults\n  mode %s\n' "$THREADS" "$maxconn" "$mode"
    [ "$mode" = http ] && printf '  option http-keep-alive\n'
    printf '  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  maxconn %s\n\n' "$maxconn"
    printf 'frontend fe\n  bind 127.0.0.1:%s\n  default_backend be\n\nbackend be\n  balance roundrobin\n' "$LISTEN"
    [ "$mode" = http ] && printf '  option httpchk GET /\n'
    for i in "${!PORTS[@]}"; do printf '  server b%s 127.0.0.1:%s check inter 2s rise 2 fall 2\n' "$i" "${PORTS[$i]}"; done
  } >"$cfg"
  check "haproxy -c accepts the $mode config" haproxy -c -q -f "$cfg"
  haproxy -db -f "$cfg" >"$DIR/haproxy-$mode.out" 2>&1 &
  hp=$!
  PIDS+=($hp)
  check "haproxy ($mode) answers 200 on $LISTEN" wait_200 "$LISTEN"
  seen=$(for _ in $(seq $((BACKENDS * 2))); do
           curl -s -D - -o /dev/null "http://127.0.0.1:$LISTEN/" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-backend"{print $2}'
         done | sort -u | wc -l)
  check "haproxy ($mode) round robin reaches all $BACKENDS backends (saw $seen)" test "$seen" -eq "$BACKENDS"
  out=$(wrk -t1 -c10 -d2s --latency "http://127.0.0.1:$LISTEN/" 2>&1)
  rps=$(awk '/Requests\/sec:/{print $2}' <<<"$out")
  p99=$(awk '$1=="99%"{print $2}' <<<"$out")
  echo "     wrk -t1 -c10 -d2s through haproxy ($mode): $rps req/s, p99 $p99"
  check "wrk through haproxy ($mode) reports Requests/sec and a 99% line" test -n "$rps" -a -n "$p99"
  check "wrk through haproxy ($mode): no non-2xx, no socket errors" \
    bash -c '! grep -qE "Non-2xx|Socket errors" <<<"$1"' _ "$out"
  kill -TERM "$hp"; wait "$hp" 2>/dev/null
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
