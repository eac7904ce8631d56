#!/bin/sh
# The first boot after a flash or sysupgrade, simulated with the real
# nestbox-launch: openwrt/feed/nestbox/files/nestbox.uci-defaults installs the
# signed images the firmware carries when they are newer than the store's, and
# the store (with its rollback records) survives sysupgrade through
# /lib/upgrade/keep.d/nestbox.
#   store: web version 1 installed
#   upgrade to a firmware carrying web version 2 -> installed, active
#   upgrade to a firmware carrying web version 1 again -> left alone
# Each upgrade keeps exactly the paths keep.d lists (a tar of them, restored
# on a fresh overlay, as sysupgrade does) and runs the uci-defaults script.
# The store starts as an older release left it (records in its own .state);
# the scripts keep them in the device's records directory
# (/etc/nestbox/rollback) from then on, for every store, and a UCI edit
# (dropping `option store`) cannot bring an older store's versions back.
#
# usage: first_boot_test.sh NESTBOX NESTBOX_LAUNCH [NESTBOX_LAUNCH_OPENWRT]
# (the last: nestbox-launch built as the OpenWrt package builds it, with its
# default --rollback-dir /etc/nestbox/rollback)
set -eu
nestbox="$1" launch="$2" launch_openwrt="${3:-}"
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (nestbox-launch's store and keyring are root's)"; exit 77; }
for t in busybox python3 tar; do
	command -v "$t" > /dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the test manifest is built for x86_64"; exit 77; }
tmp="$(mktemp -d /tmp/nestbox-first-boot.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
export SOURCE_DATE_EPOCH=1700000000

# --- signed images of web, versions 1 and 2 ---------------------------------
mkdir -p "$tmp/staging/bin" "$tmp/keys"
cp "$(command -v busybox)" "$tmp/staging/bin/busybox"
"$nestbox" keygen -t ed25519 -o "$tmp/key" > /dev/null
cp "$tmp/key.pub" "$tmp/keys/"
for v in 1 2; do
	cat > "$tmp/web.toml" <<EOT
schema = 1
name = "web"
version = $v
security_version = $v
arch = "x86_64"
compat = "first-boot-test"
[process]
command = ["/bin/busybox", "echo", "web v$v"]
[rootfs]
strategy = "squashfs"
compressor = "gzip"
binaries = ["/bin/busybox"]
[[rootfs.source]]
path = "."
[[rootfs.dir]]
path = "/proc"
[[rootfs.dir]]
path = "/dev"
[security]
capabilities = []
[mounts]
sys = "none"
EOT
	"$nestbox" compose --staging "$tmp/staging" --out "$tmp/build$v" "$tmp/web.toml" > /dev/null
	"$nestbox" sign --composed "$tmp/build$v" --staging "$tmp/staging" -k "$tmp/key.key" -o "$tmp/signed$v" \
		"$tmp/web.toml" > /dev/null
done

# --- the device --------------------------------------------------------------
dev="$tmp/device"  # the overlay: what sysupgrade may keep
store="$dev/srv/nestbox/store"
records="$dev/etc/nestbox/rollback"  # the scripts' /etc/nestbox/rollback
launch_args="--keyring $tmp/keys --compat first-boot-test --state-dir $tmp/run"
# shellcheck disable=SC2086  # a word list of options without spaces
"$launch" install "$tmp/signed1/web.img" --store "$store" $launch_args > /dev/null
active() {  # the active version of web in the store
	# shellcheck disable=SC2086
	"$launch" list --json --store "$store" $launch_args |
		python3 -c 'import json, sys; print([s["version"] for c in json.load(sys.stdin) if c["name"] == "web" for s in c["slots"] if s["active"]][0])'
}
check test "$(active)" = 1

# sysupgrade to a firmware carrying web version V: keep what keep.d lists,
# flash (a fresh overlay), restore, then the first boot's uci-defaults.
upgrade() {  # upgrade V -> exit status of the uci-defaults script
	# sysupgrade keeps the listed paths that exist
	grep -v '^#' "$src/openwrt/feed/nestbox/files/nestbox.keep" | sed 's|^/|./|' |
		while read -r p; do [ ! -e "$dev/$p" ] || echo "$p"; done > "$tmp/keep.list"
	(cd "$dev" && tar -cf "$tmp/backup.tar" -T "$tmp/keep.list")
	rm -rf "$dev" && mkdir -p "$dev"
	tar -xf "$tmp/backup.tar" -C "$dev"
	rm -rf "$tmp/fw" && mkdir -p "$tmp/fw/usr/lib/nestbox/images"
	cp "$tmp/signed$1/web.img" "$tmp/fw/usr/lib/nestbox/images/"
	# /etc/init.d/boot sources each uci-defaults file in a subshell.
	# shellcheck source=/dev/null
	(NESTBOX_LAUNCH="$launch" NESTBOX_FIRMWARE_IMAGES="$tmp/fw/usr/lib/nestbox/images" \
		NESTBOX_STORE="$store" NESTBOX_ROLLBACK_DIR="$records" NESTBOX_INSTALL_ARGS="$launch_args" \
		. "$src/openwrt/feed/nestbox/files/nestbox.uci-defaults") > "$tmp/boot$1.out" 2>&1
}

