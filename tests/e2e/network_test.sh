#!/usr/bin/env bash
# Container networking through the real nestbox-launch binary, only inside
# network namespaces this test creates: R (the "router host": bridges, a LAN
# port), L (a peer on R's bridge), S (a macvlan sibling). nestbox-launch runs
# inside R (`nsenter --net`: `ip netns exec` would remount /sys and hide the
# cgroup hierarchy), as it runs in the init namespace on a router.
# Images are composed, squashed and signed with the built `nestbox`; each
# container's command reports what it can reach, and R's link list must be the
# same before and after every run (everything created is gone).
# Usage: network_test.sh NESTBOX NESTBOX_LAUNCH
set -euo pipefail
nestbox=$1 launch=$2
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
for t in ip busybox nsenter nft python3; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
work=$(mktemp -d /tmp/nestbox-net.XXXXXX)
p=nbe$$
R=$p-r L=$p-l S=$p-s W=$p-w
launcher_pid= server_pids=
cleanup() {
  if [ -n "$launcher_pid" ]; then kill -KILL "$launcher_pid" 2>/dev/null || true; wait "$launcher_pid" 2>/dev/null || true; fi
  for pid in $server_pids; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  for ns in "$S" "$L" "$W" "$R"; do ip netns del "$ns" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "$0")/lib.sh"
arch=$(uname -m)

# --- images: one per case, all from the same busybox rootfs ---------------------
mkdir -p "$work/m/staging/bin" "$work/keys"
cp /bin/busybox "$work/m/staging/bin/busybox"
manifest() {  # NAME COMMAND NETWORK-TOML; $caps: the capabilities (CAP_NET_RAW when unset)
  local c=${caps-'"CAP_NET_RAW"'}
  cat > "$work/m/$1.toml" <<EOF
schema = 1
name = "$1"
version = 1
arch = "$arch"
compat = "nbtest"
[process]
command = ["/bin/busybox", "sh", "-c", '$2']
$(busybox_rootfs)
[security]
capabilities = [$c]
[mounts]
sys = "none"
$3
EOF
}
# shellcheck disable=SC2016 # expanded inside the container's shell
# reach ADDR: one line "reach ADDR yes|no" (3 tries for the positive case).
reach='reach() { for _ in 1 2 3; do busybox ping -c 1 -W 1 "$1" >/dev/null 2>&1 && { echo "reach $1 yes"; return; }; done; echo "reach $1 no"; };'
manifest veth "$reach reach 10.50.0.1; reach 10.50.0.9" '
[[network.interface]]
type = "veth"
name = "eth0"
bridge = "br0"
host_name = "nbv-veth"
addresses = ["10.50.0.2/24"]
routes = [{ to = "default", via = "10.50.0.1" }]'
manifest nas "$reach reach 10.51.0.1; reach 10.52.0.1; busybox ip -o link show lan0; busybox ip route" '
[[network.interface]]
type = "veth"
name = "eth0"
bridge = "br-nas"
host_name = "nas-priv"
addresses = ["10.51.0.2/24"]
routes = [{ to = "default", via = "10.51.0.1" }]
[[network.interface]]
type = "veth"
name = "lan0"
bridge = "br-lan"
host_name = "nas-lan"
mac = "02:4e:41:53:00:01"
addresses = ["10.52.0.20/24"]'
for mode in private bridge; do
  manifest "mv$mode" "$reach reach 10.53.0.9; busybox ip -o addr show eth0" "
