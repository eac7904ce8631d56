#!/usr/bin/env bash
# Integration: nestbox-launch's A/B container store through the built binaries.
# Images are composed and signed with `nestbox` from one small busybox squashfs;
# every container's policy prints its name and version.
#   install v1, v2; list shows both slots; run NAME; rollback; downgrade,
#   wrong compat and wrong arch refused; a base installs but never runs;
#   `install` and `rollback` SIGKILLed at every mutating system call (strace
#   fault injection)
#   and the new slot truncated: `run NAME` always starts v1 or v2;
#   `boot` with a tampered image starts the others and exits 1 naming it;
#   a container needing 802.1Q VLAN (absent here) is refused naming
#   CONFIG_VLAN_8021Q; nothing left behind (mounts, loop devices, cgroups).
# Issue 14: a racer renaming a signed image and an unsigned squashfs over the
#   path `run PATH` is given (500 tries: the unsigned rootfs never runs); FIFOs
#   in place of an image or a slot refused at once (verify, run, install, list,
#   boot); the rollback index (security_version): `run OLD.img` refused, a
#   deleted record rebuilt, a damaged active slot never falls back to a lower
#   index, a same-index fallback still does.
# Usage: store_test.sh NESTBOX NESTBOX_LAUNCH
set -euo pipefail
nestbox=$1 launch=$2
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
if ! command -v strace >/dev/null; then echo "SKIP: needs strace (scripts/install-deps.sh)"; exit 77; fi
# traced ARGS...: strace ARGS. LeakSanitizer cannot run under ptrace, so a
# sanitized build (scripts/sanitize.sh) checks traced runs for memory errors only.
traced() { ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace "$@"; }
work=$(mktemp -d /tmp/nestbox-store.XXXXXX)
trap 'rm -rf "$work"' EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
# Leftovers are looked for by this test's own paths and container names (other
# tests may run beside this one).
names="box vbox alpha beta gamma sleeper race rb jn ps"
cgroups() {
  local n
  for n in $names; do find /sys/fs/cgroup -maxdepth 4 -type d -name "nestbox-$n" 2>/dev/null; done | sort
}
cgroups_before=$(cgroups)

# manifest NAME VERSION [EXTRA_TOML]: prints "NAME vVERSION" when run (and
# sleeps when NAME is "sleeper").
# SV=N sets security_version, RUN=CMD the shell command.
manifest() {
  local run="${RUN:-echo $1 v$2}"
  [ "$1" != sleeper ] || run="echo $1 v$2; exec sleep 60"
  cat <<EOF
schema = 1
name = "$1"
version = $2
security_version = ${SV:-0}
version_string = "$2.0"
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ["/bin/busybox", "sh", "-c", "$run"]

$(busybox_rootfs)

[security]
capabilities = []

[cgroups]
memory = "16M"
pids_max = 16

[seccomp]
default_action = "allow"
[[seccomp.deny]]
syscalls = ["reboot"]
action = "errno"
errno = "EPERM"

[mounts]
sys = "none"
${3:-}
EOF
}

busybox_staging "$work"
export SOURCE_DATE_EPOCH=1700000000

# image NAME VERSION [EXTRA_TOML] [SIGN_ARGS...] -> $work/NAME-VERSION.img
image() {
  local name=$1 version=$2 extra=${3:-}
  shift 3 || shift $#
  manifest "$name" "$version" "$extra" > "$work/$name-$version.toml"
  signed_image "$work/$name-$version.toml" "$name" "$work/rootfs.sqfs" "$work/$name-$version.img" "$@"
}
image box 1
image box 2
image box 3 "" --arch aarch64
image alpha 1
image beta 1
image gamma 1
image sleeper 1
image sleeper 2
SV=1 image rb 1
SV=1 image rb 2
SV=2 image rb 3
SV=2 image rb 4
image vbox 1 $'[[network.interface]]\ntype = "vlan"\nparent = "eth0"\nvlan_id = 42'
# jn joins ps's network namespace: composed together (compose checks the join).
RUN="sleep 1; echo ps v1" manifest ps 1 > "$work/ps-1.toml"
manifest jn 1 $'[namespaces]\nnet = "container:ps"' > "$work/jn-1.toml"
"$nestbox" compose "$work/ps-1.toml" "$work/jn-1.toml" --out "$work/c-join" --strategy tree >/dev/null
for c in ps jn; do
  "$nestbox" sign --squashfs "$work/rootfs.sqfs" --policy "$work/c-join/runtime/$c/policy.bin" \
    --manifest "$work/$c-1.toml" -k "$work/demo.key" -o "$work/$c-1.img" >/dev/null
