#!/usr/bin/env bash
# The README's main command: nestbox's main job on the bundled examples.
#   validate -> kernel-check -> compose (rootfs + runtime forms) -> squash ->
#   keygen -> sign -> verify -> nestbox-launch run (verifies again, then runs)
# The launch runs examples/hello.toml from a tiny busybox staging tree. The
# router-sized corpus, install/boot and the networked daemons are not wired in
# yet (see docs/ and the open issues).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh >/dev/null
build=${NESTBOX_BUILD_DIR:-build}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target nestbox nestbox-launch >/dev/null
nestbox="$PWD/$build/cli/nestbox"
launch="$PWD/$build/launcher/nestbox-launch"
work=$(mktemp -d /tmp/nestbox-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
step() { printf '\n== %s\n' "$*"; }

step "validate every example"
"$nestbox" validate examples/*.toml

step "kernel-check: can the running kernel enforce them? (warn only)"
if [ -r /proc/config.gz ]; then
  "$nestbox" kernel-check --config /proc/config.gz --kernel-version "$(uname -r | cut -d- -f1)" \
    --manifests examples/*.toml --warn-only | tail -n 25
else
  echo "no /proc/config.gz on this machine; on target use: nestbox-launch check"
fi

step "staging tree (stand-in for an OpenWrt staging dir): busybox"
mkdir -p "$work/examples/staging/bin"
cp /bin/busybox "$work/examples/staging/bin/busybox"
cp examples/hello.toml "$work/examples/"

step "compose hello: rootfs tree + policy.bin, config.json, lxc.conf"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" compose "$work/examples/hello.toml" --out "$work/out" --strategy tree
ls -l "$work/out/runtime/hello"

step "squash the tree (libsquashfs, reproducible)"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" squash "$work/out/hello" "$work/hello.sqfs" --comp gzip
ls -l "$work/hello.sqfs"

step "keygen + sign (Ed25519; squashfs + verity tree + policy + metadata)"
mkdir -p "$work/keys"
"$nestbox" keygen -o "$work/demo"
cp "$work/demo.pub" "$work/keys/"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign --squashfs "$work/hello.sqfs" \
  --policy "$work/out/runtime/hello/policy.bin" --manifest "$work/examples/hello.toml" \
  -k "$work/demo.key" -o "$work/hello.img"

step "verify as the device does"
"$nestbox" verify "$work/hello.img" --keyring "$work/keys" --arch x86_64 --compat nestbox-demo-hgw

step "launch: nestbox-launch verifies again, loop-mounts and runs it isolated"
"$launch" run "$work/hello.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run"

step "a tampered image is refused before anything is mounted"
cp "$work/hello.img" "$work/bad.img"
printf '\x01' | dd of="$work/bad.img" bs=1 seek=5000 conv=notrunc status=none
if "$launch" run "$work/bad.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run"; then
  echo "ERROR: tampered image ran"; exit 1
fi
echo "refused, as it must be"
