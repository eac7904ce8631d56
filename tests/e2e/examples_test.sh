#!/usr/bin/env bash
# The example containers (examples/nas.toml, dns.toml, untrusted-app.toml) from
# signed images through nestbox-launch, observed from inside their declared
# isolation. A busybox staging tree stands in for the router's (rsync,
# lighttpd and dnsmasq are scripts that sleep). Each example is composed from a
# test copy of its manifest whose main command is a probe (the signed argv
# cannot be changed afterwards) and whose host paths point into the test's own
# directory; everything else is the example as shipped. Networks are set up in
# a "router host" namespace the test creates; the overlay app runs over its
# separately signed base, found by --base and in a store, and a base that is
# unpinned, has another digest or another arch is refused before mounting.
# Images and the base pin come from `nestbox compose`; `nestbox sign` signs
# them (the base as its own image, without a policy).
# Usage: examples_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
for t in ip busybox nsenter mkfs.ext4 losetup; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the examples are built for x86_64"; exit 77; }
work=$(mktemp -d /tmp/nestbox-examples.XXXXXX)
R=nbx$$-r
part_loop=
cleanup() {
  ip netns del "$R" 2>/dev/null || true
  if [ -n "$part_loop" ]; then losetup -d "$part_loop" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
export SOURCE_DATE_EPOCH=1700000000

# --- staging tree and test copies of the manifests --------------------------------
st=$work/examples/staging
mkdir -p "$st/bin" "$st/usr/bin" "$st/usr/sbin" "$st/etc/lighttpd" "$st/usr/lib/lighttpd" "$st/usr/share/zoneinfo"
cp /bin/busybox "$st/bin/busybox"
for b in usr/bin/rsync usr/sbin/lighttpd usr/sbin/dnsmasq; do
  printf '#!/bin/busybox sh\nexec /bin/busybox sleep 2147483647\n' > "$st/$b"
  chmod 755 "$st/$b"
done
echo "server.port = 80" > "$st/etc/lighttpd/lighttpd.conf"
touch "$st/etc/dnsmasq.conf" "$st/etc/hosts" "$st/etc/passwd" "$st/etc/group" "$st/usr/share/zoneinfo/UTC"
# copy EXAMPLE PROBE-ARGV: the example with its main command (the first
# `command =`, under [process]) replaced by the probe.
copy() {
  # (nas.toml has no command: nestbox's init would be pid 1; the probe becomes its own init.)
  PROBE="command = $2" awk '/^\[/ {if (inproc && !done) {print ENVIRON["PROBE"]; done=1} inproc = ($0 == "[process]")}
    inproc && !done && /^command = /{print ENVIRON["PROBE"]; done=1; next} {print}' \
    "$src/examples/$1.toml" > "$work/examples/$1.toml"
  grep -qF "command = $2" "$work/examples/$1.toml" || fail "probe not placed in $1"
  # Mount targets must exist in the image; the examples do not list them yet.
  for d in /proc /dev /sys /tmp /run /data; do
    grep -q "^path = \"$d\"" "$work/examples/$1.toml" || printf '\n[[rootfs.dir]]\npath = "%s"\n' "$d" >> "$work/examples/$1.toml"
  done
}
# shellcheck disable=SC2016 # expanded inside the containers
probe_sh='echo host=$(hostname) domain=$(cat /proc/sys/kernel/domainname) uid=$(id -u); grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status; busybox ip -o link show | cut -d: -f2; busybox ip -o addr show | grep inet; busybox ip route; if touch /probe-root 2>/dev/null; then echo root=rw; else echo root=ro; fi; awk "{for (i = 7; i <= NF; i++) if (\$i == \"-\") print \$5, \$(i + 1)}" /proc/self/mountinfo; echo sleepers=$(busybox ps -o args | grep -c "^/bin/busybox sleep"); if busybox mount -t tmpfs t /tmp 2>/dev/null; then echo mount=yes; else echo mount=no; fi'
copy nas "[\"/bin/busybox\", \"sh\", \"-c\", '$probe_sh']"
copy dns "[\"/bin/busybox\", \"sh\", \"-c\", '$probe_sh']"
# The app's seccomp allow-list has no fork/clone: a single `cat` observes it.
copy untrusted-app '["/bin/busybox", "cat", "/proc/sys/kernel/hostname", "/proc/self/status", "/proc/self/uid_map", "/proc/self/mountinfo", "/proc/net/dev", "/www/index.html"]'
sed -i "s|source = \"/srv/nestbox/weather-app/data.img\"|source = \"$work/weather-data.img\"|" "$work/examples/untrusted-app.toml"
grep -q "$work/weather-data.img" "$work/examples/untrusted-app.toml" || fail "storage path not rewritten"
# This host has no ubusd: the bind of its socket is e2e_appstore's (a test server there).
sed -i '/^\[ipc\.ubus\]/,$d' "$work/examples/untrusted-app.toml"
# Without its base requirement (appstore_test.sh runs that), compose pins the
# base it writes: this test holds the pin path.
sed -i '/^base_key = /d; /^base_min_version = /d' "$work/examples/untrusted-app.toml"
"$nestbox" validate -q "$work"/examples/{nas,dns,untrusted-app}.toml

# --- compose, sign -----------------------------------------------------------------
# compose writes nas.sqfs (squashfs), the dns tree (host-hardlink: hardlinked
# inside the staging root at /usr/lib/nestbox/rootfs/dns; squashed here to be signed), and for the app its layer, its base and a policy pinning the
# base's digest.
out=$work/out
"$nestbox" compose "$work"/examples/{nas,dns,untrusted-app}.toml --out "$out" --comp gzip >/dev/null
"$nestbox" squash "$st/usr/lib/nestbox/rootfs/dns" "$work/dns.sqfs" --comp gzip >/dev/null
digest=$(sha256sum "$out/base/appbase.sqfs" | cut -d' ' -f1)   # the payload region (padded squashfs)
"$nestbox" inspect "$out/runtime/weather-app/policy.bin" >"$work/app-policy.txt"
grep -qx 'rootfs.kind = "overlay"' "$work/app-policy.txt" || fail "app is not an overlay"
grep -qx "rootfs.base_sha256 = \"$digest\"" "$work/app-policy.txt" || fail "compose did not pin the base: $(cat "$work/app-policy.txt")"
# The same app composed as a tree has no base image, hence no pin.
"$nestbox" compose "$work/examples/untrusted-app.toml" --out "$work/out-tree" --strategy tree >/dev/null
"$nestbox" inspect "$work/out-tree/runtime/weather-app/policy.bin" | grep -qx 'rootfs.base_sha256 = ""' || fail "tree policy pinned"
# Another base under the same name (different content, so another digest).
mkdir -p "$work/appbase2/bin" && cp /bin/busybox "$work/appbase2/bin/" && echo 2 > "$work/appbase2/release"
"$nestbox" squash "$work/appbase2" "$work/appbase2.sqfs" --comp gzip >/dev/null
mkdir -p "$work/keys"
"$nestbox" keygen -o "$work/vendor" >/dev/null
cp "$work/vendor.pub" "$work/keys/"
sign() { "$nestbox" sign -k "$work/vendor.key" "$@" >/dev/null; }
sign --squashfs "$out/nas.sqfs" --policy "$out/runtime/nas/policy.bin" --manifest "$work/examples/nas.toml" -o "$work/nas.img"
sign --squashfs "$work/dns.sqfs" --policy "$out/runtime/dns/policy.bin" --manifest "$work/examples/dns.toml" -o "$work/dns.img"
base_meta=(--name appbase --version 1 --compat nestbox-demo-hgw)   # a base has no policy: not runnable
sign --squashfs "$out/base/appbase.sqfs" "${base_meta[@]}" --arch x86_64 -o "$work/appbase.img"
sign --squashfs "$work/appbase2.sqfs" "${base_meta[@]}" --arch x86_64 -o "$work/appbase2.img"
sign --squashfs "$out/base/appbase.sqfs" "${base_meta[@]}" --arch aarch64 -o "$work/appbase-arm.img"
app() {  # POLICY IMG
  sign --squashfs "$out/weather-app.layer.sqfs" --policy "$1" --manifest "$work/examples/untrusted-app.toml" -o "$2"
}
app "$out/runtime/weather-app/policy.bin" "$work/app.img"
app "$work/out-tree/runtime/weather-app/policy.bin" "$work/app-unpinned.img"
if command -v unsquashfs >/dev/null; then   # busybox is in the base only: the app runs only over it
  unsquashfs -l "$out/weather-app.layer.sqfs" | grep "/bin/busybox$" >/dev/null && fail "busybox in the app's layer"
  unsquashfs -l "$out/base/appbase.sqfs" | grep "/bin/busybox$" >/dev/null || fail "busybox not in the base"
fi

# --- the router host: bridges the examples name -------------------------------------
ip netns add "$R"
rip() { ip -n "$R" "$@"; }
rip link set lo up
for b in br-nas:10.10.0.1/24 br-lan:192.168.1.1/24; do
  rip link add "${b%%:*}" type bridge && rip link set "${b%%:*}" up && rip addr add "${b#*:}" dev "${b%%:*}"
done
links() { ip -n "$R" -o link show | sed 's/^[0-9]*: \([^:@]*\).*/\1/' | sort; }
before=$(links)
# The NAS's data partition, found by name in --partition-dir.
truncate -s 16M "$work/nas-data.ext4"
mkfs.ext4 -q -F "$work/nas-data.ext4"
part_loop=$(losetup -f --show "$work/nas-data.ext4")
mkdir -p "$work/parts" && ln -s "$part_loop" "$work/parts/nas-data"
run() {  # IMG [args]: run inside the router host namespace
  local img=$1; shift
  nsenter --net="/run/netns/$R" "$launch" run "$work/$img" --keyring "$work/keys" --compat nestbox-demo-hgw \
    --state-dir "$work/run" --partition-dir "$work/parts" "$@"
}
expect() { grep -qE -- "$2" <<<"$1" || fail "$3: expected /$2/ in: $1"; }
nothing_left() {
  for _ in $(seq 50); do losetup -a | grep -q "$work/[^n]" || break; sleep 0.1; done
  ! losetup -a | grep "$work/[^n]" || fail "$1: loop device left behind"   # (nas-data is the test's own)
  ! grep "$work" /proc/self/mountinfo || fail "$1: mount left behind"
  # The shared-base lock file stays (removing a lock file races its next user).
  [ -z "$(ls -A "$work/run" 2>/dev/null | grep -vx .bases)" ] || fail "$1: state left behind"
  [ -z "$(ls -A "$work/run/.bases" 2>/dev/null | grep -vx lock)" ] || fail "$1: shared base left behind"
  [ "$(links)" = "$before" ] || fail "$1: router links changed: $(links | tr '\n' ' ')"
}

# --- nas: system model, two veths in two bridges, partition storage -----------------
o=$(run nas.img); echo "$o"
expect "$o" "^host=nas domain=lan uid=0$" nas
expect "$o" "^CapEff:	00000000000404eb$" nas   # CHOWN DAC_OVERRIDE FOWNER KILL SETGID SETUID NET_BIND_SERVICE SYS_CHROOT
expect "$o" "^NoNewPrivs:	1$" nas
expect "$o" "^ eth0@" nas
expect "$o" "^ lan0@" nas
expect "$o" "inet 10.10.0.2/24 .* eth0" nas
expect "$o" "inet 192.168.1.20/24 .* lan0" nas
expect "$o" "^default via 10.10.0.1 dev eth0" nas
expect "$o" "^root=ro$" nas
expect "$o" "^/srv ext4$" nas
expect "$o" "^/tmp tmpfs$" nas
expect "$o" "^sleepers=2$" nas   # the two services were started by the container's init
expect "$o" "^mount=no$" nas
nothing_left nas

# --- dns: host-hardlink rootfs (squashed here), veth without a bridge ---------------
o=$(run dns.img); echo "$o"
expect "$o" "^host=dns domain=\(none\) uid=0$" dns
expect "$o" "^CapEff:	00000000000034c0$" dns   # SETGID SETUID NET_BIND_SERVICE NET_ADMIN NET_RAW
expect "$o" "^Seccomp:	2$" dns
expect "$o" "inet 10.20.0.2/24 .* eth0" dns
expect "$o" "^default via 10.20.0.1 dev eth0" dns
expect "$o" "^root=ro$" dns
expect "$o" "^/run tmpfs$" dns
expect "$o" "^mount=no$" dns
nothing_left dns

# --- untrusted app: overlay on a pinned base, user namespace, macvlan private -------
if err=$(run app-unpinned.img --base "$work/appbase.img" 2>&1); then fail "unpinned base accepted"; fi
echo "unpinned: $err"
expect "$err" "neither pins a base digest" unpinned
if err=$(run app.img --base "$work/appbase2.img" 2>&1); then fail "base with another digest accepted"; fi
echo "wrong digest: $err"
expect "$err" "payload digest [0-9a-f]{64} differs from the digest $digest" wrong-digest
if err=$(run app.img --base "$work/appbase-arm.img" 2>&1); then fail "base for another arch accepted"; fi
echo "wrong arch: $err"
expect "$err" "arch 'aarch64'" wrong-arch
if err=$(run app.img --store "$work/empty-store" 2>&1); then fail "missing base accepted"; fi
expect "$err" "no bootable image for appbase" missing-base
nothing_left refusals   # refused before anything was mounted or created
[ ! -e "$work/weather-data.img" ] || fail "storage created for a refused container"

o=$(run app.img --base "$work/appbase.img"); echo "$o"
expect "$o" "^weather-app$" app
expect "$o" "^Uid:	1000	1000	1000	1000$" app
expect "$o" "^CapEff:	0000000000000000$" app
expect "$o" "^NoNewPrivs:	1$" app
expect "$o" "^Seccomp:	2$" app
expect "$o" "^ +0 +100000 +65536$" app
expect "$o" " / [^ ]* ro,.* - overlay " app
expect "$o" "^ +eth0:" app
expect "$o" "lowerdir=[^,]*/lower0:[^,]*/lower1" app   # layer over base
expect "$o" "^<html><body>Sunny, 21 C</body></html>$" app   # the layer's file
[ -s "$work/weather-data.img" ] || fail "app storage image not created"
nothing_left app
# The same base found by name in a container store (slot a active).
mkdir -p "$work/store/appbase"
cp "$work/appbase.img" "$work/store/appbase/slot-a.img"
echo a > "$work/store/appbase/active"
o=$(run app.img --store "$work/store"); echo "$o"
expect "$o" "^<html><body>Sunny, 21 C</body></html>$" app-store
nothing_left app-store
echo "e2e examples: ok"
