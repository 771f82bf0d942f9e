#!/usr/bin/env bash
# Builds the test guest of the qemu driver from Debian's packages only:
#   scripts/build-guest.sh [OUT_DIR]        (default: build/guest)
# OUT_DIR/vmlinuz    the Debian cloud kernel (linux-image-cloud-amd64)
# OUT_DIR/initramfs  a cpio.gz: static busybox (busybox-static), the virtio-net
#                    modules of that kernel (with their dependencies, from
#                    modules.dep), and an /init that brings eth0 up for QEMU's
#                    user networking (10.0.2.15/24 via 10.0.2.2) and runs busybox
#                    httpd on port 80 answering with the VM's name, taken from
#                    the kernel command line (corral.name=web-1). It says what it
#                    does on the serial console (console=ttyS0).
# Prints the two paths. Installs the packages when missing (apt-get, as root).
# Nothing is downloaded from anywhere else; a second run rebuilds in a second.
set -euo pipefail

out="${1:-build/guest}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

need=()
for pkg in linux-image-cloud-amd64 busybox-static cpio; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "build-guest: missing ${need[*]}: install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi

# The newest cloud kernel installed.
kernel="$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n 1)"
version="${kernel#/boot/vmlinuz-}"
moddir="/lib/modules/$version"
[ -f "$moddir/modules.dep" ] || { echo "build-guest: $moddir/modules.dep is missing" >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,www,lib/modules}
cp /bin/busybox "$root/bin/busybox"
for applet in sh mount insmod ip cat echo httpd sleep grep sed poweroff; do
  ln -s busybox "$root/bin/$applet"
done

# The modules virtio-net needs, dependencies first: modules.dep lists each
# module's dependencies (the ones it needs loaded before it) after the colon.
declare -A seen=()
order=()
add_module() {  # add_module RELPATH: its dependencies, then itself
  local rel="$1" line dep
  [ -n "${seen[$rel]:-}" ] && return
  seen[$rel]=1
  line="$(grep -E "^${rel}:" "$moddir/modules.dep" || true)"
  [ -n "$line" ] || { echo "build-guest: $rel not in modules.dep" >&2; exit 1; }
  for dep in ${line#*:}; do add_module "$dep"; done
  order+=("$rel")
}
for name in virtio_pci virtio_net; do
  rel="$(grep -oE "^[^:]*/${name}\.ko(\.xz|\.zst|\.gz)?:" "$moddir/modules.dep" | tr -d :)"
  if [ -z "$rel" ]; then
    # Built into the kernel: nothing to load.
    grep -qE "/${name}\.ko$" "$moddir/modules.builtin" ||
      { echo "build-guest: no $name module for $version" >&2; exit 1; }
    continue
  fi
  add_module "$rel"
done
loads=""
for rel in "${order[@]}"; do
  base="$(basename "$rel")"
  case "$base" in
    # busybox insmod takes plain .ko files: decompress the others here.
    *.ko.xz) xz -dc "$moddir/$rel" >"$root/lib/modules/${base%.xz}" ;;
    *.ko.zst) zstd -qdc "$moddir/$rel" >"$root/lib/modules/${base%.zst}" ;;
    *.ko.gz) gzip -dc "$moddir/$rel" >"$root/lib/modules/${base%.gz}" ;;
    *) cp "$moddir/$rel" "$root/lib/modules/$base" ;;
  esac
  base="${base%.xz}"; base="${base%.zst}"; base="${base%.gz}"
  loads+="load $base"$'\n'
done

cat >"$root/init" <<EOF
#!/bin/sh
# The Corral test guest (scripts/build-guest.sh). Logs to the serial console.
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "corral-guest: \$*" >/dev/console; }
name=guest
for arg in \$(cat /proc/cmdline); do
  case "\$arg" in corral.name=*) name="\${arg#corral.name=}" ;; esac
done
say "booted as \$name (kernel \$(cat /proc/sys/kernel/osrelease))"
load() { insmod "/lib/modules/\$1" 2>/dev/null && say "loaded \$1" || say "could not load \$1"; }
$loads
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth0 ] && break; sleep 0.2; done
ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 &&
  say "eth0 10.0.2.15/24 via 10.0.2.2" || say "no eth0"
echo "\$name" >/www/index.html
httpd -p 80 -h /www && say "httpd serving \$name on port 80" || say "httpd failed"
while :; do sleep 3600; done
EOF
chmod +x "$root/init"

# Fixed times and order: the same packages give the same bytes.
find "$root" -exec touch -h -d @0 {} +
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible | gzip -1n) >"$out/initramfs.tmp"
mv "$out/initramfs.tmp" "$out/initramfs"
cp "$kernel" "$out/vmlinuz.tmp" && mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$out/vmlinuz"
echo "$out/initramfs"
