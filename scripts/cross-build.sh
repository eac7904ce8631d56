#!/usr/bin/env bash
# Cross-compiles nestbox-launch (NESTBOX_TARGET_ONLY) for router architectures
# with Debian's cross toolchains and, with --test, runs the target-side unit
# tests (util, network parsing/encoding) under qemu-user.
#
# usage: scripts/cross-build.sh [--test] [--fetch] [--backend=openssl|mbedtls] [ARCH...]
#                                                               ARCH: aarch64 mipsel (default: both)
#   --fetch  download the target's libcrypto/mbedTLS/libmnl -dev packages if not cached
#            (apt-get download; needs `dpkg --add-architecture <arch>` and apt-get update)
#   --backend  the verifier's crypto library (NESTBOX_CRYPTO_BACKEND, default
#            openssl); mbedtls builds into build-cross/<arch>-mbedtls
#
# Needs: g++-aarch64-linux-gnu / g++-mipsel-linux-gnu and qemu-user
# (scripts/install-deps.sh --cross). An arch whose toolchain or target libraries
# are absent is SKIPPED with the reason printed, and the script still exits 0, so
# a CI step can run it unconditionally. Exit 1: a build or a test failed.
#
# Target libraries: libssl-dev/libssl3/libmbedtls-dev (+ libmbedcrypto7,
# libmbedtls14, libmbedx509-1)/libmnl-dev/libmnl0 for the target arch
# are fetched as .debs and extracted into a flattened sysroot under
# ${NESTBOX_CROSS_CACHE:-/var/cache/nestbox-cross}/<debian-arch>/sysroot:
# nothing is installed into the host (multiarch libssl3 would have to match
# the host's libssl3 version exactly).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
cache="${NESTBOX_CROSS_CACHE:-/var/cache/nestbox-cross}"
build_root="${NESTBOX_CROSS_BUILD:-$here/build-cross}"
run_tests=0 fetch=0 arches=() backend=openssl
for a in "$@"; do
  case "$a" in
    --test) run_tests=1 ;;
    --fetch) fetch=1 ;;
    --backend=openssl|--backend=mbedtls) backend="${a#--backend=}" ;;
    aarch64|mipsel) arches+=("$a") ;;
    -h|--help) sed -n '2,20s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "cross-build: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
((${#arches[@]})) || arches=(aarch64 mipsel)

triple_of() { case "$1" in aarch64) echo aarch64-linux-gnu ;; mipsel) echo mipsel-linux-gnu ;; esac; }
debarch_of() { case "$1" in aarch64) echo arm64 ;; mipsel) echo mipsel ;; esac; }

skipped=0 failed=0 summary=()
skip() { echo "cross-build: SKIP $1: $2"; summary+=("$1: skipped ($2)"); skipped=$((skipped + 1)); }

# Target -dev packages into a flattened sysroot (usr/include, usr/lib).
sysroot() {
  local debarch="$1" triple="$2" dir="$cache/$1"
  # A sysroot from before the mbedTLS backend lacks its headers: fetch again
  # when they are needed.
  if [[ -f "$dir/sysroot/.complete" && ( "$backend" == openssl || -f "$dir/sysroot/usr/include/mbedtls/pk.h" ) ]]; then
    echo "$dir/sysroot"; return 0
  fi
  if ((!fetch)); then return 1; fi
  dpkg --print-foreign-architectures | grep -qx "$debarch" || return 1
  rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/sysroot.tmp"
  # A mirror that drops a connection now and then is not a reason to skip:
  # three tries, a few seconds apart.
  local try
  for try in 1 2 3; do
    (cd "$dir/debs" && apt-get download -q \
      "libssl-dev:$debarch" "libssl3:$debarch" "libmnl-dev:$debarch" "libmnl0:$debarch" \
      "libmbedtls-dev:$debarch" "libmbedcrypto7:$debarch" "libmbedtls14:$debarch" "libmbedx509-1:$debarch") >&2 && break
    ((try < 3)) || return 1
    echo "cross-build: apt-get download for $debarch failed (try $try of 3); again in 5 s" >&2
    sleep 5
  done
  local deb
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/sysroot.tmp"; done
  local s="$dir/sysroot.tmp"
  cp -a "$s/usr/include/$triple/." "$s/usr/include/"
  mkdir -p "$s/usr/lib"
  cp -a "$s/usr/lib/$triple/." "$s/usr/lib/"
  touch "$s/.complete"
  mv "$s" "$dir/sysroot"
  echo "$dir/sysroot"
}

for arch in "${arches[@]}"; do
  triple="$(triple_of "$arch")" debarch="$(debarch_of "$arch")" qemu="qemu-$arch"
  if ! command -v "$triple-g++" >/dev/null; then
    skip "$arch" "$triple-g++ not installed (scripts/install-deps.sh --cross)"; continue
  fi
  if ! libs="$(sysroot "$debarch" "$triple")"; then
    skip "$arch" "no target libcrypto/mbedTLS/libmnl in $cache/$debarch (run with --fetch after 'dpkg --add-architecture $debarch && apt-get update')"
    continue
  fi
  bdir="$build_root/$arch"
  [[ "$backend" == openssl ]] || bdir+="-$backend"
  mkdir -p "$bdir"
  echo "cross-build: $arch ($triple) in $bdir"
  cmake -S "$here" -B "$bdir" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$here/cmake/toolchains/$triple.cmake" \
    -DNESTBOX_CROSS_LIBS="$libs" -DCMAKE_BUILD_TYPE=MinSizeRel \
    -DNESTBOX_CRYPTO_BACKEND="$backend" -DNESTBOX_TARGET_ONLY=ON -DNESTBOX_TARGET_TESTS=$((run_tests ? 1 : 0)) > "$bdir.configure.log" 2>&1 \
    || { echo "cross-build: $arch: configure failed, see $bdir.configure.log" >&2; tail -20 "$bdir.configure.log" >&2; summary+=("$arch: configure FAILED"); failed=1; continue; }
  targets=(nestbox-launch)
  ((run_tests)) && targets+=(util_tests network_tests)
  if ! cmake --build "$bdir" -j2 --target "${targets[@]}"; then
    echo "cross-build: $arch: build failed" >&2; summary+=("$arch: build FAILED"); failed=1; continue
  fi
  "$triple-strip" -o "$bdir/nestbox-launch.stripped" "$bdir/launcher/nestbox-launch"
  size="$(stat -c %s "$bdir/nestbox-launch.stripped")"
  needed="$("$triple-readelf" -d "$bdir/nestbox-launch.stripped" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  if ! command -v "$qemu" >/dev/null; then
    skip "$arch" "built ($size bytes stripped) but $qemu is not installed (qemu-user): not run"; continue
  fi
  version="$("$qemu" -L "/usr/$triple" -E "LD_LIBRARY_PATH=$libs/usr/lib" "$bdir/nestbox-launch.stripped" --version)" \
    || { echo "cross-build: $arch: nestbox-launch does not run under $qemu" >&2; summary+=("$arch: does not run under $qemu"); failed=1; continue; }
  line="$arch: nestbox-launch stripped $size bytes; NEEDED: ${needed% }; runs under $qemu: '$version'"
  if ((run_tests)); then
    if ctest --test-dir "$bdir" --output-on-failure; then
      line+="; unit tests passed under $qemu"
    else
      line+="; unit tests FAILED"; failed=1
    fi
  fi
  summary+=("$line")
done

echo
echo "cross-build summary:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
