#!/bin/sh
# A host-hardlink tree in an OpenWrt-shaped staging rootfs, owned by the build
# user, packed the way OpenWrt packs the firmware's root filesystem
# (include/image.mk, Image/mkfs/squashfs: `mksquashfs4 $(TARGET_DIR) ...
# -root-owned ... -fixed-time $(SOURCE_DATE_EPOCH)`; the stock mksquashfs
# spells it -all-time), mounted from a real loop device and checked against
# its signed tree manifest:
#   compose --root-owned: the packed tree verifies;
#   without it: the mismatch the issue reports, on the tree's root.
# Also: nothing is written through base-files' `var -> tmp` to the host, the
# packed files carry SOURCE_DATE_EPOCH, and compose/sign run as the build user;
# the feed's rootfs hook (openwrt/feed/nestbox/files/nestbox-rootfs-hook.sh,
# run as prepare_rootfs runs the postinst) puts tree and image into the staged
# rootfs, and the packed firmware's image verifies its packed tree.
#
# usage: root_owned_packing_test.sh NESTBOX
set -eu
nestbox="$1"
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop mount of the packed firmware)"; exit 77; }
for t in busybox mksquashfs setpriv; do
	command -v "$t" > /dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the test manifest is built for x86_64"; exit 77; }
build_uid=4242  # the build user: owns the staging dir, runs compose and sign
tmp="$(mktemp -d /tmp/nestbox-packing.XXXXXX)"
cleanup() {
	mountpoint -q "$tmp/fw" && umount "$tmp/fw"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
chmod 0755 "$tmp"
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
export SOURCE_DATE_EPOCH=1700000000
as_builder() { setpriv --reuid "$build_uid" --regid "$build_uid" --clear-groups "$@"; }

# --- an OpenWrt-shaped staging rootfs (package/base-files: var -> tmp) -------
st="$tmp/staging"
mkdir -p "$st/bin" "$st/etc" "$st/lib" "$st/tmp" "$st/usr/lib" "$st/overlay" "$st/work"
ln -s tmp "$st/var"
ln -s /tmp/resolv.conf "$st/etc/resolv.conf"
cp "$(command -v busybox)" "$st/bin/busybox"
ln -s busybox "$st/bin/sh"
printf 'root:x:0:0:root:/root:/bin/ash\n' > "$st/etc/passwd"
touch -d @1800000000 "$st/bin/busybox"  # newer than SOURCE_DATE_EPOCH: packing clamps it
chown -R "$build_uid:$build_uid" "$st"
chmod 0755 "$st"
cat > "$st/work/web.toml" <<EOT
schema = 1
name = "web"
version = 1
arch = "x86_64"
compat = "packing-test"
[process]
command = ["/bin/busybox", "echo", "web"]
[rootfs]
strategy = "host-hardlink"
binaries = ["/bin/busybox"]
include = ["/etc/passwd"]
[[rootfs.source]]
path = "$st"
[[rootfs.dir]]
path = "/proc"
[[rootfs.dir]]
path = "/dev"
[security]
capabilities = []
[mounts]
sys = "none"
EOT
"$nestbox" keygen -t ed25519 -o "$tmp/key" > /dev/null
mkdir -p "$tmp/keys" "$tmp/out" && cp "$tmp/key.pub" "$tmp/keys/"
chown "$build_uid" "$tmp/key.key" "$tmp/out"
host_before=$(ls -d /tmp/lib/nestbox 2> /dev/null || true)

# compose + sign (as USER: builder or root), pack as OpenWrt does, mount, verify.
# build NAME USER [COMPOSE-OPTION...]: leaves the verify output in $tmp/NAME.verify
build() {
	name="$1" user="$2"; shift 2
	run_as=""
	[ "$user" = root ] || run_as=as_builder
	$run_as "$nestbox" compose --out "$tmp/out/$name" "$@" "$st/work/web.toml" > /dev/null
	$run_as "$nestbox" sign --composed "$tmp/out/$name" -k "$tmp/key.key" -o "$tmp/out/$name/img" \
		"$st/work/web.toml" > /dev/null
	rm -f "$tmp/$name.sqfs"
	# (this mksquashfs refuses SOURCE_DATE_EPOCH in its environment beside -all-time)
	env -u SOURCE_DATE_EPOCH mksquashfs "$st" "$tmp/$name.sqfs" -noappend -root-owned -all-time "$SOURCE_DATE_EPOCH" \
		-p '/dev d 755 0 0' -p '/dev/console c 600 0 0 5 1' -no-progress -quiet > /dev/null
	mkdir -p "$tmp/fw"
	mount -t squashfs -o loop,ro "$tmp/$name.sqfs" "$tmp/fw"
	rc=0
	"$nestbox" verify "$tmp/out/$name/img/web.img" --keyring "$tmp/keys" \
		--tree "$tmp/fw/usr/lib/nestbox/rootfs/web" > "$tmp/$name.verify" 2>&1 || rc=$?
	echo "$rc" > "$tmp/$name.rc"
	# The firmware as packed: 0:0 and every time SOURCE_DATE_EPOCH.
	stat -c '%u:%g %Y' "$tmp/fw/usr/lib/nestbox/rootfs/web/bin/busybox" > "$tmp/$name.stat"
	umount "$tmp/fw"
}

# The build user composes and signs; the firmware packs it root-owned.
build owned builder --root-owned
check test "$(cat "$tmp/owned.rc")" = 0
[ "$(cat "$tmp/owned.rc")" = 0 ] || cat "$tmp/owned.verify"
check test "$(cat "$tmp/owned.stat")" = "0:0 $SOURCE_DATE_EPOCH"
check test -f "$tmp/out/owned/runtime/web/packing"
check test "$(cat "$tmp/out/owned/runtime/web/packing")" = "root-owned"
# The tree itself stays the build user's and shares the staging file's inode.
check test "$(stat -c '%u %i' "$st/usr/lib/nestbox/rootfs/web/bin/busybox")" = \
	"$build_uid $(stat -c %i "$st/bin/busybox")"

# Without --root-owned the build user cannot even write the tree (its
# directories are root's, chown is refused); as root it can, with the build
# user's owners of the staging files, which the packed firmware no longer has.
rc=0
as_builder "$nestbox" compose --out "$tmp/out/user" "$st/work/web.toml" > /dev/null 2> "$tmp/user.err" || rc=$?
check test "$rc" = 1
check grep -q "^nestbox compose: chown .*: Operation not permitted" "$tmp/user.err"
mkdir -p "$tmp/out/plain"
build plain root
check test "$(cat "$tmp/plain.rc")" = 1
mode=$(stat -c %a "$st/usr/lib/nestbox/rootfs/web")
check grep -qF "tree: /: differs from the signed manifest (expected '/ d 0$mode $build_uid $build_uid - -', found '/ d 0$mode 0 0 - -')" "$tmp/plain.verify"
[ "$(cat "$tmp/plain.rc")" = 1 ] || cat "$tmp/plain.verify"

# The feed's rootfs hook, as prepare_rootfs runs nestbox-launch's postinst
# (IPKG_INSTROOT = the staged rootfs), as the build user: the vendor CI gate
# with --root-owned, the signed image into the rootfs; then packed, mounted,
# and the firmware's own image checked against the firmware's own tree.
if [ -r /proc/config.gz ]; then
	zcat /proc/config.gz > "$tmp/kconfig"
	mkdir -p "$tmp/hookwork" && chown "$build_uid" "$tmp/hookwork"
	rc=0
	as_builder env IPKG_INSTROOT="$st" NESTBOX_MANIFESTS="$st/work/web.toml" NESTBOX="$nestbox" \
		NESTBOX_CI="$src/openwrt/ci/vendor-ci.sh" NESTBOX_SIGNING_KEY="$tmp/key.key" \
		NESTBOX_KEYRING="$tmp/keys" NESTBOX_KERNEL_CONFIG="$tmp/kconfig" NESTBOX_ARCH=x86_64 \
		NESTBOX_COMPAT=packing-test NESTBOX_WORK="$tmp/hookwork" \
		sh "$src/openwrt/feed/nestbox/files/nestbox-rootfs-hook.sh" "$st" > "$tmp/hook.out" 2>&1 || rc=$?
	check test "$rc" = 0
	[ "$rc" = 0 ] || cat "$tmp/hook.out"
	check test -f "$st/usr/lib/nestbox/images/web.img"
	env -u SOURCE_DATE_EPOCH mksquashfs "$st" "$tmp/hook.sqfs" -noappend -root-owned -all-time "$SOURCE_DATE_EPOCH" \
		-no-progress -quiet > /dev/null
	mount -t squashfs -o loop,ro "$tmp/hook.sqfs" "$tmp/fw"
	rc=0
	"$nestbox" verify "$tmp/fw/usr/lib/nestbox/images/web.img" --keyring "$tmp/keys" --arch x86_64 \
		--compat packing-test --tree "$tmp/fw/usr/lib/nestbox/rootfs/web" > "$tmp/hook.verify" 2>&1 || rc=$?
	umount "$tmp/fw"
	check test "$rc" = 0
	[ "$rc" = 0 ] || cat "$tmp/hook.verify"
	rm -rf "$st/usr/lib/nestbox/images"
else
	echo "note: no /proc/config.gz: the rootfs hook (it runs kernel-check) is not checked"
fi

# An unknown packing record is refused, not taken for the build user's owners.
echo "user-owned" > "$tmp/out/owned/runtime/web/packing"
rc=0
as_builder "$nestbox" sign --composed "$tmp/out/owned" -k "$tmp/key.key" -o "$tmp/out/owned/again" \
	"$st/work/web.toml" > /dev/null 2> "$tmp/bad.err" || rc=$?
check test "$rc" = 2
check grep -qF "$tmp/out/owned/runtime/web/packing: unknown packing 'user-owned" "$tmp/bad.err"

# Nothing reached the build host through var -> tmp.
check test "$(ls -d /tmp/lib/nestbox 2> /dev/null || true)" = "$host_before"
check test -z "$(ls -A "$st/tmp")"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
