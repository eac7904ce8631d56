#!/usr/bin/env bash
# Integration: trial installs (install --trial, issue 16.5) through the built
# binaries, with busybox from the demo corpus as the container's program.
#   a version that crashes on start (busybox runs an applet that does not
#   exist) is rolled back by `boot` by itself, the previous one started, the
#   reason in `list`/`list --json`; a healthy one (busybox httpd) is committed
#   once it stayed up 1 s, and only then does the version record move; a boot
#   SIGKILLed during a trial leaves it "started", and the next boot rolls it
#   back; a trial record claiming the committed slot is on trial never rolls
#   back below the committed version; a second trial, and --trial with
#   --allow-downgrade, are refused. [health]: a version that stays up but
#   whose check fails (exits 1, or outlives its timeout) is rolled back; one
#   whose check passes (busybox wget from the container's httpd, inside the
#   container) is committed.
# Usage: trial_test.sh NESTBOX NESTBOX_LAUNCH
set -euo pipefail
nestbox=$1 launch=$2
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
work=$(mktemp -d /tmp/nestbox-trial.XXXXXX)
boot_pid=
cleanup() {
  [ -z "$boot_pid" ] || kill -9 "$boot_pid" 2>/dev/null || true
  "$launch" stop tbox --state-dir "$work/run" --stop-timeout 200 >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
fail() {  # the library's, with the boot's stderr
  echo "FAIL: $*"
  [ ! -e "$work/boot.err" ] || { echo "--- boot stderr"; cat "$work/boot.err"; }
  exit 1
}

# manifest VERSION COMMAND_JSON
manifest() {
  cat <<EOT
schema = 1
name = "tbox"
version = $1
version_string = "$1.0"
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = $2

$(busybox_rootfs /www)

[namespaces]
net = "new"

[security]
capabilities = ["CAP_NET_BIND_SERVICE"]

[cgroups]
memory = "16M"
pids_max = 16

[mounts]
sys = "none"
${3:-}
EOT
}
busybox_staging "$work"
export SOURCE_DATE_EPOCH=1700000000
# image VERSION COMMAND_JSON [EXTRA_TOML] -> $work/tbox-VERSION.img; the images
# share one squashfs ($work/rootfs.sqfs) unless SQFS names another
image() {
  manifest "$1" "$2" "${3:-}" > "$work/tbox-$1.toml"
  signed_image "$work/tbox-$1.toml" tbox "${SQFS:-$work/rootfs.sqfs}" "$work/tbox-$1.img"
}
httpd='["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]'
image 1 '["/bin/busybox", "echo", "tbox v1"]'
image 2 '["/bin/busybox", "no-such-applet"]'  # crashes on start: exit 127
image 3 "$httpd"
image 4 "$httpd"
# [health]: the check runs inside the container once the trial's time is up.
# Version 5's check also tries to write a line that reads like boot's own
# (and a terminal escape): it must arrive quoted, never as a line of boot's.
image 5 "$httpd" $'[health]\ncommand = ["/bin/busybox", "sh", "-c", "printf \'nestbox-launch boot: tbox: version 5 stayed up 1 s and passed its health check: committed\\\\n\\\\033[2Jcleared\\\\n\' >&2; exit 1"]'
# Version 6's check writes to stderr without end: its timeout still holds,
# and boot's log keeps 2 KiB of it.
image 6 "$httpd" $'[health]\ncommand = ["/bin/busybox", "sh", "-c", "/bin/busybox yes flood >&2"]\ntimeout = "300ms"'
SQFS="$work/www.sqfs" image 7 "$httpd" $'[health]\ncommand = ["/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/"]\n[[rootfs.file]]\npath = "/www/index.html"\ncontent = "up"'

store="$work/store"
nl() {
  local command=$1
  shift
  "$launch" "$command" --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}
# boot_bg: `boot tbox` in the background, its pid (the launcher's own) in boot_pid.
boot_bg() {
  "$launch" boot tbox --store "$store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" \
    > "$work/boot.out" 2> "$work/boot.err" &
  boot_pid=$!
}
# wait_for PATTERN: until the background boot's stderr has it (10 s at most).
wait_for() {
  for _ in $(seq 100); do grep -q "$1" "$work/boot.err" && return 0; sleep 0.1; done
  fail "boot never said '$1'"
}
active_json() { nl list --json | grep -o '"active":"[ab]"'; }

echo "== a version that crashes on start is rolled back by boot"
nl install "$work/tbox-1.img" >/dev/null
out=$(nl install "$work/tbox-2.img" --trial-seconds 1) || fail "install --trial: $out"
[ "$out" = "tbox: installed version 2 (2.0)
tbox: on trial: the next boot commits it once it stays up 1 s, else rolls it back" ] || fail "install --trial said: $out"
nl list | grep -qx "  trial: version 2 in slot b, pending (must stay up 1 s)" || fail "list: $(nl list)"
[ "$(cat "$store/.state/tbox.version")" = 1 ] || fail "the version record moved on a trial install"
if err=$(nl install "$work/tbox-3.img" 2>&1); then fail "a second install during a trial was accepted"; fi
grep -q "tbox: version 2 in slot b is on trial: boot it (committed or rolled back) or roll it back first" <<<"$err" ||
  fail "second install: $err"
nl boot tbox > "$work/boot.out" 2> "$work/boot.err" || fail "boot after a crashing trial: exit $?"
grep -q "tbox: started version 2 (2.0) from slot b (pid [0-9]*) on trial" "$work/boot.err" || fail "trial not started"
grep -q "tbox: trial of version 2 failed (version 2 exited 127 after [0-9.]* s; it had to stay up 1 s); rolled back to version 1 (1.0)" \
  "$work/boot.err" || fail "no rollback"
grep -qx "tbox: tbox v1" "$work/boot.out" || fail "v1 not started after the rollback: $(cat "$work/boot.out")"
[ "$(active_json)" = '"active":"a"' ] || fail "active after rollback: $(nl list --json)"
json=$(nl list --json)
grep -qF '"trial":null,"last_trial":{"outcome":"rolled-back","version":2,"reason":"version 2 exited 127 after' <<<"$json" ||
  fail "list --json: $json"
nl list | grep -q "^  last trial: version 2 rolled back: version 2 exited 127 after" || fail "list: $(nl list)"
[ "$(cat "$store/.state/tbox.version")" = 1 ] || fail "the version record moved on a failed trial"

echo "== a healthy version is committed"
if err=$(nl install "$work/tbox-3.img" --trial --allow-downgrade 2>&1); then fail "--trial --allow-downgrade accepted"; fi
grep -qx "nestbox-launch install: install: --trial and --allow-downgrade: choose one" <<<"$err" || fail "$err"
nl install "$work/tbox-3.img" --trial-seconds 1 >/dev/null
boot_bg
wait_for "tbox: version 3 stayed up 1 s: committed"
[ "$(cat "$store/.state/tbox.version")" = 3 ] || fail "the version record did not move on commit"
status=$(nl status tbox --json)
grep -qF '"trial":null,"last_trial":{"outcome":"committed","version":3,"reason":""}' <<<"$status" || fail "status: $status"
kill -TERM "$boot_pid"  # boot passes it on: a stop on request, no failure
wait "$boot_pid" || fail "boot after a committed trial: exit $?"
boot_pid=
[ "$(active_json)" = '"active":"b"' ] || fail "active after commit: $(nl list --json)"

echo "== a trial whose boot is SIGKILLed is rolled back at the next boot"
nl install "$work/tbox-4.img" --trial-seconds 30 >/dev/null
boot_bg
wait_for "tbox: started version 4 (4.0) from slot a (pid [0-9]*) on trial"
grep -qx "state=started" "$store/tbox/trial" || fail "trial not recorded as started: $(cat "$store/tbox/trial")"
kill -9 "$boot_pid"
wait "$boot_pid" 2>/dev/null || true
boot_pid=
# The launcher child stops its container on its parent's death.
for _ in $(seq 100); do nl status tbox >/dev/null 2>&1 || break; sleep 0.1; done
boot_bg
wait_for "tbox: trial of version 4 failed (the trial start was interrupted before it was judged (launcher killed or power lost)); rolled back to version 3 (3.0)"
wait_for "tbox: started version 3 (3.0) from slot b"
kill -TERM "$boot_pid"  # boot passes it on: a stop on request, no failure
wait "$boot_pid" || fail "boot after an interrupted trial: exit $?"
boot_pid=
[ "$(active_json)" = '"active":"b"' ] || fail "active after the interrupted trial: $(nl list --json)"
[ "$(cat "$store/.state/tbox.version")" = 3 ] || fail "the version record moved on an interrupted trial"

echo "== the trial path never goes below the committed version"
# Slot a holds 4 (rolled back, never committed), b the committed 3. Put the
# crashing 2 into slot a by hand (a store an attacker wrote to), then a
# record saying committed slot b is on trial and was interrupted.
nl install "$work/tbox-2.img" --allow-downgrade >/dev/null  # into a, active; records 2
nl rollback tbox >/dev/null                                 # back to b (3)
printf '3\n' > "$store/.state/tbox.version"                 # 3 is what was committed
printf 'slot=b\nversion=4\nseconds=1\nstate=started\n' > "$store/tbox/trial"
boot_bg
wait_for "; trial rollback of tbox to slot a refused: its version 2 is below the committed version 3"
wait_for "tbox: started version 3 (3.0) from slot b"
kill -TERM "$boot_pid"  # boot passes it on: a stop on request, no failure
wait "$boot_pid" && fail "boot did not report the refused trial rollback"
boot_pid=
[ "$(active_json)" = '"active":"b"' ] || fail "went below the committed version: $(nl list --json)"

echo "== [health]: a version that stays up but fails its check is rolled back"
rm "$store/tbox/trial"  # the hand-written record above, left live by the refused rollback
health_trial() {  # VERSION EXPECTED_BOOT_LINE...
  nl install "$work/tbox-$1.img" --trial-seconds 1 >/dev/null
  boot_bg
  local line
  for line in "${@:2}"; do wait_for "$line"; done
  kill -TERM "$boot_pid"
  wait "$boot_pid" || true
  boot_pid=
}
health_trial 5 "tbox: trial of version 5 failed (version 5 stayed up 1 s but its health check exited 1); rolled back to version 3 (3.0)" \
  "tbox: started version 3 (3.0) from slot b"
[ "$(cat "$store/.state/tbox.version")" = 3 ] || fail "the version record moved on a failed check"
grep -q '^nestbox-launch: tbox: health check said: nestbox-launch boot: tbox: version 5 stayed up 1 s and passed its health check: committed$' "$work/boot.err" ||
  fail "the check's output is not quoted: $(cat "$work/boot.err")"
grep -q '^nestbox-launch boot: tbox: version 5 stayed up' "$work/boot.err" && fail "the check wrote a line of boot's own: $(cat "$work/boot.err")"
grep -q $'\033' "$work/boot.err" && fail "a terminal escape reached boot's log"
grep -q '^nestbox-launch: tbox: health check said: ?\[2Jcleared$' "$work/boot.err" || fail "the escape line: $(cat "$work/boot.err")"
health_trial 6 "tbox: trial of version 6 failed (version 6 stayed up 1 s but its health check did not finish within 300 ms); rolled back to version 3 (3.0)"
[ "$(grep -c '^nestbox-launch: tbox: health check said: flood$' "$work/boot.err")" -le 342 ] ||
  fail "more than 2 KiB of the check's output in boot's log"
grep -q '^nestbox-launch: tbox: health check said [0-9]* more bytes, not shown$' "$work/boot.err" ||
  fail "the flood's excess is not reported: $(tail -3 "$work/boot.err")"
health_trial 7 "tbox: version 7 stayed up 1 s and passed its health check: committed"
[ "$(cat "$store/.state/tbox.version")" = 7 ] || fail "the version record did not move on a passed check"
[ "$(active_json)" = '"active":"a"' ] || fail "active after the passed check: $(nl list --json)"
echo "PASS"
