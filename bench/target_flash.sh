#!/usr/bin/env bash
# Flash cost of a cross-built nestbox-launch as OpenWrt would store it: the
# stripped file, its xz size (OpenWrt packs the root file system as squashfs
# with xz), a squashfs holding just the binary (xz, 256 KiB blocks, no padding,
# root-owned, as OpenWrt's image.mk does; Debian's mksquashfs 4.5.1 lacks
# OpenWrt's -Xpreset/-Xe tuning), minus an empty squashfs's own overhead, and
# the libraries it needs (NEEDED).
#   usage: bench/target_flash.sh BUILD_DIR...   (e.g. build-cross/aarch64-mbedtls)
# docs/benchmarks.md, "The mbedTLS verifier backend".
set -euo pipefail
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
sq() { mksquashfs "$1" "$2" -comp xz -b 256k -nopad -noappend -root-owned -quiet >/dev/null; stat -c %s "$2"; }
mkdir "$tmp/empty"
empty="$(sq "$tmp/empty" "$tmp/empty.sqfs")"
printf '%-28s %10s %10s %12s  %s\n' build stripped xz-9e squashfs-xz NEEDED
for b in "$@"; do
  bin="$b/nestbox-launch.stripped"
  [[ -f "$bin" ]] || { echo "target_flash: no $bin (run scripts/cross-build.sh first)" >&2; exit 1; }
  rm -rf "$tmp/root" && mkdir -p "$tmp/root/usr/sbin"
  cp "$bin" "$tmp/root/usr/sbin/nestbox-launch"
  xz_size="$(xz -9e --check=crc32 -c "$bin" | wc -c)"
  sqfs="$(( $(sq "$tmp/root" "$tmp/one.sqfs") - empty ))"
  needed="$(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  printf '%-28s %10s %10s %12s  %s\n' "$(basename "$b")" "$(stat -c %s "$bin")" "$xz_size" "$sqfs" "$needed"
done