done
"$nestbox" sign --squashfs "$work/rootfs.sqfs" --name base --version 1 --arch x86_64 \
  --compat nestbox-demo-hgw -k "$work/demo.key" -o "$work/base-1.img" >/dev/null

store="$work/new/store"  # install creates the store and its parents
nl() {  # nl COMMAND ARGS...: the defaults first, so ARGS can override them
  local command=$1
  shift
  "$launch" "$command" --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}
expect_run() {  # expect_run NAME WANT...: `run NAME` prints one of WANT
  local out
  out=$(nl run "$1" 2>"$work/run.err") || fail "run $1: $(cat "$work/run.err")"
  local name=$1
  shift
  for want in "$@"; do [ "$out" = "$want" ] && return 0; done
  fail "run $name printed '$out', expected one of: $*"
}

echo "== install, list, run NAME, rollback"
nl install "$work/box-1.img" | grep -qx "box: installed version 1 (1.0)" || fail "install v1"
expect_run box "box v1"
nl install "$work/box-2.img" | grep -qx "box: installed version 2 (2.0)" || fail "install v2"
[ "$(nl list)" = "NAME                 STATE    INIT_PID  SLOTS (version, * active)
box                  stopped  0  a=1 (1.0)  b=2 (2.0)*" ] || fail "list: $(nl list)"
json=$(nl list --json)
[ "$json" = '[{"name":"box","state":"stopped","pid":0,"init_pid":0,"installed":true,"active":"b","slots":[{"slot":"a","present":true,"active":false,"version":1,"version_string":"1.0"},{"slot":"b","present":true,"active":true,"version":2,"version_string":"2.0"}],"trial":null,"last_trial":null}]' ] ||
  fail "list --json: $json"
expect_run box "box v2"
nl rollback box | grep -qx "box: rolled back to version 1 (1.0)" || fail "rollback"
[ "$(nl list)" = "NAME                 STATE    INIT_PID  SLOTS (version, * active)
box                  stopped  0  a=1 (1.0)*  b=2 (2.0)" ] || fail "list after rollback: $(nl list)"
expect_run box "box v1"
nl rollback box >/dev/null && expect_run box "box v2"

echo "== refusals: downgrade, compat, arch, unknown name, base"
if err=$(nl install "$work/box-1.img" 2>&1); then fail "downgrade accepted"; fi
grep -q "version 1 (1.0) is lower than the installed version 2 (use --allow-downgrade)" <<<"$err" || fail "downgrade reason: $err"
nl install "$work/box-1.img" --allow-downgrade >/dev/null || fail "--allow-downgrade refused"
expect_run box "box v1"
if err=$(nl install "$work/box-2.img" --compat other-router 2>&1); then fail "wrong compat accepted"; fi
grep -q "this device needs 'other-router'" <<<"$err" || fail "compat reason: $err"
if err=$(nl install "$work/box-3.img" 2>&1); then fail "wrong arch accepted"; fi
grep -q "aarch64" <<<"$err" || fail "arch reason: $err"
expect_run box "box v1"
set +e
err=$(nl run nosuch 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || fail "run of an unknown name: exit $rc"
grep -q "nosuch: not an image file, and no container of that name is installed" <<<"$err" || fail "unknown name: $err"
nl install "$work/base-1.img" | grep -qx "base: installed version 1 (base image, not runnable)" || fail "base install"
if err=$(nl run base 2>&1); then fail "a base ran"; fi
grep -q "a base image (no policy): not runnable" <<<"$err" || fail "base run: $err"

echo "== kernel features"
nl install "$work/vbox-1.img" >/dev/null
set +e
err=$(nl run vbox 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "vlan container: exit $rc ($err)"
grep -q "vbox: the running kernel lacks what the policy requires: 802.1Q VLAN (vlan): missing, enable CONFIG_VLAN_8021Q" <<<"$err" ||
  fail "vlan reason: $err"
if grep -qx "vbox v1" <<<"$err"; then fail "vlan container ran"; fi
# A kernel without squashfs (a probe root whose /proc/filesystems lacks it).
mkdir -p "$work/kernel/proc"
grep -v squashfs /proc/filesystems > "$work/kernel/proc/filesystems"
set +e
err=$(nl run box --kernel-probe-root "$work/kernel" 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "box on a kernel without squashfs: exit $rc ($err)"
grep -q "Squashfs (squashfs): missing, enable CONFIG_SQUASHFS" <<<"$err" || fail "squashfs reason: $err"
expect_run box "box v1"
# The squashfs decompressor is not probed before a start (that takes a full
# read of /proc/kallsyms where the kernel has no /boot/config-*): a kernel
# whose symbols lack gzip still mounts box (the mount decides); a start that
# fails names the missing decompressor after its own error.
probe="$work/kernel-nozlib"  # this kernel, but its symbols lack zlib_uncompress
mkdir -p "$probe/proc"
for top in sys dev lib boot; do ln -s "/$top" "$probe/$top"; done
for entry in /proc/*; do [ "$entry" = /proc/kallsyms ] || ln -s "$entry" "$probe$entry"; done
grep -v " zlib_uncompress$" /proc/kallsyms > "$probe/proc/kallsyms"
out=$(nl run box --kernel-probe-root "$probe" 2>&1) || fail "box with the decompressor deferred: $out"
[ "$out" = "box v1" ] || fail "box with the decompressor deferred printed: $out"
set +e
err=$(nl run box --kernel-probe-root "$probe" --cgroup-parent "../escape" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || fail "box under the cgroup parent ../escape: exit $rc"
grep -q "^nestbox-launch run: box: the running kernel lacks what the policy requires: .*(squashfs_gzip): missing, enable CONFIG_SQUASHFS, CONFIG_SQUASHFS_ZLIB$" <<<"$err" ||
  fail "failed start without the deferred reason: $err"

echo "== SIGKILL of install at every mutating system call"
pristine="$work/pristine"
store=$pristine nl install "$work/box-1.img" >/dev/null
calls=openat,write,fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat,flock,ftruncate,unlink,unlinkat,close,pwrite64
rm -rf "$store" && cp -a "$pristine" "$store"
traced -f -qq -o "$work/trace" -e trace="$calls" "$launch" install "$work/box-2.img" --store "$store" \
  --keyring "$work/keys" --compat nestbox-demo-hgw >/dev/null
kills=0 news=0 olds=0
while read -r count call; do
  for ((k = 1; k <= count; k++)); do
    rm -rf "$store" && cp -a "$pristine" "$store"
    rc=0
    (  # a subshell reaps the killed strace, so bash's "Killed" note goes to /dev/null
      traced -f -qq -o /dev/null -e trace="$call" -e inject="$call:signal=KILL:when=$k" \
        "$launch" install "$work/box-2.img" --store "$store" --keyring "$work/keys" \
        --compat nestbox-demo-hgw >/dev/null 2>&1
      exit $?
    ) 2>/dev/null || rc=$?
    [ "$rc" = 137 ] || fail "install was not killed at $call #$k (exit $rc)"
    kills=$((kills + 1))
    out=$(nl run box 2>"$work/run.err") || fail "nothing runs after a kill at $call #$k: $(cat "$work/run.err")"
    case "$out" in
      "box v1") olds=$((olds + 1)) ;;
      "box v2") news=$((news + 1)) ;;
      *) fail "after a kill at $call #$k, run printed '$out'" ;;
    esac
    nl install "$work/box-2.img" >/dev/null 2>"$work/install.err" ||
      fail "install after a kill at $call #$k: $(cat "$work/install.err")"
  done
done < <(sed -E 's/^[0-9]+ +//; s/\(.*//' "$work/trace" | grep -E '^[a-z0-9_]+$' | sort | uniq -c)
[ "$kills" -ge 40 ] || fail "only $kills kill points"
if [ "$olds" = 0 ] || [ "$news" = 0 ]; then fail "kills left old $olds / new $news times"; fi
echo "killed $kills times: old version $olds, new version $news, never neither"

echo "== SIGKILL of rollback at every mutating system call"
both="$work/both"
rm -rf "$both" && cp -a "$pristine" "$both"
store=$both nl install "$work/box-2.img" >/dev/null
rm -rf "$store" && cp -a "$both" "$store"
traced -f -qq -o "$work/trace" -e trace="$calls" "$launch" rollback box --store "$store" \
  --keyring "$work/keys" --compat nestbox-demo-hgw >/dev/null
kills=0
while read -r count call; do
  for ((k = 1; k <= count; k++)); do
    rm -rf "$store" && cp -a "$both" "$store"
    rc=0
    (
      traced -f -qq -o /dev/null -e trace="$call" -e inject="$call:signal=KILL:when=$k" \
        "$launch" rollback box --store "$store" --keyring "$work/keys" \
        --compat nestbox-demo-hgw >/dev/null 2>&1
      exit $?
    ) 2>/dev/null || rc=$?
    [ "$rc" = 137 ] || fail "rollback was not killed at $call #$k (exit $rc)"
    kills=$((kills + 1))
    expect_run box "box v1" "box v2"
    nl rollback box >/dev/null 2>"$work/install.err" || fail "rollback after a kill at $call #$k: $(cat "$work/install.err")"
  done
done < <(sed -E 's/^[0-9]+ +//; s/\(.*//' "$work/trace" | grep -E '^[a-z0-9_]+$' | sort | uniq -c)
[ "$kills" -ge 10 ] || fail "only $kills kill points in rollback"
echo "rollback killed $kills times: always bootable"

echo "== truncated slot, lost pointer"
rm -rf "$store" && cp -a "$pristine" "$store"
nl install "$work/box-2.img" >/dev/null
truncate -s 500000 "$store/box/slot-b.img"
expect_run box "box v1"
grep -q "box: active slot unusable (.*); using slot a, version 1 (1.0)" "$work/run.err" || fail "fallback note: $(cat "$work/run.err")"
[ "$(nl list)" = "NAME                 STATE    INIT_PID  SLOTS (version, * active)
box                  stopped  0  a=1 (1.0)  b=?*" ] || fail "list of a truncated slot: $(nl list)"
nl install "$work/box-2.img" >/dev/null || fail "reinstall over a truncated slot"
expect_run box "box v2"
: > "$store/box/active"
expect_run box "box v2"
truncate -s 0 "$store/box/slot-a.img"
rm "$store/box/active"
expect_run box "box v2"

echo "== boot: verify every enabled image again, skip the bad one"
store="$work/boot"
for c in alpha beta gamma; do nl install "$work/$c-1.img" >/dev/null; done
nl install "$work/base-1.img" >/dev/null
nl install "$work/vbox-1.img" >/dev/null
printf '\x01' | dd of="$store/gamma/slot-a.img" bs=1 seek=5000 conv=notrunc status=none
set +e
out=$(nl boot 2>"$work/boot.err"); rc=$?
set -e
cat "$work/boot.err"
[ "$rc" = 1 ] || fail "boot with a tampered image: exit $rc"
[ "$(sort <<<"$out")" = $'alpha: alpha v1\nbeta: beta v1' ] || fail "boot started: $out"
grep -q "^nestbox-launch boot: gamma: refused: .*squashfs: sha256 mismatch" "$work/boot.err" || fail "gamma not named"
grep -q "^nestbox-launch boot: vbox: refused: .*CONFIG_VLAN_8021Q" "$work/boot.err" || fail "vbox not named"
grep -q "^nestbox-launch boot: base: base image, not started" "$work/boot.err" || fail "base not skipped"
grep -q "^nestbox-launch boot: 2 container(s) failed: gamma (refused), vbox (refused)$" "$work/boot.err" || fail "summary"
# Images are verified several at once, but reported and started in name
# order, whichever verification ends first.
order=$(sed -n 's/^nestbox-launch boot: \([a-z]*\): \(started\|refused\|base\).*/\1/p' "$work/boot.err" | tr '\n' ' ')
[ "$order" = "alpha base beta gamma vbox " ] || fail "boot reported out of name order: $order"
traced -f -qq -e trace=clone,clone3 -o "$work/boot.trace" "$launch" boot alpha beta gamma --store "$store" \
  --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" >/dev/null 2>&1 || true
grep -q CLONE_THREAD "$work/boot.trace" || fail "boot verified its images one after the other: $(cat "$work/boot.trace")"
# jn joins ps's network namespace: boot starts ps first (jn sorts before it)
# and forks jn only once ps's init is recorded (a join of a container still
# starting is refused: "is starting or stopping (no init recorded)").
for c in ps jn; do nl install "$work/$c-1.img" >/dev/null; done
set +e
out=$(nl boot jn ps 2>"$work/join.err"); rc=$?
set -e
[ "$rc" = 0 ] || fail "boot of a joiner and the container it joins: exit $rc: $(cat "$work/join.err")"
[ "$(sort <<<"$out")" = $'jn: jn v1\nps: ps v1' ] || fail "boot jn ps: $out"
[ "$(sed -n 's/^nestbox-launch boot: \([a-z]*\): started.*/\1/p' "$work/join.err" | tr '\n' ' ')" = "ps jn " ] ||
  fail "joiner started before the container it joins: $(cat "$work/join.err")"
out=$(nl boot alpha base 2>/dev/null) || fail "boot of enabled alpha (and a base) failed"
[ "$out" = "alpha: alpha v1" ] || fail "boot alpha: $out"
if err=$(nl boot nosuch 2>&1); then fail "boot of a container that is not installed succeeded"; fi
grep -q "^nestbox-launch boot: nosuch: refused: nosuch: not installed in $store$" <<<"$err" || fail "boot nosuch: $err"

echo "== boot stopped (procd's SIGTERM), then killed (SIGKILL): its containers stop"
nl install "$work/sleeper-1.img" >/dev/null
"$launch" boot sleeper --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
  --state-dir "$work/run" >"$work/sleeper.out" 2>&1 &
boot_pid=$!
for _ in $(seq 300); do
  nl list | grep -q "^sleeper  *running" && grep -q "^sleeper: sleeper v1$" "$work/sleeper.out" && break
  sleep 0.1
done
nl list | grep -q "^sleeper  *running" || fail "sleeper did not start: $(cat "$work/sleeper.out")"
[ "$(cgroups)" != "$cgroups_before" ] || fail "no cgroup seen for the running sleeper (the leftover check would be blind)"
nl list --json | grep -q '{"name":"sleeper","state":"running","pid":[1-9][0-9]*,"init_pid":[1-9][0-9]*,"cgroups":\[.*\],"installed":true,"active":"a","slots":\[{"slot":"a","present":true,"active":true,"version":1,"version_string":"1.0"},{"slot":"b","present":false,"active":false}\],"trial":null,"last_trial":null}' ||
  fail "list --json of a running container: $(nl list --json)"
# Upgrade while it runs: the new version goes to the other slot; the running
# container keeps its (mounted) image.
nl install "$work/sleeper-2.img" >/dev/null || fail "install while running"
nl list | grep -q "^sleeper  *running  *[0-9]*  a=1 (1.0)  b=2 (2.0)\*$" || fail "list after upgrade while running: $(nl list)"
kill -TERM "$boot_pid"
rc=0
wait "$boot_pid" || rc=$?
[ "$rc" = 0 ] || fail "boot stopped by SIGTERM: exit $rc ($(cat "$work/sleeper.out"))"
nl list | grep -q "^sleeper  *stopped" || fail "sleeper still running after boot's SIGTERM: $(nl list)"
grep -q "^sleeper: sleeper v1$" "$work/sleeper.out" || fail "sleeper v1 did not run: $(cat "$work/sleeper.out")"
"$launch" boot sleeper --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
  --state-dir "$work/run" >"$work/sleeper.out" 2>&1 &
boot_pid=$!
# Running, and its main process has printed (not only its init exists).
for _ in $(seq 300); do
  nl list | grep -q "^sleeper  *running" && grep -q "^sleeper: sleeper v2$" "$work/sleeper.out" && break
  sleep 0.1
done
nl list | grep -q "^sleeper  *running" || fail "sleeper v2 did not start: $(cat "$work/sleeper.out")"
kill -KILL "$boot_pid"
wait "$boot_pid" 2>/dev/null || true  # bash notes "Killed" on stderr
for _ in $(seq 300); do nl list | grep -q "^sleeper  *running" || break; sleep 0.1; done
nl list | grep -q "^sleeper  *stopped" || fail "sleeper still running after boot was killed: $(nl list)"
grep -q "^sleeper: sleeper v2$" "$work/sleeper.out" || fail "sleeper v2 did not run: $(cat "$work/sleeper.out")"

echo "== race: the loop device gets the fd that was verified, never the path again"
store="$work/race-store"
RUN="cat /marker" manifest race 1 > "$work/race.toml"
"$nestbox" compose "$work/race.toml" --out "$work/c-race" --strategy tree >/dev/null
for kind in signed UNSIGNED; do
  cp -a "$work/c-race/race" "$work/tree-$kind"
  echo "$kind" > "$work/tree-$kind/marker"
  "$nestbox" squash "$work/tree-$kind" "$work/race-$kind.sqfs" --comp gzip >/dev/null
done
"$nestbox" sign --squashfs "$work/race-signed.sqfs" --policy "$work/c-race/runtime/race/policy.bin" \
  --manifest "$work/race.toml" -k "$work/demo.key" -o "$work/race-good.img" >/dev/null
cp "$work/race-good.img" "$work/race.img"
[ "$(nl run "$work/race.img" 2>"$work/race.err")" = signed ] || fail "the race image does not run: $(cat "$work/race.err")"
cp "$work/race-UNSIGNED.sqfs" "$work/race.img"
if nl run "$work/race.img" >/dev/null 2>&1; then fail "an unsigned squashfs ran"; fi
# The racer swaps the two files over the path, each by an atomic rename.
( while :; do
    ln -f "$work/race-good.img" "$work/race.swap" && mv -fT "$work/race.swap" "$work/race.img"
    ln -f "$work/race-UNSIGNED.sqfs" "$work/race.swap" && mv -fT "$work/race.swap" "$work/race.img"
  done ) &
racer=$!
ran=0 refused=0
# NESTBOX_RACE_TRIES: scripts/sanitize.sh runs fewer (the same path under ASan).
tries=${NESTBOX_RACE_TRIES:-500}
for ((try = 1; try <= tries; try++)); do
  out=$(nl run "$work/race.img" 2>"$work/race.err") && rc=0 || rc=$?
  case "$out" in
    *UNSIGNED*) kill "$racer"; fail "try $try: the unsigned rootfs ran ($out)" ;;
  esac
  if [ "$rc" = 0 ]; then
    [ "$out" = signed ] || { kill "$racer"; fail "try $try: printed '$out'"; }
    ran=$((ran + 1))
  else
    grep -q "^nestbox-launch run: verify $work/race.img: trailer: " "$work/race.err" ||
      { kill "$racer"; fail "try $try: refused for another reason: $(cat "$work/race.err")"; }
    refused=$((refused + 1))
  fi
done
kill "$racer"
wait "$racer" 2>/dev/null || true
[ "$ran" -gt 0 ] && [ "$refused" -gt 0 ] || fail "the race never alternated: ran $ran, refused $refused"
echo "race: $tries tries, the signed rootfs ran $ran times, the unsigned one never ($refused refused)"

echo "== FIFOs in place of an image or a slot: refused at once, never a hang"
mkfifo "$work/fifo.img"
set +e
err=$(timeout 10 "$nestbox" verify "$work/fifo.img" --keyring "$work/keys" 2>&1); rc=$?
set -e
[ "$rc" = 2 ] || fail "verify of a FIFO: exit $rc ($err)"
grep -q "verify $work/fifo.img: not a regular file" <<<"$err" || fail "verify FIFO: $err"
for command in run install; do
  set +e
  err=$(timeout 10 "$launch" "$command" "$work/fifo.img" --store "$work/fifo-store" --keyring "$work/keys" \
    --compat nestbox-demo-hgw --state-dir "$work/run" 2>&1); rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$command of a FIFO: exit $rc ($err)"
  grep -q "verify $work/fifo.img: not a regular file" <<<"$err" || fail "$command FIFO: $err"
done
store="$work/fifo-store"
nl install "$work/box-1.img" >/dev/null
mkfifo "$store/box/slot-b.img"
echo b > "$store/box/active"
out=$(timeout 10 "$launch" list --store "$store" --state-dir "$work/run") || fail "list with a FIFO slot: exit $?"
[ "$out" = "NAME                 STATE    INIT_PID  SLOTS (version, * active)
box                  stopped  0  a=1 (1.0)  b=?*" ] || fail "list with a FIFO slot: $out"
out=$(timeout 10 "$launch" run box --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
  --state-dir "$work/run" 2>"$work/run.err") || fail "run with a FIFO active slot: exit $? $(cat "$work/run.err")"
[ "$out" = "box v1" ] || fail "run with a FIFO active slot printed '$out'"
grep -q "box: active slot unusable (slot b: verify $store/box/slot-b.img: not a regular file); using slot a" "$work/run.err" ||
  fail "FIFO slot not named: $(cat "$work/run.err")"
out=$(timeout 10 "$launch" boot box --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
  --state-dir "$work/run" 2>"$work/boot.err") || fail "boot with a FIFO active slot: exit $? $(cat "$work/boot.err")"
[ "$out" = "box: box v1" ] || fail "boot with a FIFO active slot printed '$out'"
rm "$store/box/slot-a.img"
mkfifo "$store/box/slot-a.img"
for command in run boot; do
  set +e
  err=$(timeout 10 "$launch" "$command" box --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw \
    --state-dir "$work/run" 2>&1); rc=$?
  set -e
  [ "$rc" = 1 ] || fail "$command with two FIFO slots: exit $rc ($err)"
  grep -q "no bootable image for box (slot b: verify $store/box/slot-b.img: not a regular file; slot a: verify $store/box/slot-a.img: not a regular file)" <<<"$err" ||
    fail "$command with two FIFO slots: $err"
done

echo "== rollback index (security_version)"
store="$work/rb-store"
"$nestbox" verify "$work/rb-3.img" --keyring "$work/keys" | grep -qx "security version = 2" || fail "verify shows no security version"
"$nestbox" verify "$work/rb-3.img" --keyring "$work/keys" --json | grep -q '"policy_size":[0-9]*,"security_version":2,' || fail "verify --json: no security_version"
nl install "$work/rb-1.img" >/dev/null
nl install "$work/rb-3.img" >/dev/null
expect_run rb "rb v3"
[ "$(cat "$store/.state/rb.security_version")" = 2 ] || fail "record: $(cat "$store/.state/rb.security_version")"
lower="rollback refused: image rb has security version 1, lower than this device's 2 (the rollback index is never lowered, not even with --allow-downgrade)"
run_refused() {  # run_refused WHAT...: `run WHAT` exits 1 saying $lower
  set +e
  err=$(nl run "$@" 2>&1); rc=$?
  set -e
  [ "$rc" = 1 ] || fail "run $*: exit $rc ($err)"
  grep -qF "$lower" <<<"$err" || fail "run $*: $err"
  if grep -q "^rb v" <<<"$err"; then fail "run $* ran: $err"; fi
}
run_refused "$work/rb-1.img"
run_refused "$work/rb-2.img"
if err=$(nl install "$work/rb-2.img" --allow-downgrade 2>&1); then fail "--allow-downgrade lowered the index"; fi
grep -qF "$lower" <<<"$err" || fail "install rb-2: $err"
# Deleting the records does not reset them: they are rebuilt from the slots.
rm "$store/.state/rb.security_version" "$store/.state/rb.version"
run_refused "$work/rb-1.img"
[ "$(cat "$store/.state/rb.security_version")" = 2 ] || fail "record not rebuilt"
[ "$(cat "$store/.state/rb.version")" = 3 ] || fail "version record not rebuilt"
# A damaged active slot (b, index 2) does not fall back to a (index 1).
printf '\x01' | dd of="$store/rb/slot-b.img" bs=1 seek=5000 conv=notrunc status=none
set +e
err=$(nl run rb 2>&1); rc=$?
set -e
[ "$rc" = 1 ] || fail "run rb with a damaged active slot: exit $rc ($err)"
grep -qF "no bootable image for rb (slot b: verify $store/rb/slot-b.img: squashfs: sha256 mismatch; slot a: $lower)" <<<"$err" ||
  fail "run rb with a damaged active slot: $err"
set +e
out=$(nl boot rb 2>"$work/boot.err"); rc=$?
set -e
[ "$rc" = 1 ] && [ -z "$out" ] || fail "boot rb with a damaged active slot: exit $rc, printed '$out'"
grep -qF "nestbox-launch boot: rb: refused: no bootable image for rb (" "$work/boot.err" || fail "boot rb: $(cat "$work/boot.err")"
if err=$(nl rollback rb 2>&1); then fail "rollback to a lower index"; fi
# With the same index on both slots, the fallback stays.
nl install "$work/rb-3.img" >/dev/null  # nothing boots now: slot a
nl install "$work/rb-4.img" >/dev/null  # slot b, active
printf '\x01' | dd of="$store/rb/slot-b.img" bs=1 seek=5000 conv=notrunc status=none
expect_run rb "rb v3"
grep -q "rb: active slot unusable (.*); using slot a, version 3 (3.0)" "$work/run.err" || fail "same-index fallback: $(cat "$work/run.err")"

if losetup -a | grep -q "$work"; then fail "loop device left behind: $(losetup -a | grep "$work")"; fi
if grep -q "$work" /proc/self/mountinfo; then fail "mount left behind: $(grep "$work" /proc/self/mountinfo)"; fi
[ "$(cgroups)" = "$cgroups_before" ] || fail "cgroup left behind: $(cgroups)"
[ -z "$(ls -A "$work/run" 2>/dev/null)" ] || fail "state left behind: $(ls -A "$work/run")"
echo "e2e store: ok"
