#!/usr/bin/env bash
# Installs what bench/lb_bench needs beyond the build dependencies
# (scripts/install-deps.sh): nginx (the backends), HAProxy 2.6 (the
# reference proxy) and wrk (the load), from Debian 12's packages, and nothing
# that is already there. Safe to run again.
#
# lb_bench starts its own nginx and haproxy with their own configs in a temp
# dir; it does not use the system services these packages may start (on a
# machine with systemd: nginx on port 80, haproxy with an empty config).
set -euo pipefail

PACKAGES=(nginx haproxy wrk)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "corral: all benchmark dependencies are installed ($(PATH="$PATH:/usr/sbin" haproxy -v | head -1))"
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
PATH="$PATH:/usr/sbin" haproxy -v | head -1
