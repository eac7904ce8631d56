#!/usr/bin/env bash
# Installs everything nestbox needs to build, test and run its demo on Debian 12.
# Idempotent: apt-get skips what is already installed. Run as root.
#   --cross  also the cross toolchains and qemu-user for scripts/cross-build.sh
#            (aarch64, mipsel), and the foreign architectures whose libcrypto,
#            mbedTLS and libmnl .debs that script downloads into its own cache.
set -euo pipefail
cross=0
[[ "${1:-}" == "--cross" ]] && cross=1

build_packages=(
  build-essential cmake ninja-build ccache pkg-config clang libclang-rt-14-dev
  libarchive-dev libsquashfs-dev libssl-dev libtomlplusplus-dev libxxhash-dev
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libseccomp-dev libmnl-dev
  libmbedtls-dev  # the mbedTLS verifier backend (NESTBOX_CRYPTO_BACKEND; tests build both)
  zlib1g-dev
)
# Real tools the tests compare against or drive (never linked).
test_packages=(
  squashfs-tools squashfs-tools-ng pax-utils python3-pyelftools bc crun runc cryptsetup-bin xxhash
  iproute2 kmod util-linux python3 python3-jsonschema shellcheck strace
  fdisk  # sfdisk: tests/target builds a GPT disk with a labelled partition
  bind9-dnsutils curl  # scripts/demo.sh and tests/e2e query the demo daemons from the host side
  rsync  # tests/e2e/nas_test.sh and the demo upload to the NAS example's rsync daemon
  nftables  # tests/e2e (network, nas) and the demo read the containers' firewall tables with nft
  openssh-client  # tests/e2e/ssh_test.sh logs into the dropbear container
  busybox-static hyperfine
  rauc  # bench/signer_verify.py compares against `rauc info --keyring`
  time
  bindfs  # tests/verifier: an image served by FUSE is refused
  groff-base bsdextrautils  # tests/cli: groff checks nestbox.1, col strips its overstrikes
  strace  # tests/e2e/store_test.sh kills `install` at every mutating system call
)

cross_packages=()
if ((cross)); then
  cross_packages=(g++-aarch64-linux-gnu g++-mipsel-linux-gnu qemu-user)
  for a in arm64 mipsel; do
    if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
      dpkg --add-architecture "$a"
      cross_update=1
    fi
  done
fi

missing=()
for p in "${build_packages[@]}" "${test_packages[@]}" "${cross_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# lxc pulls in many recommends; only the binaries are needed.
lxc_missing=0
dpkg-query -W -f='${Status}' lxc 2>/dev/null | grep -q "install ok installed" || lxc_missing=1

if ((${#missing[@]} || lxc_missing || ${cross_update:-0})); then
  export DEBIAN_FRONTEND=noninteractive
  bash "$(dirname "$0")/apt-update.sh"
  ((${#missing[@]})) && apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((lxc_missing)) && apt-get install -y -qq --no-install-recommends lxc
fi
echo "install-deps: all packages present"
