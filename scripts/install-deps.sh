#!/usr/bin/env bash
# Installs everything nestbox needs to build, test and run its demo on Debian 12.
# Idempotent: apt-get skips what is already installed. Run as root.
set -euo pipefail

build_packages=(
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libarchive-dev libsquashfs-dev libssl-dev libtomlplusplus-dev libxxhash-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libseccomp-dev libmnl-dev
)
# Real tools the tests compare against or drive (never linked).
test_packages=(
  squashfs-tools squashfs-tools-ng pax-utils python3-pyelftools bc crun runc cryptsetup-bin xxhash
  iproute2 kmod util-linux python3 python3-jsonschema shellcheck
  busybox-static
)

missing=()
for p in "${build_packages[@]}" "${test_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# lxc pulls in many recommends; only the binaries are needed.
lxc_missing=0
dpkg-query -W -f='${Status}' lxc 2>/dev/null | grep -q "install ok installed" || lxc_missing=1

if ((${#missing[@]} || lxc_missing)); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  ((${#missing[@]})) && apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((lxc_missing)) && apt-get install -y -qq --no-install-recommends lxc
fi
echo "install-deps: all packages present"