[[network.interface]]
type = \"macvlan\"
parent = \"mvlan\"
mode = \"$mode\"
addresses = [\"10.53.0.2/24\"]"
done
manifest empty 'busybox ip -o link show | busybox cut -d: -f2; busybox ip -o link show lo' '
[network]
mode = "empty"'
manifest phys "$reach reach 10.50.0.1; busybox ip -o link show | busybox cut -d: -f2" '
[[network.interface]]
type = "phys"
parent = "ph0"
name = "wan0"
addresses = ["10.50.0.4/24"]'
manifest sleeper 'exec busybox sleep 60' '
[[network.interface]]
type = "veth"
name = "eth0"
bridge = "br0"
host_name = "nbv-sleep"
addresses = ["10.50.0.3/24"]'
# The firewall case: busybox httpd on 8000 (allowed from the LAN and the host)
# and on 8080 (open inside, dropped from outside); it may open connections to
# the WAN only, NAT'ed behind R's WAN address. It fetches from a WAN and a LAN
# server at start and says which answered.
# shellcheck disable=SC2016 # expanded inside the container's shell
# (Debian's busybox 1.35 wget segfaults with -T: timeouts come from timeout.)
fetch='fetch() { if busybox timeout 2 busybox wget -q -O- "$2" >/dev/null 2>&1; then echo "fetch $1 yes"; else echo "fetch $1 no"; fi; };'
manifest fw "$fetch busybox httpd -p 8000 -h /www; busybox httpd -p 8080 -h /www; fetch wan http://10.55.0.9:8000/; fetch lan http://10.50.0.9:8000/; echo probes-done; exec busybox sleep 60" '
[[rootfs.file]]
path = "/www/index.html"
content = "fw-ok"
[[network.interface]]
type = "veth"
name = "eth0"
bridge = "br-fw"
host_name = "nbv-fw"
addresses = ["10.54.0.2/24"]
routes = [{ to = "default", via = "10.54.0.1" }]
[network.firewall]
lan = ["br0"]
wan = ["wan-r"]
allow_out = ["wan"]
masquerade = true
[[network.firewall.allow_in]]
interface = "eth0"
protocol = "tcp"
ports = [8000]
from = ["lan", "host"]'
manifest nobridge 'echo should not run' '
[[network.interface]]
type = "veth"
bridge = "br-missing"
addresses = ["10.50.0.5/24"]'
# `bridge` naming a link that is no bridge (R's WAN veth): refused, with its kind.
manifest notbridge 'echo should not run' '
[[network.interface]]
type = "veth"
bridge = "wan-r"
addresses = ["10.50.0.7/24"]'
manifest badmount 'echo should not run' '
[[mounts.tmpfs]]
target = "/bin/busybox/not-in-the-image"
[[network.interface]]
type = "phys"
parent = "ph0"
addresses = ["10.50.0.6/24"]'
# An app whose macvlan is filtered inside its own namespace (so it keeps
# neither CAP_NET_RAW nor CAP_NET_ADMIN), and a container joining that
# namespace that keeps CAP_NET_RAW: with it, its packet sockets sent past the
# app's filter. Built together, compose refuses the pair; here the joiner was
# built against an earlier app without the filter (its own compose run), and
# the launcher refuses the join.
caps= manifest inside 'echo inside-up; exec busybox sleep 60' '
[[network.interface]]
type = "macvlan"
parent = "mvlan"
addresses = ["10.53.0.4/24"]
[network.firewall]
lan = ["mvlan"]'
manifest joiner 'echo should not run' '
[namespaces]
net = "container:inside"'
sed '/^\[network.firewall\]/,$d' "$work/m/inside.toml" >"$work/m/inside-earlier.toml"
SOURCE_DATE_EPOCH=1700000000 "$nestbox" compose "$work/m/inside-earlier.toml" "$work/m/joiner.toml" --out "$work/out-j" --strategy tree >/dev/null
if err=$("$nestbox" compose "$work/m/inside.toml" "$work/m/joiner.toml" --out "$work/out-refused" 2>&1); then
  fail "compose accepted a joiner keeping CAP_NET_RAW in a filtered namespace"
fi
grep -q 'joiner.toml: security.capabilities: keeps CAP_NET_RAW and joins the network namespace of "inside"' <<<"$err" ||
  fail "compose's reason for the joiner: $err"
names="veth nas mvprivate mvbridge empty phys sleeper fw nobridge notbridge badmount inside"
manifests=() squash=()
for n in $names; do manifests+=("$work/m/$n.toml"); squash+=("$work/out/$n" "$work/$n.sqfs"); done
SOURCE_DATE_EPOCH=1700000000 "$nestbox" compose "${manifests[@]}" --out "$work/out" --strategy tree >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$nestbox" squash "${squash[@]}" --comp gzip >/dev/null
"$nestbox" keygen -o "$work/k" >/dev/null
cp "$work/k.pub" "$work/keys/"
for n in $names; do
  SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign --squashfs "$work/$n.sqfs" --policy "$work/out/runtime/$n/policy.bin" \
    --manifest "$work/m/$n.toml" -k "$work/k.key" -o "$work/$n.img" >/dev/null
done
SOURCE_DATE_EPOCH=1700000000 "$nestbox" squash "$work/out-j/joiner" "$work/joiner.sqfs" --comp gzip >/dev/null
SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign --squashfs "$work/joiner.sqfs" --policy "$work/out-j/runtime/joiner/policy.bin" \
  --manifest "$work/m/joiner.toml" -k "$work/k.key" -o "$work/joiner.img" >/dev/null

# --- the router host and its neighbours -------------------------------------------
for ns in "$R" "$L" "$S"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done
rip() { ip -n "$R" "$@"; }
bridge() { rip link add "$1" type bridge; rip link set "$1" up; rip addr add "$2" dev "$1"; }
bridge br0 10.50.0.1/24
bridge br-nas 10.51.0.1/24
bridge br-lan 10.52.0.1/24
rip link add lanw type veth peer name lanpeer netns "$L"   # L: a LAN host on br0
rip link set lanw master br0 up
ip -n "$L" addr add 10.50.0.9/24 dev lanpeer
ip -n "$L" link set lanpeer up
rip link add mvlan type dummy 2>/dev/null || { rip link add mvlan type veth peer name mvlanw; rip link set mvlanw up; }
rip link set mvlan up
rip link add ph0 type veth peer name ph0w     # a "physical" WAN port wired into br0
rip link set ph0w master br0 up
# For the firewall case: a private bridge, a WAN peer W behind R's wan-r (no
# route back to the container's subnet: only NAT'ed traffic gets answers), L
# routed to the container through R, and forwarding on in R.
bridge br-fw 10.54.0.1/24
ip netns add "$W"; ip -n "$W" link set lo up
rip link add wan-r type veth peer name wan-w netns "$W"
rip addr add 10.55.0.1/24 dev wan-r; rip link set wan-r up
ip -n "$W" addr add 10.55.0.9/24 dev wan-w; ip -n "$W" link set wan-w up
ip -n "$L" route add 10.54.0.0/24 via 10.50.0.1
ip netns exec "$R" sysctl -qw net.ipv4.ip_forward=1
links() { ip -n "$R" -o link show | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort; }
before=$(links)
same() { [ "$(links)" = "$before" ] || fail "$1: router links changed: $(links | tr '\n' ' ')"; }
run() {  # NAME [extra launcher args]: runs it inside R, prints its output
  local n=$1; shift
  nsenter --net="/run/netns/$R" "$launch" run "$work/$n.img" --keyring "$work/keys" --compat nbtest --state-dir "$work/run" "$@"
}
expect() { grep -qx -- "$2" <<<"$1" || fail "expected '$2' in: $1"; }

# veth into a bridge reaches the bridge and a peer on it.
out=$(run veth); echo "$out"
expect "$out" "reach 10.50.0.1 yes"
expect "$out" "reach 10.50.0.9 yes"
same veth

# The NAS case: two veths in two bridges, the LAN one with its own MAC.
out=$(run nas); echo "$out"
expect "$out" "reach 10.51.0.1 yes"
expect "$out" "reach 10.52.0.1 yes"
grep -q "lan0[@:].*link/ether 02:4e:41:53:00:01" <<<"$out" || fail "nas lan0 MAC: $out"
grep -q "^default via 10.51.0.1 dev eth0" <<<"$out" || fail "nas default route: $out"
same nas

# macvlan: a sibling on the same parent, in the same mode as the container.
sibling() {
  rip link add link mvlan name sib type macvlan mode "$1"
  rip link set sib netns "$S"
  ip -n "$S" addr add 10.53.0.9/24 dev sib
  ip -n "$S" link set sib up
}
sibling private
out=$(run mvprivate); echo "$out"
expect "$out" "reach 10.53.0.9 no"
grep -q "inet 10.53.0.2/24" <<<"$out" || fail "macvlan address: $out"
ip -n "$S" link del sib
same mvprivate
sibling bridge
out=$(run mvbridge); echo "$out"
expect "$out" "reach 10.53.0.9 yes"
ip -n "$S" link del sib
same mvbridge

# empty: only lo, up.
out=$(run empty); echo "$out"
if [ "$(head -n1 <<<"$out" | tr -d ' ')" != lo ] || [ "$(grep -c . <<<"$out")" != 2 ]; then fail "empty: $out"; fi
grep -q "<LOOPBACK,UP" <<<"$out" || fail "empty: lo not up: $out"
same empty

# phys: moved in under its container name, given back to R under its own.
out=$(run phys); echo "$out"
expect "$out" "reach 10.50.0.1 yes"
grep -q "^ wan0\(@\|$\)" <<<"$out" || fail "phys: no wan0 inside: $out"
rip link show ph0 >/dev/null || fail "phys: ph0 not returned"
same phys

# stop: the host reaches the running container; `stop` tears its veth down.
nsenter --net="/run/netns/$R" "$launch" run "$work/sleeper.img" --keyring "$work/keys" --compat nbtest \
  --state-dir "$work/run" --stop-timeout 2000 &
launcher_pid=$!
for _ in $(seq 50); do ip netns exec "$L" busybox ping -c 1 -W 1 10.50.0.3 >/dev/null 2>&1 && break; sleep 0.1; done
ip netns exec "$L" busybox ping -c 1 -W 1 10.50.0.3 >/dev/null || fail "LAN peer cannot reach the running container"
rip link show nbv-sleep >/dev/null || fail "no host end while running"
"$launch" stop sleeper --state-dir "$work/run"
# `stop` returns once the launcher has cleaned up, the network included.
! rip link show nbv-sleep >/dev/null 2>&1 || fail "host end still there when stop returned"
rc=0; wait "$launcher_pid" || rc=$?
launcher_pid=
[ "$rc" = 143 ] || fail "stopped container: exit $rc, expected 143"
same stop

# Firewall and NAT (nftables, in R: the host's namespace). firewall4's table
# is there before and must be untouched; a stale table of an earlier run of
# the same container (nestbox-launch killed) is replaced.
nftr() { nsenter --net="/run/netns/$R" nft "$@"; }
nftr -f - <<'NFT'
table inet fw4 {
	chain forward {
		type filter hook forward priority filter; policy accept;
		counter
	}
}
NFT
ruleset_before=$(nftr -s list ruleset)  # -s: without the counters fw4 is allowed to count
nftr add table inet nestbox-fw
nftr add chain inet nestbox-fw stale-from-a-killed-run
mkdir -p "$work/www"; echo srv-ok > "$work/www/index.html"
(cd "$work/www" && exec nsenter --net="/run/netns/$W" python3 -m http.server 8000 --bind 10.55.0.9) 2>"$work/wan.log" &
server_pids="$server_pids $!"
(cd "$work/www" && exec nsenter --net="/run/netns/$L" python3 -m http.server 8000 --bind 10.50.0.9) 2>"$work/lan.log" &
server_pids="$server_pids $!"
# Debian's busybox 1.35 wget segfaults with -T (exit 139, which once made the
# blocked-port checks pass for nothing): the timeout is timeout(1)'s, and a
# dropped port must be exactly that timeout (124), not a refusal or a crash.
lanw() { timeout 2 nsenter --net="/run/netns/$L" busybox wget -q -O- "$@" 2>/dev/null; }
rw() { timeout 2 nsenter --net="/run/netns/$R" busybox wget -q -O- "$@" 2>/dev/null; }
for _ in $(seq 50); do
  [ "$(lanw http://10.50.0.9:8000/)" = srv-ok ] && [ "$(timeout 1 nsenter --net="/run/netns/$W" busybox wget -q -O- http://10.55.0.9:8000/ 2>/dev/null)" = srv-ok ] && break
  sleep 0.1
done
: >"$work/wan.log"; : >"$work/lan.log"
run fw --stop-timeout 2000 >"$work/fw.out" 2>&1 &
launcher_pid=$!
for _ in $(seq 100); do grep -q probes-done "$work/fw.out" && break; sleep 0.1; done
cat "$work/fw.out"
grep -q probes-done "$work/fw.out" || fail "firewalled container did not come up"
table=$(nftr list table inet nestbox-fw)
! grep -q stale-from-a-killed-run <<<"$table" || fail "stale table not replaced: $table"
[ "$(lanw http://10.54.0.2:8000/)" = fw-ok ] || fail "allowed port 8000 does not answer the LAN: $(nftr -s list ruleset)"
[ "$(rw http://10.54.0.2:8000/)" = fw-ok ] || fail "allowed port 8000 does not answer the host"
rc=0; lanw http://10.54.0.2:8080/ >/dev/null || rc=$?
[ "$rc" = 124 ] || fail "blocked port 8080 from the LAN: exit $rc, expected 124 (dropped: a timeout)"
rc=0; rw http://10.54.0.2:8080/ >/dev/null || rc=$?
[ "$rc" = 124 ] || fail "blocked port 8080 from the host: exit $rc, expected 124 (dropped: a timeout)"
# 8080 is served: it is the firewall that drops it.
[ "$("$launch" exec fw --state-dir "$work/run" -- /bin/busybox wget -q -O- http://127.0.0.1:8080/)" = fw-ok ] ||
  fail "8080 not served inside the container"
expect "$(cat "$work/fw.out")" "fetch wan yes"
expect "$(cat "$work/fw.out")" "fetch lan no"
grep -q '^10\.55\.0\.1 .*"GET / ' "$work/wan.log" || fail "WAN side did not see the NAT address: $(cat "$work/wan.log")"
! grep -q '10\.54\.0\.2' "$work/wan.log" || fail "WAN side saw the container's private address"
! grep -q 'GET' "$work/lan.log" || fail "LAN server reached although allow_out has no lan: $(cat "$work/lan.log")"
"$launch" stop fw --state-dir "$work/run"
rc=0; wait "$launcher_pid" || rc=$?
launcher_pid=
[ "$rc" = 143 ] || fail "stopped firewalled container: exit $rc, expected 143"
[ "$(nftr -s list ruleset)" = "$ruleset_before" ] || fail "ruleset after stop: $(nftr -s list ruleset)"
same fw

# A firewall that cannot be installed refuses the start and leaves nothing: a
# table of the container's name held by another program (an nft with `flags
# owner`: only its owner may delete it) cannot be replaced.
# The holder reads its commands from a fifo and ends (its table with it) when
# the fifo is closed.
mkfifo "$work/holder.in"
nsenter --net="/run/netns/$R" nft -i <"$work/holder.in" >/dev/null 2>&1 &
holder=$!
exec 9>"$work/holder.in"
echo 'add table inet nestbox-fw { flags owner; }' >&9
for _ in $(seq 50); do nftr list table inet nestbox-fw >/dev/null 2>&1 && break; sleep 0.1; done
if err=$(run fw 2>&1); then fail "start with an uninstallable firewall accepted: $err"; fi
echo "fw held: $err"
grep -q "nestbox-launch run: network: firewall of fw: delete table nestbox-fw: Operation not permitted" <<<"$err" ||
  fail "uninstallable firewall reason: $err"
grep -q "probes-done" <<<"$err" && fail "container ran without its firewall"
nftr list table inet nestbox-fw | grep "flags owner" >/dev/null || fail "the holder's table was touched"
exec 9>&-
wait "$holder" 2>/dev/null || true
for _ in $(seq 50); do [ "$(nftr -s list ruleset)" = "$ruleset_before" ] && break; sleep 0.1; done
[ "$(nftr -s list ruleset)" = "$ruleset_before" ] || fail "ruleset after a refused start: $(nftr -s list ruleset)"
same fwheld

# The joiner of the filtered app's namespace (above) is refused, never runs.
nsenter --net="/run/netns/$R" "$launch" run "$work/inside.img" --keyring "$work/keys" --compat nbtest \
  --state-dir "$work/run" --stop-timeout 2000 >"$work/inside.out" 2>&1 &
launcher_pid=$!
for _ in $(seq 50); do grep -q inside-up "$work/inside.out" && break; sleep 0.1; done
grep -q inside-up "$work/inside.out" || fail "filtered app did not come up: $(cat "$work/inside.out")"
if err=$(run joiner 2>&1); then fail "a joiner keeping CAP_NET_RAW in a filtered namespace ran: $err"; fi
echo "joiner: $err"
grep -q "policy joiner: joins the network namespace of 'inside', whose macvlan/vlan/phys interfaces are filtered inside it, keeping CAP_NET_ADMIN or CAP_NET_RAW" <<<"$err" ||
  fail "joiner reason: $err"
grep -q "should not run" <<<"$err" && fail "the joiner ran"
"$launch" stop inside --state-dir "$work/run"
rc=0; wait "$launcher_pid" || rc=$?
launcher_pid=
[ "$rc" = 143 ] || fail "stopped filtered app: exit $rc, expected 143"
same inside

# A setup that fails (no such bridge) refuses the launch and leaves nothing.
if err=$(run nobridge 2>&1); then fail "missing bridge accepted: $err"; fi
echo "nobridge: $err"
grep -q "network" <<<"$err" || fail "nobridge reason: $err"
grep -q "should not run" <<<"$err" && fail "container ran without its network"
same nobridge
if err=$(run notbridge 2>&1); then fail "a veth as bridge accepted: $err"; fi
echo "notbridge: $err"
grep -q "bridge: 'wan-r' is of kind 'veth', not a bridge" <<<"$err" || fail "notbridge reason: $err"
grep -q "should not run" <<<"$err" && fail "container ran with a veth for a bridge"
rip -o link show master wan-r | grep -q . && fail "notbridge: wan-r got a port"
same notbridge

# A launch that fails after its network was set up (a mount target beneath a
# file: compose makes missing mount points, but never beneath a non-directory)
# still tears it down: the phys device is back in R under its name.
if err=$(run badmount 2>&1); then fail "missing mount target accepted: $err"; fi
echo "badmount: $err"
grep -q "not-in-the-image" <<<"$err" || fail "badmount reason: $err"
rip link show ph0 >/dev/null || fail "badmount: ph0 not returned"
same badmount

# Only what this test created (other tests may attach loops meanwhile); autoclear is asynchronous.
for _ in $(seq 50); do losetup -a | grep -q "$work" || break; sleep 0.1; done
! losetup -a | grep "$work" || fail "loop device left behind"
! grep "$work" /proc/self/mountinfo || fail "mount left behind"
[ -z "$(ls -A "$work/run" 2>/dev/null)" ] || fail "state left behind: $(ls -A "$work/run")"
echo "e2e network: ok"
