#!/usr/bin/env bash
# Case 2 for real (examples/untrusted-app.toml): the untrusted weather-app with
# the real, dynamically linked busybox httpd of the demo corpus
# (scripts/corpus.sh), unprivileged in a user namespace, over its separately
# signed shared base, on macvlan private.
#  1. `nestbox learn-seccomp` runs httpd in the composed tree (as the manifest
#     confines it) with a wget probe and writes the allow-list; it holds what
#     the glibc loader and httpd need (setuid setgid pread64 set_robust_list
#     prlimit64 rseq alarm clone) and the shipped example's list covers it.
#  2. That list pasted into the manifest: the app starts and serves its page to
#     a LAN namespace behind the router's bridge; a sibling app's namespace
#     (macvlan private on the same bridge) cannot reach it, though it reaches
#     the LAN. The shipped example does the same.
#  3. The learned list without pread64: the container fails (the glibc loader
#     exits 127), so the list is necessary.
# Usage: appstore_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
for t in ip nsenter busybox curl python3 mkfs.ext4 apt-get dpkg-deb; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the example is built for x86_64"; exit 77; }
if ! staging=$(bash "$src/scripts/corpus.sh" 2>/dev/null); then
  echo "SKIP: the demo corpus could not be fetched with apt-get download (scripts/corpus.sh)"
  exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
file -L "$staging/bin/busybox" 2>/dev/null | grep -q "dynamically linked" || fail "corpus busybox is not the dynamic one"
work=$(mktemp -d /tmp/nestbox-appstore.XXXXXX)
R=nba$$-r L=nba$$-l S=nba$$-s
app_pid=
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    "$launch" stop weather-app --state-dir "$work/run" --stop-timeout 2000 >/dev/null 2>&1 || kill "$app_pid" 2>/dev/null
    wait "$app_pid" 2>/dev/null || true
  fi
  for n in "$R" "$L" "$S"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000

# --- manifests next to the corpus, as in a firmware tree ---------------------------
mkdir -p "$work/m"
ln -s "$staging" "$work/m/staging"
# variant NAME ALLOW-FILE: the shipped example, its storage in the test's
# directory and (unless ALLOW-FILE is "-") its allow-list replaced by the names in ALLOW-FILE.
variant() {
  python3 - "$src/examples/untrusted-app.toml" "$work/m/$1.toml" "$2" "$work/$1-data.img" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace('source = "/srv/nestbox/weather-app/data.img"', f'source = "{sys.argv[4]}"')
if sys.argv[3] != "-":
    names = open(sys.argv[3]).read().split()
    block = "allow = [\n" + "".join(f'  "{n}",\n' for n in names) + "]\n"
    text, n = re.subn(r'(?ms)^(\[seccomp\]\n(?:[^\[\n].*\n)*?)allow = \[.*?^\]\n', lambda m: m.group(1) + block, text)
    assert n == 1, "no [seccomp] allow in the example"
open(sys.argv[2], "w").write(text)
PY
}
names_of() {  # TOML FILE -> seccomp.allow, one per line
  python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["seccomp"]["allow"]))' "$1"
}

# --- 1. learn -----------------------------------------------------------------------
variant shipped -
"$nestbox" compose "$work/m/shipped.toml" --out "$work/tree" --strategy tree --comp gzip >/dev/null
tree=$work/tree/weather-app
[ -x "$tree/bin/busybox" ] || fail "no composed tree at $tree"
probe='for i in $(seq 100); do o=$(curl -s --max-time 1 http://127.0.0.1:8080/) && break; sleep 0.1; done; echo "probe got: $o" >&2; [ "$o" = "<html><body>Sunny, 21 C</body></html>" ]'
"$nestbox" learn-seccomp "$work/m/shipped.toml" --root "$tree" --probe "$probe" --timeout 20000 -o "$work/learned.toml"
cat "$work/learned.toml"
grep -qx '\[seccomp\]' "$work/learned.toml" || fail "no [seccomp] table"
grep -q "in a user namespace (host uid 101000), capabilities: none" "$work/learned.toml" || fail "not run as the manifest says"
names_of "$work/learned.toml" > "$work/learned.txt"
sort -c "$work/learned.txt" || fail "learned list not sorted"
for s in setuid setgid pread64 set_robust_list prlimit64 rseq alarm clone execve accept sendfile; do
  grep -qx "$s" "$work/learned.txt" || fail "learned list lacks $s"
