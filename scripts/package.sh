#!/usr/bin/env bash
# Builds Corral's Debian packages into dist/: corral-controller, corral-agent,
# corral-balancer and corralctl, each NAME_VERSION-1_ARCH.deb (what they hold:
# packaging/README.md; how to install them: README.md, "Install from packages").
#   scripts/package.sh
# The four programs are built in build-pkg/ (the release flavour, without the
# tests: scripts/build.sh release binaries; with the compiler cache most of it
# comes from an earlier build), then cpack makes one package per program from
# that tree's install rules (cmake/packaging.cmake). CORRAL_BUILD_DIR builds
# and packages another directory, CORRAL_JOBS as for scripts/build.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${CORRAL_BUILD_DIR:-build-pkg}"

bash scripts/install-deps.sh run
# The packages' Depends come from dpkg-shlibdeps (dpkg-dev, which build-essential brings).
command -v dpkg-shlibdeps >/dev/null 2>&1 || {
  echo "scripts/package.sh: dpkg-shlibdeps is missing: apt-get install dpkg-dev" >&2
  exit 1
}
CORRAL_BUILD_DIR="$dir" bash scripts/build.sh release binaries
rm -rf "$dir/packages"
cpack --config "$dir/CPackConfig.cmake" -B "$dir/packages"
mkdir -p dist
rm -f dist/corral-controller_*.deb dist/corral-agent_*.deb dist/corral-balancer_*.deb dist/corralctl_*.deb
cp "$dir"/packages/*.deb dist/
echo
echo "corral: packages in dist/:"
ls -l dist/*.deb
