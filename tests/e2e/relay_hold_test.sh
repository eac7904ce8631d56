#!/usr/bin/env bash
# Integration: a container's standard output outlives the container. `run`
# relays an output file through a pipe (launcher/stdio_relay.h); container A
# passes its end of that pipe over an abstract unix socket to container B,
# which joins A's network namespace and holds it. `stop A` must end A's
# `run` within the relay's grace period (before: it waited until B ended);
# the same for `boot`, whose container writes through a quoting relay.
# Usage: relay_hold_test.sh NESTBOX NESTBOX_LAUNCH FDPASS_PROBE
set -euo pipefail
nestbox=$1 launch=$2 fdpass=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces)"; exit 77; fi
work=$(mktemp -d /tmp/nestbox-relayhold.XXXXXX)
run_a='' run_b=''
cleanup() {
  "$launch" stop --state-dir "$work/run" rhb --stop-timeout 200 >/dev/null 2>&1 || true
  "$launch" stop --state-dir "$work/run" rha --stop-timeout 200 >/dev/null 2>&1 || true
  for p in $run_a $run_b; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"

busybox_staging "$work"
cp "$fdpass" "$work/staging/bin/fdpass"
export SOURCE_DATE_EPOCH=1700000000
manifest() {  # NAME SHELL_COMMAND [EXTRA_TOML]
  cat <<EOT
schema = 1
name = "$1"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"

[process]
command = ['/bin/busybox', 'sh', '-c', '$2']

$(busybox_rootfs /tmp | sed 's#"/bin/busybox"]#"/bin/busybox", "/bin/fdpass"]#')

[security]
capabilities = []

[mounts]
sys = "none"
${3:-}
EOT
}
manifest rha 'echo A up; /bin/fdpass send nestbox-relay-hold; exec /bin/busybox sleep 600' >"$work/rha.toml"
manifest rhb '/bin/fdpass recv nestbox-relay-hold' $'[namespaces]\nnet = "container:rha"' >"$work/rhb.toml"
"$nestbox" compose "$work/rha.toml" "$work/rhb.toml" --out "$work/c" --strategy tree >/dev/null
"$nestbox" squash "$work/c/rha" "$work/rootfs.sqfs" --comp gzip >/dev/null
for c in rha rhb; do
  "$nestbox" sign --squashfs "$work/rootfs.sqfs" --policy "$work/c/runtime/$c/policy.bin" \
    --manifest "$work/$c.toml" -k "$work/demo.key" -o "$work/$c.img" >/dev/null
done
nl() {
  local command=$1
  shift
  "$launch" "$command" --store "$work/store" --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" "$@"
}

# held_by_b WHAT A_LINE SECONDS COMMAND...: A started by COMMAND (run or boot),
# B given A's output pipe; once A is stopped, COMMAND ends within SECONDS
# and A's output holds A_LINE.
held_by_b() {
  local what=$1 a_line=$2 seconds=$3
  shift 3
  "$@" >"$work/a.out" 2>"$work/a.err" </dev/null &
  run_a=$!
  for _ in $(seq 100); do [ -s "$work/run/rha/init" ] && break; sleep 0.1; done
  nl run "$work/rhb.img" >"$work/b.out" 2>"$work/b.err" </dev/null &
  run_b=$!
  for _ in $(seq 100); do grep -q 'received, holding' "$work/b.err" 2>/dev/null && break; sleep 0.1; done
  grep -q 'received, holding' "$work/b.err" || fail "$what: B did not receive A's stdout: $(cat "$work/a.err" "$work/b.err")"
  "$launch" stop --state-dir "$work/run" rha --stop-timeout 200 >/dev/null || fail "$what: stop A: $(cat "$work/a.err")"
  for _ in $(seq $((seconds * 10))); do kill -0 "$run_a" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$run_a" 2>/dev/null && fail "$what: still waits for A's output $seconds s after stop (B holds the pipe)"
  wait "$run_a" || true
  run_a=
  grep -q "^$a_line\$" "$work/a.out" || fail "$what: A's output was lost: $(cat "$work/a.out")"
  "$launch" stop --state-dir "$work/run" rhb --stop-timeout 200 >/dev/null || fail "$what: stop B"
  wait "$run_b" || true
  run_b=
}

echo "== A's relayed stdout, held by B after A stops"
held_by_b run "A up" 6 nl run "$work/rha.img"

# Under boot the container's output goes through its launcher's quoting
# relay (launcher/quoted_output.h): B holding that pipe must not keep A's
# launcher, nor boot, once A has stopped.
echo "== the same under boot: A's quoted output, held by B"
nl install "$work/rha.img" >/dev/null
held_by_b boot "rha: A up" 8 nl boot rha
echo "PASS"