done
# A run that did not work teaches nothing: a failing probe writes no list.
rc=0
err=$("$nestbox" learn-seccomp "$work/m/shipped.toml" --root "$tree" --probe "exit 3" -o "$work/bad.toml" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a failed probe: exit $rc, expected 1"
grep -qF "nestbox learn-seccomp: the probe exited with status 3: the service did not do its job, so the list would be incomplete; nothing learned is written" <<<"$err" || fail "failed probe: $err"
[ ! -e "$work/bad.toml" ] || fail "a list was written after a failed probe"
names_of "$src/examples/untrusted-app.toml" | sort > "$work/shipped.txt"
missing=$(comm -23 "$work/learned.txt" "$work/shipped.txt" | tr '\n' ' ')
[ -z "$missing" ] || fail "the shipped example lacks learned syscalls: $missing"

# --- the router host, the LAN and a sibling app --------------------------------------
ip netns add "$R"; ip netns add "$L"; ip netns add "$S"
ip -n "$R" link set lo up
ip -n "$R" link add br-lan type bridge
ip -n "$R" addr add 192.168.1.1/24 dev br-lan
ip -n "$R" link set br-lan up
ip -n "$R" link add lanp type veth peer name lan0 netns "$L"
ip -n "$R" link set lanp master br-lan up
ip -n "$L" link set lo up
ip -n "$L" addr add 192.168.1.100/24 dev lan0
ip -n "$L" link set lan0 up
# The sibling app's network, as the launcher makes it for an app (macvlan private on br-lan).
ip -n "$R" link add sib0 link br-lan type macvlan mode private
ip -n "$R" link set sib0 netns "$S"
ip -n "$S" addr add 192.168.1.51/24 dev sib0
ip -n "$S" link set sib0 up

mkdir -p "$work/keys"
"$nestbox" keygen -o "$work/vendor" >/dev/null
cp "$work/vendor.pub" "$work/keys/"
build() {  # VARIANT: compose (overlay), sign base and app
  "$nestbox" compose "$work/m/$1.toml" --out "$work/out-$1" --comp gzip >/dev/null
  "$nestbox" sign -k "$work/vendor.key" --squashfs "$work/out-$1/base/appbase.sqfs" --name appbase --version 1 \
    --arch x86_64 --compat nestbox-demo-hgw -o "$work/$1-base.img" >/dev/null
  "$nestbox" sign -k "$work/vendor.key" --squashfs "$work/out-$1/weather-app.layer.sqfs" \
    --policy "$work/out-$1/runtime/weather-app/policy.bin" --manifest "$work/m/$1.toml" -o "$work/$1.img" >/dev/null
}
run_app() {  # VARIANT: in the router namespace, in the background
  nsenter --net="/run/netns/$R" "$launch" run "$work/$1.img" --base "$work/$1-base.img" --keyring "$work/keys" \
    --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/$1.log" 2>&1 &
  app_pid=$!
}
page() { ip netns exec "$1" curl -s --max-time "$2" http://192.168.1.50:8080/; }
serve_check() {  # VARIANT
  build "$1"
  run_app "$1"
  local o="" i
  for i in $(seq 100); do
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/$1.log"; fail "$1: the app exited"; }
    o=$(page "$L" 1) && break
    sleep 0.1
  done
  echo "$1: LAN got: $o"
  [ "$o" = "<html><body>Sunny, 21 C</body></html>" ] || { cat "$work/$1.log"; fail "$1: LAN did not get the page"; }
  local init pids p
  init=$(cat "$work/run/weather-app/init")
  pids="$init $(cat /proc/"$init"/task/*/children 2>/dev/null)"
  for p in $pids; do
    if grep -q "^/bin/busybox.httpd" <(tr '\0' ' ' < "/proc/$p/cmdline"); then
      grep -qE "^Uid:\s+101000\s" "/proc/$p/status" || fail "$1: httpd is not host uid 101000"
      grep -qE "^Seccomp:\s+2$" "/proc/$p/status" || fail "$1: httpd not under seccomp"
      grep -qE "^CapEff:\s+0+$" "/proc/$p/status" || fail "$1: httpd has capabilities"
      grep -q "ld-linux" "/proc/$p/maps" || fail "$1: httpd is not the dynamic busybox"
      echo "$1: httpd pid $p: host uid 101000, seccomp filter, no capabilities, dynamically linked"
    fi
  done
  ip netns exec "$S" busybox ping -c 1 -W 2 192.168.1.100 >/dev/null || fail "$1: the sibling is not on the LAN"
  if o=$(page "$S" 2); then fail "$1: the sibling app reached the app: $o"; fi
  echo "$1: sibling (macvlan private): LAN reachable, app not"
  "$launch" stop weather-app --state-dir "$work/run" --stop-timeout 2000 >/dev/null
  wait "$app_pid" || true
  app_pid=
}

# --- 2. the learned list pasted, then the example as shipped ---------------------------
variant learned "$work/learned.txt"
serve_check learned
serve_check shipped

# --- 3. one learned name less: the app does not start ----------------------------------
grep -vx pread64 "$work/learned.txt" > "$work/nopread.txt"
variant nopread "$work/nopread.txt"
build nopread
rc=0
timeout 30 nsenter --net="/run/netns/$R" "$launch" run "$work/nopread.img" --base "$work/nopread-base.img" \
  --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/nopread.log" 2>&1 || rc=$?
cat "$work/nopread.log"
echo "without pread64: nestbox-launch run exited $rc"
# The glibc loader cannot read the libraries' headers and exits 127; it cannot
# even say so ("error while loading shared libraries": its writev is not on the list).
[ "$rc" = 127 ] || fail "without pread64: expected the loader's exit status 127, got $rc"
# --- 4. app settings and [ipc.ubus] (issue 17.5, 17.6) ------------------------------------
# The example's settings applied: memory, swap, CPU quota and pids limits in
# the app's cgroups; its /data owned by the app's user through the user
# namespace (owner = "process"); and the router's management bus: ubusd's
# socket bound into the container, the ACL compose wrote (exact JSON),
# enforced by a test server with ubusd's rules (tests/e2e/ubus_acl_server.py,
# SO_PEERCRED) on requests that the corpus's real perl makes from inside the
# container as the app's user. Then the bind fails closed: a regular file or
# a symlink where the socket should be refuses the start.
ubus_pid=
ipc_cleanup() { if [ -n "$ubus_pid" ]; then kill "$ubus_pid" 2>/dev/null || true; wait "$ubus_pid" 2>/dev/null || true; ubus_pid=; fi; }
trap 'ipc_cleanup; cleanup' EXIT
mkdir -p "$work/ubus" "$work/acl.d"
python3 - "$src/examples/untrusted-app.toml" "$work/m/ipc.toml" "$work/ipc-data.img" "$work/ubus/ubus.sock" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
text = text.replace('source = "/srv/nestbox/weather-app/data.img"', f'source = "{sys.argv[3]}"')
# The app: the corpus's perl, asking the bus as the app's user, then writing /data.
client = r"""$|=1; for my $r ("network.interface.wan status", "network.interface.wan down", "system board", "system reboot", "network.interface.lan status") { socket(my $s, 1, 1, 0) or die "socket: $!"; connect($s, pack("S Z108", 1, "/var/run/ubus/ubus.sock")) or die "connect: $!"; syswrite($s, "call $r\n"); my $b = ""; sysread($s, $b, 256); print "ubus: $b"; close($s); } open(my $f, ">", "/data/written") or die "write /data: $!"; print $f "by the app\n"; close($f) or die "close: $!"; print "data: written\n"; sleep 120;"""
text, n = re.subn(r'(?m)^command = \[.*\]$', 'command = ["/usr/bin/perl", "-e", ' + json.dumps(client).replace('\\', '\\\\') + ']', text)
assert n == 1
text = text.replace('binaries = ["/bin/busybox"]', 'binaries = ["/bin/busybox", "/usr/bin/perl"]')
# perl's needs are not the httpd's learned list: the filter allows by default here.
text, n = re.subn(r'(?ms)^default_action = "errno"\ndefault_errno = "ENOSYS"\nallow = \[.*?^\]\n', 'default_action = "allow"\n', text)
assert n == 1
text = text.replace('socket = "/var/run/ubus/ubus.sock"', f'socket = "{sys.argv[4]}"\ntarget = "/var/run/ubus/ubus.sock"')
open(sys.argv[2], "w").write(text)
PY
grep -q '"/usr/bin/perl", "-e"' "$work/m/ipc.toml" || fail "ipc variant: no perl client"
build ipc
acl=$work/out-ipc/runtime/weather-app/ubus-acl.json
printf '%s\n' '{' '	"user": "weather-app",' '	"access": {' '		"network.interface.wan": {' '			"methods": [' \
  '				"status"' '			]' '		},' '		"system": {' '			"methods": [' '				"board",' '				"info"' '			]' '		}' '	}' '}' > "$work/acl-expected.json"
diff -u "$work/acl-expected.json" "$acl" || fail "the generated ACL differs"
[ "$(stat -c %a "$acl")" = 644 ] || fail "ACL mode $(stat -c %a "$acl"), expected 644"
[ "$(cat "$work/out-ipc/runtime/weather-app/ubus-passwd")" = "weather-app:x:101000:101000:nestbox weather-app:/var/empty:/bin/false" ] ||
  fail "passwd line: $(cat "$work/out-ipc/runtime/weather-app/ubus-passwd")"
[ "$(cat "$work/out-ipc/runtime/weather-app/ubus-group")" = "weather-app:x:101000:" ] || fail "group line"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$acl" || fail "ACL is not JSON"
# (in the base or the layer: the overlay's root has it either way)
{ unsquashfs -lls "$work/out-ipc/base/appbase.sqfs"; unsquashfs -lls "$work/out-ipc/weather-app.layer.sqfs"; } > "$work/layer.txt"
grep -E '^-rw-r--r-- +[0-9]+/[0-9]+ +0 .*/var/run/ubus/ubus.sock$' "$work/layer.txt" >/dev/null ||
  { grep -E 'var|ubus' "$work/layer.txt"; fail "no empty mount point file for the socket in the image"; }
# The firmware's part: the list root-owned in acl.d, the account in passwd/group.
install -m 0644 -o 0 -g 0 "$acl" "$work/acl.d/nestbox-weather-app.json"
{ echo "root:x:0:0:root:/root:/bin/sh"; cat "$work/out-ipc/runtime/weather-app/ubus-passwd"; echo "nobody:x:65534:65534::/:/bin/false"; } > "$work/passwd"
{ echo "root:x:0:"; cat "$work/out-ipc/runtime/weather-app/ubus-group"; echo "nogroup:x:65534:"; } > "$work/group"
python3 "$src/tests/e2e/ubus_acl_server.py" "$work/ubus/ubus.sock" "$work/acl.d" "$work/passwd" "$work/group" "$work/ubus.log" &
ubus_pid=$!
for i in $(seq 300); do grep -qx ready "$work/ubus.log" 2>/dev/null && break; sleep 0.1; done
grep -qx "loading $work/acl.d/nestbox-weather-app.json" "$work/ubus.log" || { cat "$work/ubus.log"; fail "the server did not load the ACL"; }
run_app ipc
for i in $(seq 150); do
  grep -q "^data: written" "$work/ipc.log" 2>/dev/null && break
  kill -0 "$app_pid" 2>/dev/null || break
  sleep 0.1
done
cat "$work/ipc.log"
printf '%s\n' "ubus: ok network.interface.wan status" "ubus: denied network.interface.wan down" "ubus: ok system board" \
  "ubus: denied system reboot" "ubus: denied network.interface.lan status" "data: written" > "$work/ipc-expected.txt"
grep -E "^(ubus|data):" "$work/ipc.log" | diff -u "$work/ipc-expected.txt" - || fail "ipc: the app's calls were not decided by the ACL"
grep -qx "peer uid=101000 gid=101000: network.interface.wan status: ok" "$work/ubus.log" || { cat "$work/ubus.log"; fail "the server did not see host uid 101000"; }
init=$(cat "$work/run/weather-app/init")
grep -qE "^/var/run/ubus/ubus.sock " <(awk '{print $5, $10}' "/proc/$init/mountinfo") || fail "no socket mount in the container"
cgfile() {  # CONTROLLER FILE: the value in the app's cgroup (v1 controllers)
  local rel; rel=$(awk -F: -v c="$1" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$init/cgroup")
  cat "/sys/fs/cgroup/$1$rel/$2"
}
[ "$(cgfile memory memory.limit_in_bytes)" = 33554432 ] || fail "memory limit $(cgfile memory memory.limit_in_bytes)"
if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]; then
  [ "$(cgfile memory memory.memsw.limit_in_bytes)" = 33554432 ] || fail "swap limit not 0"
fi
[ "$(cgfile cpu cpu.cfs_quota_us)" = 20000 ] || fail "cpu quota $(cgfile cpu cpu.cfs_quota_us)"
[ "$(cgfile cpu cpu.cfs_period_us)" = 100000 ] || fail "cpu period"
[ "$(cgfile pids pids.max)" = 32 ] || fail "pids.max $(cgfile pids pids.max)"
echo "ipc: memory 32M, swap 0, cpu 20ms/100ms, pids 32 applied"
"$launch" stop weather-app --state-dir "$work/run" --stop-timeout 2000 >/dev/null
wait "$app_pid" || true
app_pid=
# /data: written by the app's user, as the host sees it through the map.
mkdir "$work/dmnt"
mount -o loop,ro "$work/ipc-data.img" "$work/dmnt"
o=$(stat -c '%u %a' "$work/dmnt")" $(stat -c %u "$work/dmnt/written")"; c=$(cat "$work/dmnt/written")
umount "$work/dmnt"
[ "$o" = "101000 700 101000" ] || fail "/data owner/mode: $o"
[ "$c" = "by the app" ] || fail "/data content: $c"
echo "ipc: /data owned by host uid 101000 (app uid 1000), written by the app"
# Another host user is refused what the app is granted (the list is per user).
chmod o+x "$work" "$work/ubus"  # mktemp's 0700: let that user reach the socket
o=$(setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"call network.interface.wan status\n"); print(s.recv(256).decode().strip())' "$work/ubus/ubus.sock")
[ "$o" = "denied network.interface.wan status" ] || fail "uid 65534 got: $o"
# Fail closed: what is at the socket's path is not the socket.
mv "$work/ubus/ubus.sock" "$work/ubus/real.sock"
for kind in file symlink; do
  rm -f "$work/ubus/ubus.sock"
  if [ "$kind" = file ]; then : > "$work/ubus/ubus.sock"; what="a regular file"; else ln -s real.sock "$work/ubus/ubus.sock"; what="a symlink"; fi
  rc=0
  timeout 30 nsenter --net="/run/netns/$R" "$launch" run "$work/ipc.img" --base "$work/ipc-base.img" --keyring "$work/keys" \
    --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/ipc-$kind.log" 2>&1 || rc=$?
  cat "$work/ipc-$kind.log"
  [ "$rc" != 0 ] || fail "ipc: started with $what at the socket's path"
  grep -qF "ubus socket $work/ubus/ubus.sock is $what, not a socket" "$work/ipc-$kind.log" || fail "ipc ($kind): message"
  grep -q "^ubus:" "$work/ipc-$kind.log" && fail "ipc ($kind): the app ran"
done
echo "ipc: a regular file or a symlink at the socket's path refuses the start"
ipc_cleanup

echo "e2e appstore: ok"
