#!/usr/bin/env bash
# The newcomer's path (issue 19, "Done when"): a manifest for dropbear from the
# demo corpus (scripts/corpus.sh), written as a new user would, checked with
# `validate --sources`, composed, signed with `sign --composed`, installed and
# run; then a login over ssh (public key, the OpenSSH client) from a network
# namespace the test creates, through the container's veth. Nothing on the way
# may need more than the manifest: compose makes the tmpfs mount point
# /etc/dropbear (the host keys, generated at the first connection with -R).
# Usage: ssh_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the manifest is written for x86_64"; exit 77; }
for t in ip nsenter ssh ssh-keygen; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
staging=$(bash "$src/scripts/corpus.sh" 2>/dev/null) || { echo "SKIP: no demo corpus (scripts/corpus.sh needs apt)"; exit 77; }

work=$(mktemp -d /tmp/nestbox-ssh.XXXXXX)
chmod 755 "$work"
N=nbssh$$ pid=''
opts=(--store "$work/store" --state-dir "$work/run" --keyring "$work/keys" --compat nestbox-demo-hgw)
cleanup() {
  set +e
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    "$launch" stop sshd --state-dir "$work/run" --stop-timeout 2000 >/dev/null 2>&1
    wait "$pid" 2>/dev/null
  fi
  ip netns del "$N" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/sshd.log" ] && sed 's/^/  | /' "$work/sshd.log"; exit 1; }

mkdir -p "$work/m" "$work/keys"
ln -s "$staging" "$work/m/staging"
ssh-keygen -q -t ed25519 -N '' -C newcomer -f "$work/id"
cat >"$work/m/sshd.toml" <<EOF
schema = 1
name = "sshd"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ["/usr/sbin/dropbear", "-F", "-E", "-R", "-s", "-p", "22"]

[rootfs]
strategy = "squashfs"
binaries = ["/usr/sbin/dropbear", "/bin/busybox"]
include = ["/etc/passwd", "/etc/group"]

[[rootfs.source]]
path = "staging"

[[rootfs.symlink]]
path = "/bin/sh"
target = "busybox"

[[rootfs.file]]
path = "/root/.ssh/authorized_keys"
mode = "0600"
content = "$(cat "$work/id.pub")\n"

[security]
capabilities = ["CAP_NET_BIND_SERVICE", "CAP_SETUID", "CAP_SETGID", "CAP_CHOWN"]

[[mounts.tmpfs]]
target = "/etc/dropbear"
size = "64K"

[[network.interface]]
type = "veth"
name = "eth0"
host_name = "nb-ssh$$"
addresses = ["10.77.0.2/24"]
EOF
"$nestbox" validate -q --sources "$work/m/sshd.toml" || fail "validate --sources refused the manifest"
"$nestbox" compose -q "$work/m/sshd.toml" --out "$work/out" --comp gzip || fail "compose"
"$nestbox" keygen -o "$work/vendor" >/dev/null
cp "$work/vendor.pub" "$work/keys/"
"$nestbox" sign -q -k "$work/vendor.key" --composed "$work/out" "$work/m/sshd.toml" -o "$work/images" || fail "sign"
"$launch" install "$work/images/sshd.img" "${opts[@]}" >/dev/null || fail "install"

ip netns add "$N"
ip -n "$N" link set lo up
nsenter --net="/run/netns/$N" "$launch" run sshd "${opts[@]}" >"$work/sshd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do
  ip -n "$N" link show "nb-ssh$$" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || fail "the sshd container exited"
  sleep 0.1
done
ip -n "$N" addr add 10.77.0.1/24 dev "nb-ssh$$"
login() {
  timeout 15 nsenter --net="/run/netns/$N" ssh -T -i "$work/id" -o BatchMode=yes -o ConnectTimeout=3 \
    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@10.77.0.2 "$@"
}
out=''
for _ in $(seq 30); do
  out=$(login 'busybox echo logged in as $(busybox id -u) on $(busybox hostname)' 2>&1) && break
  sleep 0.2
done
[ "$out" = "logged in as 0 on sshd" ] || fail "ssh login: $out"
grep -q "Pubkey auth succeeded for 'root'" "$work/sshd.log" || fail "dropbear logged no public-key login"
# The host key was made at the first connection in the tmpfs compose made the mount point for.
login 'busybox ls /etc/dropbear' | grep -qx dropbear_ed25519_host_key || fail "no host key in /etc/dropbear"
"$launch" stop sshd --state-dir "$work/run" --stop-timeout 2000 >/dev/null
wait "$pid" || true
pid=''
grep -q "nestbox-launch run: sshd: stopped" "$work/sshd.log" || fail "the stop was not reported"
echo "PASS: dropbear from the corpus: validate (sources included), compose, sign --composed, install, ssh login from a netns"
