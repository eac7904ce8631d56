#!/usr/bin/env bash
# Case 1 for real: examples/nas.toml as shipped, composed from the demo corpus
# (scripts/corpus.sh: Debian's rsync and lighttpd + mod_webdav), signed,
# installed into an A/B store and run with nestbox's init as pid 1 (the
# manifest has no init of its own). From a "LAN" network namespace the test
# creates: WebDAV PROPFIND, PUT, MKCOL, GET (curl) and an rsync upload to the
# rsync daemon. Then: the data survives stop, reinstall and start; a stop ends
# on SIGTERM (the launcher says so: not the kill-after-timeout path); a
# service killed with SIGKILL is restarted and `status --json` counts it; a
# service that keeps dying (the real rsync with a missing configuration) hits
# its restart_limit and the launcher names it. Hot-plugged storage: loop
# devices attached and detached while the nas runs (real uevents; a loop device
# stands in for a USB stick through one more [[devices.hotplug]] rule on the
# name loop24[0-9]) appear as /dev/loopN, are read by busybox inside, and are
# gone (node and device-cgroup access) when detached; loop250 never appears.
# Usage: nas_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the example is built for x86_64"; exit 77; }
bash "$src/scripts/install-deps.sh" >/dev/null 2>&1 || true   # curl, rsync (idempotent)
for t in ip nsenter mkfs.ext4 losetup curl rsync python3 nft; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
staging=$(bash "$src/scripts/corpus.sh" 2>/dev/null) || { echo "SKIP: no demo corpus (scripts/corpus.sh needs apt)"; exit 77; }

