#!/usr/bin/env bash
# Integration: a container that mounts its own cgroups (cgroupfs_probe.c: a
# child makes a user, mount and cgroup namespace of its own and mounts every
# cgroup hierarchy it is in; its parent, outside that namespace, opens the
# same files through /proc/CHILD/root).
#  - A container in the host's user namespace (the default: the host's uid 0,
#    zero capabilities; and one granted CAP_DAC_OVERRIDE, CAP_FOWNER,
#    CAP_CHOWN, CAP_SETUID, CAP_SETGID, which it holds in the host's user
#    namespace) may not make a user namespace at all: unshare and clone with
#    CLONE_NEWUSER get EPERM, clone3 ENOSYS (manifests/effective_seccomp.h).
#    Before, the one with capabilities wrote the cgroup files its nested
#    namespace had mounted (pids.max, cgroup.procs ...) from outside it.
#  - A container with a user namespace of its own may nest one: it must see
#    only its own, empty cgroup in each hierarchy (never the launcher's, on
#    this hybrid host the root of cpu, cpuset, freezer, blkio and
#    name=systemd), open none of its files for writing and make no
#    sub-cgroup; `stop` then leaves no cgroup behind and the same name starts
#    again. Also through `exec`.
#  - The same where the unified hierarchy is not mounted in the launcher's
#    mount namespace (a pure v1 host; here: a private mount namespace with
#    /sys/fs/cgroup/unified unmounted): the cgroup2 the container mounts is
#    its own directory, owned by 4294967294 (the launcher mounts cgroup2
#    privately for it); before, it was the launcher's cgroup.
# Usage: cgroupfs_test.sh NESTBOX NESTBOX_LAUNCH PROBE
set -euo pipefail
nestbox=$1 launch=$2 probe=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
work=$(mktemp -d /tmp/nestbox-cgroupfs.XXXXXX)
runner= current=
cleanup() {
  if [ -n "$runner" ]; then
    "$launch" stop --state-dir "$work/run" "$current" --stop-timeout 200 >/dev/null 2>&1 || kill "$runner" 2>/dev/null || true
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
# manifest NAME SECURITY [USERS]: a busybox container running the probe.
manifest() {
  cat >"$work/$1.toml" <<EOT
schema = 1
name = "$1"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ['/bin/busybox', 'sh', '-c', '/bin/cgprobe; echo probed; exec /bin/busybox sleep 600']

$(busybox_rootfs /tmp | sed 's#"/bin/busybox"]#"/bin/busybox", "/bin/cgprobe"]#')

[security]
capabilities = [$2]

${3:-}

[cgroups]
memory = "16M"
pids_max = 16

[mounts]
sys = "none"
EOT
  signed_image "$work/$1.toml" "$1" "$work/cgfs.sqfs" "$work/$1.img"
}
manifest cgfs ""
manifest cgfs-caps '"CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"'
manifest cgfs-userns "" '[users]
namespace = true
uid_map = [{ inside = 0, outside = 100000, count = 65536 }]
gid_map = [{ inside = 0, outside = 100000, count = 65536 }]'
nl() {
  local command=$1
  shift
  "$launch" "$command" --store "$work/store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}
cgroups() { find /sys/fs/cgroup -maxdepth 6 -type d -name "nestbox-cgfs*" 2>/dev/null | sort; }
[ -z "$(cgroups)" ] || fail "a cgroup of cgfs exists before the test: $(cgroups)"

# verdict OUTPUT WHAT: the probe mounted something and could touch nothing.
verdict() {
  grep -q '^mounted ' <<<"$1" || fail "$2: the probe mounted no hierarchy (the attack did not run): $1"
  grep -q '^done$' <<<"$1" || fail "$2: the probe did not finish: $1"
  local bad
  bad=$(grep -E '^(foreign|mkdir|writable|outside-writable|outside-unreadable) ' <<<"$1" || true)
  [ -z "$bad" ] || fail "$2: the container reached cgroup files:
$bad"
}

# refused OUTPUT WHAT: the probe could make no user namespace, by any call.
refused() {
  grep -q '^done$' <<<"$1" || fail "$2: the probe did not finish: $1"
  local want
  for want in "unshare EPERM" "clone EPERM" "clone3 ENOSYS"; do
    grep -qx "userns-refused $want" <<<"$1" || fail "$2: expected 'userns-refused $want':
$1"
  done
  ! grep -qE '^(mounted|outside-writable) ' <<<"$1" || fail "$2: the container mounted its cgroups:
$1"
}

# start NAME: runs NAME in the background until its probe has run.
start() {
  current=$1
  : >"$work/run.out"
  nl run "$work/$1.img" >"$work/run.out" 2>"$work/run.err" &
  runner=$!
  for _ in $(seq 100); do grep -q '^probed$' "$work/run.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^probed$' "$work/run.out" || fail "$1: the probe did not run: $(cat "$work/run.out" "$work/run.err")"
}

# finish NAME: stops it; nothing of it may be left.
finish() {
  "$launch" stop --state-dir "$work/run" "$1" --stop-timeout 500 >/dev/null || fail "stop $1: $(cat "$work/run.err")"
  wait "$runner" || true
  runner=
  [ -z "$(cgroups)" ] || fail "cgroups left after stop: $(cgroups)"
  [ ! -e "$work/run/$1" ] || fail "state directory left after stop"
}

for name in cgfs cgfs-caps; do
  echo "== $name: the host's user namespace, no user namespace of its own to make"
  start "$name"
  out=$(cat "$work/run.out")
  refused "$out" "run $name"
  out=$("$launch" exec --state-dir "$work/run" "$name" -- /bin/cgprobe 2>&1) || fail "exec: $out"
  refused "$out" "exec $name"
  finish "$name"
done

echo "== run: a container with a user namespace mounts its cgroups from a nested one"
start cgfs-userns
out=$(cat "$work/run.out")
echo "$out" | grep -c . | sed 's/^/probe lines: /'
verdict "$out" "run"

echo "== exec: the same probe as a command in the running container"
out=$("$launch" exec --state-dir "$work/run" cgfs-userns -- /bin/cgprobe 2>&1) || fail "exec: $out"
verdict "$out" "exec"

echo "== stop: nothing left, the same name starts again"
finish cgfs-userns
# Before, the sub-cgroup the container made kept its directory: "create
# cgroup ... (container already running?): File exists" at every next start.
start cgfs-userns
finish cgfs-userns

# private_case: run in a mount namespace of its own where cgroup2 is not
# mounted; the test mounts it for itself afterwards to look.
private_case() {
  set -euo pipefail
  local v2 dir ino seen out
  v2=$(awk '$0 ~ / - cgroup2 / {print $5}' /proc/self/mountinfo | head -1)
  umount "$v2"
  ! grep -q ' - cgroup2 ' /proc/self/mountinfo || fail "cgroup2 is still mounted in the test namespace"
  runner=
  trap 'if [ -n "$runner" ]; then "$launch" stop --state-dir "$work/run" cgfs-userns --stop-timeout 200 >/dev/null 2>&1; wait "$runner" || true; fi; umount "$work/v2" 2>/dev/null || true' EXIT
  start cgfs-userns
  out=$(cat "$work/run.out")
  verdict "$out" "run without cgroup2 mounted"
  ! grep -q ' - cgroup2 ' /proc/self/mountinfo || fail "the launcher mounted cgroup2 where others see it"
  mkdir -p "$work/v2"
  mount -t cgroup2 none "$work/v2"
  dir=$(find "$work/v2" -maxdepth 6 -type d -name nestbox-cgfs-userns | head -1)
  [ -n "$dir" ] || fail "the container has no cgroup2 directory"
  [ "$(stat -c %u:%g "$dir")" = 4294967294:4294967294 ] || fail "$dir is owned by $(stat -c %u:%g "$dir")"
  ino=$(stat -c %i "$dir")
  seen=$(awk '$1 == "root" && $2 == "unified" {print $3}' <<<"$out")
  [ "$seen" = "$ino" ] || fail "the container mounted cgroup2 at inode ${seen:-none}; its own directory $dir is $ino"
  out=$("$launch" exec --state-dir "$work/run" cgfs-userns -- /bin/cgprobe 2>&1) || fail "exec: $out"
  verdict "$out" "exec without cgroup2 mounted"
  seen=$(awk '$1 == "root" && $2 == "unified" {print $3}' <<<"$out")
  [ "$seen" = "$ino" ] || fail "exec: the command mounted cgroup2 at inode ${seen:-none}, not $ino"
  finish cgfs-userns
  [ ! -e "$dir" ] || fail "$dir left after stop"
  umount "$work/v2"
  echo "the container's cgroup2 is its own directory (inode $ino, owner 4294967294)"
}

echo "== cgroup2 not mounted where the launcher runs (a pure v1 host)"
if grep -q ' - cgroup2 ' /proc/self/mountinfo; then
  export work launch
  export -f nl start finish cgroups fail verdict private_case
  unshare -m --propagation private bash -c private_case || fail "cgroup2 not mounted in the launcher's namespace"
else
  echo "cgroup2 is not mounted on this host: case skipped"
fi
echo "PASS"
