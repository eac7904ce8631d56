#!/usr/bin/env bash
# Integration: the whole chain on examples/hello.toml with the built binaries:
# validate -> compose -> squash -> keygen -> sign -> verify -> nestbox-launch run,
# then a tampered image, an untrusted key and a revoked key are each refused
# before anything is mounted, and nothing (mount, loop device) is left behind.
# Issue 14, class 6 / issue 15: on this kernel (no device-mapper) --verity is
# refused by run, boot and install naming CONFIG_DM_VERITY, and the default
# (auto) hashes every byte; `verify --mode verity` says the data was not
# checked. An image another user could write (not root's, or group/other
# writable) is not mounted. libcrypto reads no configuration ($OPENSSL_CONF).
# Usage: chain_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
work=$(mktemp -d /tmp/nestbox-e2e.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
loops_before=$(losetup -a | wc -l)
mounts_before=$(wc -l < /proc/self/mountinfo)

mkdir -p "$work/examples/staging/bin"
cp /bin/busybox "$work/examples/staging/bin/busybox"
cp "$src/examples/hello.toml" "$work/examples/"
"$nestbox" validate -q "$work/examples/hello.toml"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" compose "$work/examples/hello.toml" --out "$work/out" --strategy tree >/dev/null
for f in policy.bin config.json lxc.conf; do [ -s "$work/out/runtime/hello/$f" ] || fail "compose wrote no $f"; done
SOURCE_DATE_EPOCH=1700000000 "$nestbox" squash "$work/out/hello" "$work/hello.sqfs" --comp gzip
mkdir -p "$work/keys" "$work/other"
"$nestbox" keygen -o "$work/demo" >/dev/null
"$nestbox" keygen -o "$work/stranger" >/dev/null
cp "$work/demo.pub" "$work/keys/"
cp "$work/stranger.pub" "$work/other/"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign --squashfs "$work/hello.sqfs" \
  --policy "$work/out/runtime/hello/policy.bin" --manifest "$work/examples/hello.toml" \
  -k "$work/demo.key" -o "$work/hello.img" >/dev/null
"$nestbox" verify "$work/hello.img" --keyring "$work/keys" >/dev/null

out=$("$launch" run "$work/hello.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run")
echo "$out"
grep -q "^hello from hello: pid 2, uid 0$" <<<"$out" || fail "container output: $out"
grep -q "^CapEff:	0000000000000000$" <<<"$out" || fail "capabilities not dropped"
grep -q "^NoNewPrivs:	1$" <<<"$out" || fail "no_new_privs not set"
grep -q "^Seccomp:	2$" <<<"$out" || fail "seccomp filter not installed"

echo "== libcrypto takes no configuration from the environment or openssl.cnf"
# A configuration that activates only the null provider leaves no SHA-256 and
# no Ed25519 (one naming a provider module would load that code into the root
# launcher): nestbox-launch must not read it, so the start is unchanged.
cat >"$work/openssl.cnf" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
null = null_sect
[null_sect]
activate = 1
CNF
out=$(OPENSSL_CONF="$work/openssl.cnf" "$launch" run "$work/hello.img" --keyring "$work/keys" --compat nestbox-demo-hgw \
      --state-dir "$work/run" 2>&1) || fail "OPENSSL_CONF changed the verification: $out"
grep -q "^hello from hello: pid 2, uid 0$" <<<"$out" || fail "container output under OPENSSL_CONF: $out"

echo "== --verity: refused on this kernel (no device-mapper); auto falls back to full mode"
verity_text=$("$nestbox" verify "$work/hello.img" --keyring "$work/keys" --mode verity)
grep -qx "checked = metadata, signatures, policy and the verity root hash only; the data was NOT checked (dm-verity would check it on read)" <<<"$verity_text" ||
  fail "verify --mode verity does not say what it checked: $verity_text"
verity_json=$("$nestbox" verify "$work/hello.img" --keyring "$work/keys" --mode verity --json)
grep -q '"mode":"verity","data_verified":false,"checked":"metadata, signatures, policy and the verity root hash only; the data was NOT checked' <<<"$verity_json" ||
  fail "verify --mode verity --json: $verity_json"
"$nestbox" verify "$work/hello.img" --keyring "$work/keys" --json | grep -q '"mode":"full","data_verified":true,' ||
  fail "verify --json (full) does not say what it checked"
for command in run install boot; do
  what="$work/hello.img"
  [ "$command" != boot ] || what=hello
  set +e
  err=$("$launch" "$command" "$what" --verity --keyring "$work/keys" --compat nestbox-demo-hgw \
    --store "$work/store" --state-dir "$work/run" 2>&1); rc=$?
  set -e
  [ "$rc" = 1 ] || fail "$command --verity: exit $rc ($err)"
  # No node, or a node with no driver behind it (left by dmsetup): the same refusal.
  [ "$err" = "nestbox-launch $command: --verity: refused: this kernel has no device-mapper (CONFIG_BLK_DEV_DM), so no dm-verity (CONFIG_DM_VERITY): /dev/mapper/control: $([ -e /dev/mapper/control ] && echo 'No such device' || echo 'No such file or directory'); without dm-verity the image's data would be mounted unchecked: run without --verity (every byte is then verified before mounting)" ] ||
    fail "$command --verity: $err"
done
[ ! -e "$work/store" ] || fail "install --verity touched the store"
set +e
err=$("$launch" run "$work/hello.img" --verity --full --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] && [ "$err" = "nestbox-launch run: --verity and --full: choose one" ] || fail "--verity --full: exit $rc ($err)"
# auto (the default) and --full on a kernel without dm-verity: every byte is
# hashed, so a flipped payload byte of an image WITH a hash tree is refused
# before anything is mounted (verity mode would have started it).
cp "$work/hello.img" "$work/flip.img"
printf '\x5a' | dd of="$work/flip.img" bs=1 seek=8192 count=1 conv=notrunc 2>/dev/null
cmp -s "$work/hello.img" "$work/flip.img" && printf '\xa5' | dd of="$work/flip.img" bs=1 seek=8192 count=1 conv=notrunc 2>/dev/null
for mode in "" --full; do
  set +e
  err=$("$launch" run "$work/flip.img" $mode --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
  set -e
  [ "$rc" = 1 ] && [ "$err" = "nestbox-launch run: verify $work/flip.img: squashfs: sha256 mismatch" ] ||
    fail "flipped payload, mode '${mode:-auto}': exit $rc ($err)"
done
rm -f "$work/flip.img"

echo "== an image someone else can write is not mounted (the fd pins the inode, not its bytes)"
cp "$work/hello.img" "$work/shared.img"
chmod 0664 "$work/shared.img"
set +e
err=$("$launch" run "$work/shared.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "group-writable image: exit $rc ($err)"
grep -qx "nestbox-launch run: $work/shared.img: writable by group or others (mode 0664), who could change it after verification; only an image that only root can write is mounted (or install it)" <<<"$err" ||
  fail "group-writable image: $err"
chmod 0644 "$work/shared.img"
chown 1000 "$work/shared.img"
set +e
err=$("$launch" run "$work/shared.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "image owned by uid 1000: exit $rc ($err)"
grep -qx "nestbox-launch run: $work/shared.img: owned by uid 1000, who could change it after verification; only a root-owned image is mounted (or install it)" <<<"$err" ||
  fail "image owned by uid 1000: $err"

echo "== a policy baked for another architecture than the signed metadata's is refused before anything is mounted"
# The same container, its policy baked for aarch64, signed with the x86_64
# metadata of hello.toml: two signed fields that disagree.
mkdir -p "$work/a64/staging/bin"
printf '#!/bin/sh\n' > "$work/a64/staging/bin/run"
cat > "$work/a64/hello.toml" <<'EOT'
schema = 1
name = "hello"
version = 1
arch = "aarch64"
compat = "nestbox-demo-hgw"
[process]
command = ["/bin/run"]
[rootfs]
strategy = "squashfs"
[[rootfs.source]]
path = "staging"
[[rootfs.dir]]
path = "/proc"
[[rootfs.dir]]
path = "/dev"
[security]
capabilities = []
[mounts]
sys = "none"
EOT
SOURCE_DATE_EPOCH=1700000000 "$nestbox" compose "$work/a64/hello.toml" --out "$work/a64/out" >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign --squashfs "$work/hello.sqfs" \
  --policy "$work/a64/out/runtime/hello/policy.bin" --manifest "$work/examples/hello.toml" \
  -k "$work/demo.key" -o "$work/a64.img" >/dev/null
set +e
err=$("$launch" run "$work/a64.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || fail "policy for another arch: exit $rc ($err)"
grep -qx "nestbox-launch run: $work/a64.img: policy is for arch \"aarch64\" but the image is for \"x86_64\"" <<<"$err" ||
  fail "policy for another arch: $err"

if err=$("$launch" run "$work/hello.img" --keyring "$work/keys" --compat other-router --state-dir "$work/run" 2>&1); then fail "wrong compat accepted"; fi
grep -q "compat" <<<"$err" || fail "compat reason: $err"
echo "wrong compat: $err"
if [ ! -e /etc/nestbox/compat ]; then
  if err=$("$launch" run "$work/hello.img" --keyring "$work/keys" --state-dir "$work/run" 2>&1); then fail "unknown device identity accepted"; fi
  grep -q "no device compatibility string" <<<"$err" || fail "identity reason: $err"
fi

echo "== a FIFO at /etc/nestbox/compat is refused, never waited on (issue 14, class 1)"
# In a mount namespace of its own, with a directory of the test's over /etc.
mkdir -p "$work/etc/nestbox"
mkfifo "$work/etc/nestbox/compat"
for command in run install; do
  rc=0
  err=$(timeout 20 unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" /etc && exec "$2" "$3" "$4" --keyring "$5" --state-dir "$6" --store "$7"' \
    sh "$work/etc" "$launch" "$command" "$work/hello.img" "$work/keys" "$work/run" "$work/compat-store" 2>&1) || rc=$?
  [ "$rc" = 2 ] || fail "$command with a FIFO compat file: exit $rc ($err)"
  [ "$err" = "nestbox-launch $command: device compatibility string: /etc/nestbox/compat: not a regular file" ] ||
    fail "$command with a FIFO compat file: $err"
done
[ ! -e "$work/compat-store" ] || fail "install with a FIFO compat file touched the store"

cp "$work/hello.img" "$work/bad.img"
printf '\x01' | dd of="$work/bad.img" bs=1 seek=5000 conv=notrunc status=none
if err=$("$launch" run "$work/bad.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); then fail "tampered image ran"; fi
grep -q "squashfs: sha256 mismatch" <<<"$err" || fail "tamper reason: $err"
if err=$("$launch" run "$work/hello.img" --keyring "$work/other" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); then fail "untrusted key accepted"; fi
echo "untrusted: $err"
keyid=$("$nestbox" keygen --id "$work/demo.pub" | tail -n1)
echo "$keyid" > "$work/keys/revoked"
if err=$("$launch" run "$work/hello.img" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); then fail "revoked key accepted"; fi
echo "revoked: $err"

[ "$(losetup -a | wc -l)" = "$loops_before" ] || fail "loop device left behind"
[ "$(wc -l < /proc/self/mountinfo)" = "$mounts_before" ] || fail "mount left behind"
echo "e2e chain: ok"