work=$(mktemp -d /tmp/nestbox-nas.XXXXXX)
chmod 755 "$work"
R=nbnas$$-r L=nbnas$$-l W=nbnas$$-w
part_loop='' pid='' hot_made='' wan_pid=''
loopctl() {  # add|remove N: loop devices of fixed numbers (LOOP_CTL_ADD / LOOP_CTL_REMOVE)
  python3 -c 'import fcntl,os,sys; fd=os.open("/dev/loop-control",os.O_RDWR); fcntl.ioctl(fd,{"add":0x4C80,"remove":0x4C81}[sys.argv[1]],int(sys.argv[2]))' "$@"
}
cleanup() {
  set +e
  for n in $hot_made; do losetup -d "/dev/loop$n" 2>/dev/null; loopctl remove "$n" 2>/dev/null; done
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    "$launch" stop nas --state-dir "$work/run" --stop-timeout 1000 >/dev/null 2>&1
    wait "$pid" 2>/dev/null
  fi
  [ -n "$wan_pid" ] && { kill "$wan_pid"; wait "$wan_pid"; } 2>/dev/null
  ip netns del "$L" 2>/dev/null; ip netns del "$W" 2>/dev/null; ip netns del "$R" 2>/dev/null
  [ -n "$part_loop" ] && losetup -d "$part_loop" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$work/nas.log" ] && sed 's/^/  | /' "$work/nas.log"; exit 1; }
export SOURCE_DATE_EPOCH=1700000000

# --- compose, sign: the example as shipped ------------------------------------------
mkdir -p "$work/m" "$work/keys"
cp "$src/examples/nas.toml" "$work/m/nas.toml"
# No USB on the test machine: loop devices of fixed numbers play the stick.
printf '\n[[devices.hotplug]]\nname = "loop24[0-9]"\naccess = "ro"\nmode = "0440"\ngid = 33\n' >>"$work/m/nas.toml"
ln -s "$staging" "$work/m/staging"
# The same container with one more service that keeps dying: the real rsync
# daemon with a configuration that is not there.
awk '/^\[\[process.service\]\]/ && !done {print "[[process.service]]\nname = \"broken\"\ncommand = [\"/usr/bin/rsync\", \"--daemon\", \"--no-detach\", \"--config=/etc/missing.conf\"]\nrestart_limit = 3\nrestart_delay = \"50ms\"\n"; done=1} {print}' \
  "$src/examples/nas.toml" | sed 's/^version = 3$/version = 4/' >"$work/m/broken.toml"
grep -q 'name = "broken"' "$work/m/broken.toml" || fail "broken service not placed"
"$nestbox" validate -q "$work/m/nas.toml"
"$nestbox" validate -q "$work/m/broken.toml"
"$nestbox" compose "$work/m/nas.toml" --out "$work/out" --comp gzip >/dev/null
"$nestbox" compose "$work/m/broken.toml" --out "$work/out-broken" --comp gzip >/dev/null
"$nestbox" inspect "$work/out/runtime/nas/policy.bin" >"$work/policy.txt"
grep -qx 'process.argv = \[\]' "$work/policy.txt" || fail "nas has an init of its own: $(grep argv "$work/policy.txt")"
"$nestbox" keygen -o "$work/vendor" >/dev/null
cp "$work/vendor.pub" "$work/keys/"
sign() { "$nestbox" sign -k "$work/vendor.key" "$@" >/dev/null; }
sign --squashfs "$work/out/nas.sqfs" --policy "$work/out/runtime/nas/policy.bin" --manifest "$work/m/nas.toml" -o "$work/nas.img"
sign --squashfs "$work/out-broken/nas.sqfs" --policy "$work/out-broken/runtime/nas/policy.bin" \
  --manifest "$work/m/broken.toml" -o "$work/broken.img"
opts=(--store "$work/store" --state-dir "$work/run" --keyring "$work/keys" --compat nestbox-demo-hgw
      --partition-dir "$work/parts")
"$launch" install "$work/nas.img" "${opts[@]}" >/dev/null

# --- the router host (br-nas, br-lan) and a LAN client behind br-lan ----------------
ip netns add "$R"; ip netns add "$L"
ip -n "$R" link set lo up; ip -n "$L" link set lo up
for b in br-nas:10.10.0.1/24 br-lan:192.168.1.1/24; do
  ip -n "$R" link add "${b%%:*}" type bridge
  ip -n "$R" addr add "${b#*:}" dev "${b%%:*}"
  ip -n "$R" link set "${b%%:*}" up
done
ip -n "$R" link add lan-host type veth peer name lan-pc netns "$L"
ip -n "$R" link set lan-host master br-lan up
ip -n "$L" addr add 192.168.1.100/24 dev lan-pc
ip -n "$L" link set lan-pc up
lan() { nsenter --net="/run/netns/$L" "$@"; }
# The WAN: R's eth1 (the manifest's firewall.wan) to a server in W, which has
# no route back to the NAS's private subnet: only NAT'ed traffic is answered.
ip netns add "$W"; ip -n "$W" link set lo up
ip -n "$R" link add eth1 type veth peer name wan-w netns "$W"
ip -n "$R" addr add 10.20.0.1/24 dev eth1; ip -n "$R" link set eth1 up
ip -n "$W" addr add 10.20.0.9/24 dev wan-w; ip -n "$W" link set wan-w up
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
mkdir -p "$work/wan" && echo wan-ok >"$work/wan/index.html"
(cd "$work/wan" && exec nsenter --net="/run/netns/$W" python3 -m http.server 8000 --bind 10.20.0.9) 2>"$work/wan.log" &
wan_pid=$!
router() { nsenter --net="/run/netns/$R" "$@"; }

# The NAS's data partition, found by name in --partition-dir.
truncate -s 32M "$work/nas-data.ext4"
mkfs.ext4 -q -F "$work/nas-data.ext4"
part_loop=$(losetup -f --show "$work/nas-data.ext4")
mkdir -p "$work/parts" && ln -s "$part_loop" "$work/parts/nas-data"

start() {  # run the installed nas in the background inside the router namespace
  nsenter --net="/run/netns/$R" "$launch" run nas "${opts[@]}" >>"$work/nas.log" 2>&1 &
  pid=$!
}
dav() { lan curl -sS -m 5 -o /dev/null -w '%{http_code}' "$@"; }
wait_up() {
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || fail "the nas container exited"
    [ "$(dav -X PROPFIND -H 'Depth: 0' http://192.168.1.20/ 2>/dev/null)" = 207 ] &&
      lan rsync --contimeout=2 rsync://192.168.1.20/ >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "WebDAV and rsync did not answer from the LAN"
}
stop() {  # stops and checks how: the processes ended on SIGTERM
  "$launch" stop nas --state-dir "$work/run" --stop-timeout 5000 >/dev/null
  wait "$pid" || true
  pid=
  grep -q "nestbox-launch run: nas: stopped: its processes ended on SIGTERM" "$work/nas.log" ||
    fail "the stop did not end on SIGTERM"
  ! grep -q "killed after the stop timeout" "$work/nas.log" || fail "a stop was killed after the timeout"
  : >"$work/nas.log"
}
services() { "$launch" status nas --state-dir "$work/run" --json; }
svc_field() {  # SERVICE FIELD
  services | python3 -c 'import json,sys; d=json.load(sys.stdin); print([s for s in d["services"] if s["name"]==sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}

# --- 1: the example as shipped, from the LAN ------------------------------------------
start
wait_up
[ "$(svc_field webdav state)" = running ] || fail "webdav not running: $(services)"
[ "$(svc_field rsyncd state)" = running ] || fail "rsyncd not running: $(services)"
init=$(cat "$work/run/nas/init")
[ "$(cat "/proc/$init/comm")" = nestbox-init ] || fail "pid 1 is $(cat "/proc/$init/comm"), not nestbox's init"
code=$(dav -X PROPFIND -H 'Depth: 1' http://192.168.1.20/); [ "$code" = 207 ] || fail "PROPFIND: $code"
code=$(dav -X MKCOL http://192.168.1.20/docs/); [ "$code" = 201 ] || fail "MKCOL: $code"
echo "hello from the LAN" >"$work/hello.txt"
code=$(dav -T "$work/hello.txt" http://192.168.1.20/docs/hello.txt); [ "$code" = 201 ] || fail "PUT: $code"
[ "$(lan curl -sS -m 5 http://192.168.1.20/docs/hello.txt)" = "hello from the LAN" ] || fail "GET"
mkdir -p "$work/up/photos" && head -c 100000 /dev/urandom >"$work/up/photos/a.bin"
lan rsync -a --contimeout=5 "$work/up/" rsync://192.168.1.20/share/ || fail "rsync upload"
[ "$(lan curl -sS -m 5 http://192.168.1.20/photos/a.bin | sha256sum)" = "$(sha256sum <"$work/up/photos/a.bin")" ] ||
  fail "the rsync upload is not served by WebDAV"
lan rsync --contimeout=5 rsync://192.168.1.20/share/docs/hello.txt "$work/back.txt" || fail "rsync download"
cmp -s "$work/hello.txt" "$work/back.txt" || fail "rsync download differs"
# lighttpd (www-data) writes its error log to /dev/stderr: nestbox's init relays it.
grep -q "server started" "$work/nas.log" || fail "lighttpd's error log (/dev/stderr) did not reach the launcher"
# The firewall on the private eth0 (br-nas): WebDAV answers the router; a port
# the manifest does not open is dropped (a timeout, not a refusal); the NAS
# reaches the WAN, which sees the router's WAN address (masquerade).
router nft list table inet nestbox-nas >/dev/null || fail "no firewall table while the NAS runs"
code=$(router curl -sS -m 5 -o /dev/null -w '%{http_code}' -X PROPFIND -H 'Depth: 0' http://10.10.0.2/) || true
[ "$code" = 207 ] || fail "PROPFIND from the router to the firewalled eth0: $code"
rc=0; router curl -sS -m 2 -o /dev/null http://10.10.0.2:8080/ 2>/dev/null || rc=$?
[ "$rc" = 28 ] || fail "port 8080 from the router: curl exit $rc, expected 28 (dropped, a timeout)"
for _ in $(seq 30); do router curl -s -m 1 -o /dev/null http://10.20.0.9:8000/ && break; sleep 0.1; done
[ "$("$launch" exec nas --state-dir "$work/run" -- /bin/busybox timeout 5 /bin/busybox wget -q -O- http://10.20.0.9:8000/)" = wan-ok ] ||
  fail "the NAS does not reach the WAN"
grep -q '^10\.20\.0\.1 .*"GET / ' "$work/wan.log" || fail "the WAN did not see the NAT address: $(cat "$work/wan.log")"

# --- 1b: hot-plugged storage while the nas runs -----------------------------------------
inside() { "$launch" exec --state-dir "$work/run" nas -- /bin/busybox "$@"; }
for n in 247 250; do
  [ -e "/sys/class/block/loop$n" ] && fail "loop$n exists already (not this test's)"
  loopctl add "$n" >/dev/null; hot_made="$hot_made $n"
done
printf 'USB-STICK-CONTENT-%s' "$$" >"$work/stick.img"; truncate -s 1M "$work/stick.img"
cp "$work/stick.img" "$work/other.img"
until_node() {  # present|absent NAME: waits for the launcher to act on the uevent
  for _ in $(seq 50); do
    if inside test -b "/dev/$2" 2>/dev/null; then [ "$1" = present ] && return 0
    else [ "$1" = absent ] && return 0; fi
    sleep 0.1
  done
  fail "/dev/$2 not $1 inside the nas: $(inside ls /dev 2>&1 | tr '\n' ' ')"
}
until_node absent loop247   # no media yet: nothing given
losetup /dev/loop247 "$work/stick.img"
losetup /dev/loop250 "$work/other.img"
until_node present loop247
got=$(inside dd if=/dev/loop247 bs=25 count=1 2>/dev/null | tr -d '\0')
[ "$got" = "USB-STICK-CONTENT-$$" ] || fail "reading /dev/loop247 inside gave '$got'"
[ "$(inside stat -c '%a %g' /dev/loop247)" = "440 33" ] || fail "node mode/owner: $(inside stat -c '%a %g' /dev/loop247)"
! inside sh -c 'echo x >/dev/loop247' 2>/dev/null || fail "access = ro, yet writable"
grep -q "hotplug: loop247 (7:247) given as /dev/loop247 ro" "$work/nas.log" || fail "the launcher did not say it gave loop247"
sleep 0.3
! inside test -e /dev/loop250 || fail "loop250 (no rule) appeared inside"
# A node of the non-matching device made behind the container's back: the cgroup denies it.
mknod "/proc/$(cat "$work/run/nas/init")/root/dev/probe250" b 7 250
err=$(inside dd if=/dev/probe250 bs=1 count=1 2>&1 >/dev/null) && fail "loop250 readable inside"
[[ $err == *"Operation not permitted"* ]] || fail "loop250: expected EPERM, got: $err"
# Detached: the node goes, and access with it (a node made again is refused).
losetup -d /dev/loop247
until_node absent loop247
mknod "/proc/$(cat "$work/run/nas/init")/root/dev/probe247" b 7 247
err=$(inside dd if=/dev/probe247 bs=1 count=1 2>&1 >/dev/null) && fail "loop247 readable after detach"
[[ $err == *"Operation not permitted"* ]] || fail "loop247 after detach: expected EPERM, got: $err"
grep -q "hotplug: loop247 (7:247) taken back from /dev/loop247" "$work/nas.log" || fail "not taken back"
losetup -d /dev/loop250
for n in $hot_made; do loopctl remove "$n"; done; hot_made=''
stop
[ -z "$(router nft list ruleset)" ] || fail "firewall rules left after stop: $(router nft list ruleset)"

# --- 2: stop, reinstall, start: the data is still there -------------------------------
"$launch" install "$work/nas.img" "${opts[@]}" --allow-downgrade >/dev/null 2>&1 ||
  "$launch" install "$work/nas.img" "${opts[@]}" >/dev/null
start
wait_up
[ "$(lan curl -sS -m 5 http://192.168.1.20/docs/hello.txt)" = "hello from the LAN" ] || fail "data lost after reinstall"
code=$(dav -T "$work/hello.txt" http://192.168.1.20/docs/again.txt); [ "$code" = 201 ] || fail "PUT after restart: $code"

# --- 3: a service killed with SIGKILL is restarted and counted ------------------------
[ "$(svc_field webdav restarts)" = 0 ] || fail "webdav restarted already: $(services)"
init=$(cat "$work/run/nas/init")
lighttpd=''
# shellcheck disable=SC2013 # children: pids separated by blanks
for c in $(cat "/proc/$init/task/"*/children); do
  [ "$(cat "/proc/$c/comm" 2>/dev/null)" = lighttpd ] && lighttpd=$c
done
[ -n "$lighttpd" ] || fail "no lighttpd under nestbox's init"
kill -KILL "$lighttpd"
for _ in $(seq 50); do
  [ "$(svc_field webdav restarts)" = 1 ] && [ "$(svc_field webdav state)" = running ] && break
  sleep 0.1
done
[ "$(svc_field webdav restarts)" = 1 ] || fail "webdav not restarted once: $(services)"
[ "$(svc_field webdav state)" = running ] || fail "webdav not running again: $(services)"
wait_up
stop
# The state (and the services file) is gone with the container.
[ ! -e "$work/run/nas" ] || fail "state left behind: $(ls "$work/run/nas")"

# --- 4: a service that keeps dying hits its limit, the failure names it ---------------
rc=0
nsenter --net="/run/netns/$R" "$launch" run "$work/broken.img" "${opts[@]}" >"$work/nas.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "a failed service: run exit $rc, expected 1"
grep -qx "nestbox-launch run: nas: service broken: exited with status 1; restarted 3 times in a row (restart_limit 3)" \
  "$work/nas.log" || fail "the failure does not name the service"
[ ! -e "$work/run/nas" ] || fail "state left behind after a failure"
echo "PASS"
