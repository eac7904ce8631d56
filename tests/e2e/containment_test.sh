#!/usr/bin/env bash
# Integration: what a default container (root inside, no user namespace, zero
# capabilities, no_new_privs, own pid namespace) can do to its supervisor,
# through the built binaries (issue 14, classes 2, 3 and 9):
#   standard descriptors: a closed one becomes /dev/null, a directory or an
#   O_PATH handle is refused (run and exec), an output file, a named FIFO
#   and the caller's terminal (a pty under script(1), run and exec) reach the
#   container as relayed pipes and the host's /dev/null as its own;
#   under `nestbox-launch boot` with three containers, one runs kill(0, SIGKILL)
#   and one kill(-1, SIGKILL): boot, every launcher and the sibling survive;
#   an fd the caller of `run` and `exec` left open (the host's `/` as fd 7)
#   does not reach the container; the container's pid 1 shows no launcher
#   argv or environment; a declared device (class 4) works from a composed and
#   signed image, an undeclared node put into a signed image is dead; a
#   launcher killed outright is cleared by boot; nothing is left (state,
#   cgroups, mounts, loop devices).
# Usage: containment_test.sh NESTBOX NESTBOX_LAUNCH
set -euo pipefail
nestbox=$1 launch=$2
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
command -v setsid >/dev/null || { echo "SKIP: needs setsid (util-linux)"; exit 77; }
work=$(mktemp -d /tmp/nestbox-contain.XXXXXX)
boot_pid=
cleanup() {
  [ -z "$boot_pid" ] || kill -KILL "$boot_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
names="sibling killgroup killall"
cgroups() {
  local n
  for n in $names; do find /sys/fs/cgroup -maxdepth 4 -type d -name "nestbox-$n" 2>/dev/null; done | sort
}
cgroups_before=$(cgroups)

# manifest NAME SHELL_COMMAND [EXTRA_TOML] (no single quotes: a TOML literal string)
manifest() {
  cat <<EOF
schema = 1
name = "$1"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ['/bin/busybox', 'sh', '-c', '$2']

$(busybox_rootfs)

[security]
capabilities = []

[cgroups]
memory = "16M"
pids_max = 16

[mounts]
sys = "none"
${3:-}
EOF
}

busybox_staging "$work"
export SOURCE_DATE_EPOCH=1700000000
image() {  # image NAME SHELL_COMMAND [EXTRA_TOML] -> $work/NAME.img
  manifest "$1" "$2" "${3:-}" > "$work/$1.toml"
  signed_image "$work/$1.toml" "$1" "$work/$1.sqfs" "$work/$1.img"
}
# The attackers wait until the sibling runs.
image sibling 'echo sibling up; exec /bin/busybox sleep 600'
# killgroup also writes what would pass for one of boot's own lines, with
# terminal escapes, a NUL and a last line without newline: under boot
# (procd's syslog) it arrives quoted (launcher/quoted_output.h).
image killgroup 'echo killgroup up; printf "nestbox-launch boot: sibling: forged\033[1A\033[2K\000!\n"; /bin/busybox sleep 3; echo killgroup kills 0; printf unterminated; /bin/busybox kill -9 0; echo killgroup survived'
# killall's main process becomes `kill -9 -1` (a shell calling it would be
# among the victims); a background sleep is there to be killed.
image killall 'echo killall up; /bin/busybox sleep 600 & /bin/busybox sleep 3; echo killall kills -1; exec /bin/busybox kill -9 -1'

store="$work/store"
nl() {
  local command=$1
  shift
  "$launch" "$command" --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}
for c in $names; do nl install "$work/$c.img" >/dev/null; done

echo "== run: an fd left open by the caller (the host's / as fd 7) stays outside"
check='[ -e /proc/self/fd/7 ] && echo fd7 leaked || echo fd7 absent; /bin/busybox tr "\000" "|" </proc/1/cmdline; echo; /bin/busybox cat /proc/1/environ 2>/dev/null | /bin/busybox tr -d "\000"; echo end'
image fdcheck "$check"
nl install "$work/fdcheck.img" >/dev/null
out=$(nl run fdcheck 7</ 2>"$work/fdcheck.err") || fail "run fdcheck: $(cat "$work/fdcheck.err")"
# pid 1's cmdline: "nestbox-init" (the launcher's argv wiped); its
# environment unreadable (not dumpable) or NULs only.
[ "$out" = $'fd7 absent\nnestbox-init|\nend' ] || fail "run with fd 7 open: $out"

echo "== run/exec: standard descriptors that would hand the container the host's files"
image stdio 'for f in 0 1 2; do echo "$f $(/bin/busybox readlink /proc/self/fd/$f)"; done'
nl install "$work/stdio.img" >/dev/null
# A closed one is filled with /dev/null before the launcher opens anything of
# its own (which would otherwise land on it and be inherited).
out=$(nl run stdio <&- 2>"$work/stdio.err") || fail "run with stdin closed: $(cat "$work/stdio.err")"
[ "$(head -1 <<<"$out")" = "0 /dev/null" ] || fail "run with stdin closed: $out"
# A directory (the host's /) or an O_PATH handle is refused, on 0, 1 or 2.
expect_refused() {  # WHAT OUTPUT EXPECTED_MESSAGE
  [ "$2" = "$3" ] || fail "$1: expected '$3', got '$2'"
}
out=$(nl run stdio </ 2>&1) && fail "run with / as stdin started: $out"
expect_refused "run with / as stdin" "$out" \
  "nestbox-launch run: standard input (descriptor 0) is a directory: a container must not inherit a handle on the host's files"
out=$("$launch" exec --state-dir "$work/run" fdcheck -- /bin/busybox true 2>&1 1</) && fail "exec with / as stdout ran"
expect_refused "exec with / as stdout" "$out" \
  "nestbox-launch exec: standard output (descriptor 1) is a directory: a container must not inherit a handle on the host's files"
out=$(/usr/bin/python3 -c 'import os, sys
fd = os.open("/etc/hostname", os.O_PATH)
os.dup2(fd, 2)
os.execv(sys.argv[1], sys.argv[1:])' "$launch" run stdio --store "$store" --keyring "$work/keys" \
  --compat nestbox-demo-hgw --state-dir "$work/run" 2>/dev/null; echo "rc=$?")
[ "$out" = "rc=2" ] || fail "run with an O_PATH handle as stderr: $out"

echo "== run: the host's files and null device never reach the container as they are"
# The container runs as the host's root (no user namespace): it owns whatever
# root-owned inode it is handed, and chmod through /proc/self/fd/N needs no
# capability. An output file is relayed through a pipe; the host's /dev/null
# is replaced by the container's own.
image chmodder 'for f in 0 1 2; do /bin/busybox chmod 4755 /proc/self/fd/$f 2>/dev/null; done; echo done; echo to-stderr >&2'
nl install "$work/chmodder.img" >/dev/null
: >"$work/out.log"
chmod 0644 "$work/out.log"
nl run chmodder >"$work/out.log" 2>&1 </dev/null || fail "run chmodder: $(cat "$work/out.log")"
[ "$(stat -c %a "$work/out.log")" = 644 ] || fail "the container changed its output file's mode: $(stat -c %a "$work/out.log")"
[ "$(cat "$work/out.log")" = $'done\nto-stderr' ] || fail "relayed output: $(cat "$work/out.log")"
# procd's /dev/null on a router is root's: a private mount namespace gives
# this run one that is (the machine's own may belong to another user).
mknod "$work/null" c 1 3
chmod 0666 "$work/null"
unshare -m --propagation private sh -c 'mount --bind "$1" /dev/null && shift && exec "$@" </dev/null' sh \
  "$work/null" "$launch" run chmodder --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
  --state-dir "$work/run" >"$work/null.out" 2>&1 || fail "run chmodder with a root-owned /dev/null: $(cat "$work/null.out")"
[ "$(stat -c %a "$work/null")" = 666 ] || fail "the container changed the host's /dev/null: $(stat -c %a "$work/null")"

echo "== run/exec: the caller's terminal and named FIFOs never reach the container as they are"
# A container running as the host's root would chmod 0666 the caller's
# terminal (every user then reads what is typed there, or writes to it) or a
# named FIFO it is given. script(1) gives `run` and `exec` a pty as their
# controlling terminal and stdio; a FIFO is given as stdout. Both are
# relayed: the container sees pipes, the modes stay, the output arrives.
if command -v script >/dev/null; then
  image ttycheck 'for f in 0 1 2; do /bin/busybox chmod 0666 /proc/self/fd/$f; done; [ -t 0 ] || [ -t 1 ] || [ -t 2 ] && echo has-a-terminal; echo ttycheck done; exec /bin/busybox sleep 600'
  nl install "$work/ttycheck.img" >/dev/null
  {
    echo 'before=$(stat -c %a "$(tty)")'
    echo "\"$launch\" run ttycheck --store \"$store\" --keyring \"$work/keys\" --compat nestbox-demo-hgw --state-dir \"$work/run\" &"
    echo "for _ in \$(seq 100); do [ -s \"$work/run/ttycheck/init\" ] && break; sleep 0.1; done"
    echo 'sleep 0.5; echo "run mode $before -> $(stat -c %a "$(tty)")"'
    echo "\"$launch\" exec --state-dir \"$work/run\" ttycheck -- /bin/busybox sh -c 'for f in 0 1 2; do /bin/busybox chmod 0666 /proc/self/fd/\$f; done; [ -t 1 ] && echo exec-has-a-terminal; echo exec done'"
    echo 'echo "exec rc=$? mode $before -> $(stat -c %a "$(tty)")"'
    echo "\"$launch\" stop ttycheck --state-dir \"$work/run\" --stop-timeout 200 >/dev/null; wait"
  } >"$work/tty.sh"
  out=$(script -qec "bash $work/tty.sh" /dev/null </dev/null | tr -d '\r')
  grep -q '^ttycheck done$' <<<"$out" || fail "run on a pty: no output relayed: $out"
  grep -q '^exec done$' <<<"$out" || fail "exec on a pty: no output relayed: $out"
  grep -q 'has-a-terminal' <<<"$out" && fail "the container was handed the caller's terminal: $out"
  grep -qE '^run mode ([0-7]+) -> \1$' <<<"$out" || fail "run changed the caller's terminal: $out"
  grep -qE '^exec rc=0 mode ([0-7]+) -> \1$' <<<"$out" || fail "exec changed the caller's terminal: $out"
else
  echo "(no script(1): the pty case is skipped)"
fi
mkfifo -m 0600 "$work/fifo"
cat "$work/fifo" >"$work/fifo.out" &
fifo_reader=$!
nl run chmodder >"$work/fifo" 2>&1 </dev/null || fail "run chmodder on a FIFO"
wait "$fifo_reader"
[ "$(stat -c %a "$work/fifo")" = 600 ] || fail "the container changed the caller's FIFO: $(stat -c %a "$work/fifo")"
[ "$(cat "$work/fifo.out")" = $'done\nto-stderr' ] || fail "output through the FIFO: $(cat "$work/fifo.out")"

echo "== devices: a declared node works, an undeclared one in the image is dead"
truncate -s 1M "$work/backing"
loopdev=$(losetup -f --show "$work/backing")
cleanup_loop() { losetup -d "$loopdev" 2>/dev/null || true; }
trap 'cleanup_loop; cleanup' EXIT
major=$((0x$(stat -c %t "$loopdev"))) minor=$((0x$(stat -c %T "$loopdev")))
declared="[[rootfs.device]]
path = '/dev/disk0'
type = 'block'
major = $major
minor = $minor
mode = '0600'
[[rootfs.device]]
path = '/disk0'
type = 'block'
major = $major
minor = $minor"
image devices 'echo data >/dev/disk0 && echo declared write ok; /bin/busybox head -c 5 /dev/disk0; /bin/busybox head -c 5 /disk0' "$declared"
nl install "$work/devices.img" >/dev/null
out=$(nl run devices 2>"$work/devices.err") || fail "run devices: $(cat "$work/devices.err")"
[ "$out" = $'declared write ok\ndata\ndata' ] || fail "declared devices: $out $(cat "$work/devices.err")"
# Without the declaration the same node is no device: put into the tree by
# hand (the composer refuses undeclared nodes), it is dead in the container.
image nodevice '/bin/busybox head -c 5 /disk0 || echo undeclared refused'
mknod "$work/c-nodevice/nodevice/disk0" b "$major" "$minor" && chmod 0666 "$work/c-nodevice/nodevice/disk0"
"$nestbox" squash "$work/c-nodevice/nodevice" "$work/nodevice.sqfs" --comp gzip >/dev/null
"$nestbox" sign --squashfs "$work/nodevice.sqfs" --policy "$work/c-nodevice/runtime/nodevice/policy.bin" \
  --manifest "$work/nodevice.toml" -k "$work/demo.key" -o "$work/nodevice.img" >/dev/null
out=$(nl run "$work/nodevice.img" 2>&1) || true
grep -q "^undeclared refused$" <<<"$out" || fail "an undeclared node in the image: $out"
cleanup_loop

echo "== boot: kill(0, SIGKILL) and kill(-1, SIGKILL) from inside reach only their own container"
setsid "$launch" boot sibling killgroup killall --store "$store" --keyring "$work/keys" \
  --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/boot.out" 2>&1 &
boot_pid=$!
for _ in $(seq 100); do
  grep -q "^sibling: sibling up$" "$work/boot.out" && nl list | grep -q "^sibling  *running" && break
  sleep 0.1
done
nl list | grep -q "^sibling  *running" || fail "sibling did not start: $(cat "$work/boot.out")"
sibling_launcher=$(nl status sibling --json | sed 's/.*"pid":\([0-9]*\),.*/\1/')
echo "== exec: with fd 7 open on /, in its own session"
out=$(setsid -w "$launch" exec --state-dir "$work/run" sibling -- /bin/busybox sh -c '[ -e /proc/self/fd/7 ] && echo fd7 leaked || echo fd7 absent; /bin/busybox kill -9 0' 7</ 2>&1) && rc=0 || rc=$?
[ "$out" = "fd7 absent" ] || fail "exec with fd 7 open: $out"
[ "$rc" = 137 ] || fail "exec's kill(0) ended with $rc, expected 137 (its own group only)"
for _ in $(seq 100); do
  grep -q "boot: killall: exited" "$work/boot.out" && grep -q "boot: killgroup: exited" "$work/boot.out" && break
  sleep 0.1
done
cat "$work/boot.out"
grep -q "^killgroup: killgroup kills 0$" "$work/boot.out" || fail "killgroup did not run"
grep -q "^killall: killall kills -1$" "$work/boot.out" || fail "killall did not run"
! grep -q "killgroup survived$" "$work/boot.out" || fail "kill(0) did not reach killgroup's own shell"
kill -0 "$boot_pid" 2>/dev/null || fail "boot was killed"
kill -0 "$sibling_launcher" 2>/dev/null || fail "the sibling's launcher was killed"
nl list | grep -q "^sibling  *running" || fail "the sibling was killed: $(nl list)"
grep -q "^nestbox-launch boot: killgroup: exited 137$" "$work/boot.out" || fail "killgroup's end not reported"
grep -q "^nestbox-launch boot: killall: exited 0$" "$work/boot.out" || fail "killall's end not reported"
grep -qxF 'killgroup: nestbox-launch boot: sibling: forged?[1A?[2K?!' "$work/boot.out" || fail "killgroup's forged line not quoted"
grep -qx 'killgroup: unterminated' "$work/boot.out" || fail "killgroup's last line not ended"
! grep -q '^nestbox-launch boot: sibling: forged' "$work/boot.out" || fail "a container wrote one of boot's lines"
! grep -q $'\033' "$work/boot.out" || fail "a container's escape sequence reached boot's log"

echo "== a launcher killed outright: boot clears its state and cgroups"
kill -KILL "$sibling_launcher"
for _ in $(seq 100); do grep -q "boot: sibling: cleared" "$work/boot.out" && break; sleep 0.1; done
grep -q "^nestbox-launch boot: sibling: killed by signal 9$" "$work/boot.out" || fail "sibling's end: $(cat "$work/boot.out")"
grep -q "^nestbox-launch boot: sibling: cleared what its launcher left$" "$work/boot.out" || fail "not cleared"
[ ! -e "$work/run/sibling" ] || fail "sibling's state left: $(ls -A "$work/run/sibling")"
[ "$(cgroups)" = "$cgroups_before" ] || fail "cgroup left behind by the killed launcher: $(cgroups)"
# every container has ended: boot exits by itself
rc=0
wait "$boot_pid" || rc=$?
boot_pid=
cat "$work/boot.out"
[ "$rc" = 1 ] || fail "boot: exit $rc (killgroup ended with 137, sibling was killed: failures expected)"
grep -q "^nestbox-launch boot: 2 container(s) failed: killgroup (exited 137), sibling (killed by signal 9)$" "$work/boot.out" ||
  fail "summary: $(cat "$work/boot.out")"

if losetup -a | grep -q "$work"; then fail "loop device left behind: $(losetup -a | grep "$work")"; fi
if grep -q "$work" /proc/self/mountinfo; then fail "mount left behind: $(grep "$work" /proc/self/mountinfo)"; fi
[ "$(cgroups)" = "$cgroups_before" ] || fail "cgroup left behind: $(cgroups)"
[ -z "$(ls -A "$work/run" 2>/dev/null)" ] || fail "state left behind: $(ls -A "$work/run")"
echo "e2e containment: ok"
