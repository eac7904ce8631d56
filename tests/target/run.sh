#!/usr/bin/env bash
# The target VM suite: boots Debian bookworm's own kernel for each ARCH under
# qemu-system (TCG) with an initramfs holding nestbox-launch, the signed test
# images and tests/target/cases/*.sh, and fails unless the guest reports every
# case ok. See tests/target/README.md.
#
# usage: tests/target/run.sh [--arch amd64|arm64|mipsel]... [--no-install]
#   default: all three. --no-install: use what is installed (else apt-get
#   installs qemu-system-x86/-arm/-mips, cpio and the cross toolchains).
# Env: NESTBOX_BUILD_DIR (host build with `nestbox` and, for amd64,
#   `nestbox-launch`; default build), NESTBOX_TARGET_OUT (build-target),
#   NESTBOX_TARGET_TIMEOUT (seconds per boot, default 600),
#   NESTBOX_TARGET_CASES (a glob of case names, e.g. '3*': a subset).
# Exit 1 when anything is missing, cannot be fetched or built, or a guest
# fails or times out: this suite never skips.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arches=() install=1
while (($#)); do
  case $1 in
    --arch) arches+=("${2:?--arch needs amd64, arm64 or mipsel}"); shift ;;
    --no-install) install=0 ;;
    -h|--help) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "target: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift
done
((${#arches[@]})) || arches=(amd64 arm64 mipsel)
build=${NESTBOX_BUILD_DIR:-$repo/build}
[[ $build == /* ]] || build=$repo/$build
outroot=${NESTBOX_TARGET_OUT:-$repo/build-target}
export NESTBOX_TARGET_CACHE=${NESTBOX_TARGET_CACHE:-$outroot/cache}

need=(cpio fdisk e2fsprogs)  # fdisk: sfdisk, for the labelled disk of cases/60-partition.sh
for a in "${arches[@]}"; do
  case $a in
    amd64) need+=(qemu-system-x86) ;;
    arm64) need+=(qemu-system-arm g++-aarch64-linux-gnu binutils-aarch64-linux-gnu) ;;
    mipsel) need+=(qemu-system-mips g++-mipsel-linux-gnu binutils-mipsel-linux-gnu) ;;
    *) echo "target: unknown arch '$a' (amd64, arm64, mipsel)" >&2; exit 2 ;;
  esac
done
if ((install)); then
  missing=()
  for p in "${need[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  if ((${#missing[@]})); then
    echo "target: apt-get install ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  fi
  for a in "${arches[@]}"; do
    [[ $a == amd64 ]] || dpkg --print-foreign-architectures | grep -qx "$a" && continue
    dpkg --add-architecture "$a" && bash "$here/../../scripts/apt-update.sh" >/dev/null
  done
fi

[[ -x $build/cli/nestbox ]] || cmake --build "$build" --target nestbox
declare -A took
failed=0
for a in "${arches[@]}"; do
  start=$SECONDS
  echo "=== target $a"
  if [[ $a == amd64 ]]; then
    cmake --build "$build" --target nestbox-launch >/dev/null
    launch=$build/launcher/nestbox-launch
  else
    # The cross stage's build (scripts/cross-build.sh), the same binary CI ships.
    cross=$a
    [[ $a == arm64 ]] && cross=aarch64
    bash "$repo/scripts/cross-build.sh" --fetch "$cross" | tail -n 2
    launch=${NESTBOX_CROSS_BUILD:-$repo/build-cross}/$cross/launcher/nestbox-launch
  fi
  rc=0
  [[ -x $launch ]] || { echo "target: $a: no nestbox-launch at $launch"; rc=1; }
  ((rc)) || bash "$here/build-initramfs.sh" "$a" "$build/cli/nestbox" "$launch" "$outroot/$a" || rc=$?
  built=$((SECONDS - start))
  ((rc)) || bash "$here/run-qemu.sh" "$a" "$outroot/$a" "${NESTBOX_TARGET_TIMEOUT:-600}" || rc=$?
  took[$a]="build ${built}s, boot+run $((SECONDS - start - built))s"
  ((rc == 0)) || { echo "target: $a FAILED"; failed=1; }
done
for a in "${arches[@]}"; do echo "target $a: ${took[$a]:-not run}"; done
exit $failed