rc=0; upgrade 2 || rc=$?
check test "$rc" = 0
check test "$(active)" = 2
check grep -q "web: installed version 2" "$tmp/boot2.out"
check test "$(cat "$records/web.version")" = 2
check test "$(cat "$records/web.security_version")" = 2

rc=0; upgrade 1 || rc=$?
check test "$rc" = 0
check test "$(active)" = 2
check grep -q "web: version 1 is not newer than the installed one: not installed" "$tmp/boot1.out"
# The rollback records came through both upgrades, never lowered.
check test "$(cat "$records/web.version")" = 2
check test "$(cat "$records/web.security_version")" = 2
# The store still holds both slots: the rollback target is version 1.
check test -f "$store/web/slot-a.img"
check test -f "$store/web/slot-b.img"

# An image that does not verify is not installed and keeps the script for the
# next boot (exit non-zero), the store untouched.
rm -rf "$tmp/fw" && mkdir -p "$tmp/fw"
cp "$tmp/signed2/web.img" "$tmp/fw/bad.img"
printf 'x' | dd of="$tmp/fw/bad.img" bs=1 seek=5000 conv=notrunc 2> /dev/null
rc=0
# shellcheck source=/dev/null
(NESTBOX_LAUNCH="$launch" NESTBOX_FIRMWARE_IMAGES="$tmp/fw" NESTBOX_STORE="$store" \
	NESTBOX_ROLLBACK_DIR="$records" NESTBOX_INSTALL_ARGS="$launch_args" \
	. "$src/openwrt/feed/nestbox/files/nestbox.uci-defaults") \
	> "$tmp/bad.out" 2>&1 || rc=$?
check test "$rc" = 1
check test "$(active)" = 2

# A UCI edit cannot lower the floor. Another store (the one `option store`
# named before it was moved, or the default one) still holds version 1 with
# its own record 1; the UCI config now names no store. The command the init
# script gives procd, run with the real launcher, refuses version 1: the
# device's records (2) hold for every store.
old_store="$tmp/old-store"
# shellcheck disable=SC2086
"$launch" install "$tmp/signed1/web.img" --store "$old_store" $launch_args > /dev/null
check test "$(cat "$old_store/.state/web.security_version")" = 1
mkdir -p "$tmp/uci"
printf "config container 'web'\n\toption enabled '1'\n" > "$tmp/uci/nestbox"
: > "$tmp/procd.log"
NESTBOX_LAUNCH="$launch" NESTBOX_ROLLBACK_DIR="$records" UCI_CONFIG_DIR="$tmp/uci" PROCD_LOG="$tmp/procd.log" \
	sh -c '. "$1"; . "$2"; start_service' sh "$src/tests/openwrt/procd_stubs.sh" \
	"$src/openwrt/feed/nestbox/files/nestbox.init"
command_line="$(sed -n 's/^set_param command //p' "$tmp/procd.log")"
check test -n "$command_line"
rc=0
# shellcheck disable=SC2086  # the logged words hold no spaces; the test's store
# stands in for the launcher's default one
$command_line --store "$old_store" $launch_args > "$tmp/uci-switch.out" 2>&1 || rc=$?
check test "$rc" != 0
check grep -q "security version 1, lower than this device's 2" "$tmp/uci-switch.out"
if grep -q "web v1" "$tmp/uci-switch.out"; then fails=$((fails + 1)); echo "FAIL: version 1 ran"; cat "$tmp/uci-switch.out"; fi

# By hand, as an operator runs it on the router: `run OLD.img` with no
# --rollback-dir. The store's own .state still says 1 (an older release kept
# the records there); the OpenWrt-built launcher checks the device's records
# (2) by default, like boot, and refuses version 1. (/etc is the device's
# overlay, bound over it in a mount namespace of the test's.)
if [ -n "$launch_openwrt" ]; then
	check test "$(cat "$store/.state/web.security_version")" = 1
	rc=0
	# shellcheck disable=SC2016,SC2086
	unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" /etc && shift && exec "$@"' sh "$dev/etc" \
		"$launch_openwrt" run "$tmp/signed1/web.img" --store "$store" $launch_args > "$tmp/by-hand.out" 2>&1 || rc=$?
	check test "$rc" != 0
	check grep -q "security version 1, lower than this device's 2" "$tmp/by-hand.out"
	if grep -q "web v1" "$tmp/by-hand.out"; then fails=$((fails + 1)); echo "FAIL: version 1 ran by hand"; fi
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
