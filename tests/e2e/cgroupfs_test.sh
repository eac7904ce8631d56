#!/usr/bin/env bash
# Integration: a container that mounts its own cgroups. A default container
# (the host's uid 0, no user namespace, zero capabilities) makes a user, mount
# and cgroup namespace of its own and mounts every cgroup hierarchy it is in
# (cgroupfs_probe.c). It must see only its own, empty cgroup in each (never
# the launcher's, on this hybrid host the root of cpu, cpuset, freezer, blkio
# and name=systemd), open none of its files for writing (pids.max,
# memory.limit_in_bytes, cgroup.freeze, cgroup.procs ...) and make no
# sub-cgroup; `stop` then leaves no cgroup behind and the same name starts
# again. Also through `exec`.
# Usage: cgroupfs_test.sh NESTBOX NESTBOX_LAUNCH PROBE
set -euo pipefail
nestbox=$1 launch=$2 probe=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
work=$(mktemp -d /tmp/nestbox-cgroupfs.XXXXXX)
runner=
cleanup() {
  if [ -n "$runner" ]; then
    "$launch" stop --state-dir "$work/run" cgfs --stop-timeout 200 >/dev/null 2>&1 || kill "$runner" 2>/dev/null || true
    wait "$runner" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

busybox_staging "$work"
cp "$probe" "$work/staging/bin/cgprobe"
export SOURCE_DATE_EPOCH=1700000000
cat >"$work/cgfs.toml" <<EOT
schema = 1
name = "cgfs"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ['/bin/busybox', 'sh', '-c', '/bin/cgprobe; echo probed; exec /bin/busybox sleep 600']

$(busybox_rootfs /tmp | sed 's#"/bin/busybox"]#"/bin/busybox", "/bin/cgprobe"]#')

[security]
capabilities = []

[cgroups]
memory = "16M"
pids_max = 16

[mounts]
sys = "none"
EOT
signed_image "$work/cgfs.toml" cgfs "$work/cgfs.sqfs" "$work/cgfs.img"
nl() {
  local command=$1
  shift
  "$launch" "$command" --store "$work/store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}
cgroups() { find /sys/fs/cgroup -maxdepth 6 -type d -name "nestbox-cgfs" 2>/dev/null | sort; }
[ -z "$(cgroups)" ] || fail "a cgroup of cgfs exists before the test: $(cgroups)"

# verdict OUTPUT WHAT: the probe mounted something and could touch nothing.
verdict() {
  grep -q '^mounted ' <<<"$1" || fail "$2: the probe mounted no hierarchy (the attack did not run): $1"
  grep -q '^done$' <<<"$1" || fail "$2: the probe did not finish: $1"
  local bad
  bad=$(grep -E '^(foreign|mkdir|writable) ' <<<"$1" || true)
  [ -z "$bad" ] || fail "$2: the container reached cgroup files:
$bad"
}

echo "== run: the container mounts its cgroups from a nested user namespace"
nl run "$work/cgfs.img" >"$work/run.out" 2>"$work/run.err" &
runner=$!
for _ in $(seq 100); do grep -q '^probed$' "$work/run.out" 2>/dev/null && break; sleep 0.1; done
out=$(cat "$work/run.out")
echo "$out" | grep -c . | sed 's/^/probe lines: /'
verdict "$out" "run"

echo "== exec: the same probe as a command in the running container"
out=$("$launch" exec --state-dir "$work/run" cgfs -- /bin/cgprobe 2>&1) || fail "exec: $out"
verdict "$out" "exec"

echo "== stop: nothing left, the same name starts again"
"$launch" stop --state-dir "$work/run" cgfs --stop-timeout 500 >/dev/null || fail "stop: $(cat "$work/run.err")"
wait "$runner" || true
runner=
[ -z "$(cgroups)" ] || fail "cgroups left after stop: $(cgroups)"
[ ! -e "$work/run/cgfs" ] || fail "state directory left after stop"
# Before, the sub-cgroup the container made kept its directory: "create
# cgroup ... (container already running?): File exists" at every next start.
: >"$work/run.out"
nl run "$work/cgfs.img" >"$work/run.out" 2>"$work/run.err" &
runner=$!
for _ in $(seq 100); do grep -q '^probed$' "$work/run.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^probed$' "$work/run.out" || fail "second start: $(cat "$work/run.out" "$work/run.err")"
"$launch" stop --state-dir "$work/run" cgfs --stop-timeout 200 >/dev/null || fail "second stop"
wait "$runner" || true
runner=
[ -z "$(cgroups)" ] || fail "cgroups left after the second stop: $(cgroups)"
echo "PASS"
