#!/bin/sh
# The packed firmware's host-hardlink tree verifies at boot, on the device:
# composed in an OpenWrt-shaped staging rootfs by a build user, signed with
# `sign --composed` (compose --root-owned), packed as OpenWrt packs the root
# filesystem (mksquashfs -root-owned, SOURCE_DATE_EPOCH), the firmware
# loop-mounted; nestbox-launch installs the signed image and runs the
# container from the tree at the location the image signs (compose's
# --hardlink-dir), after checking every entry against the signed manifest.
# Then the same tree copied to a writable filesystem (root-owned) runs, and
# one changed byte, an extra file, a missing file, a chmod, a swapped
# symlink, a file the build user owns and a mount inside the tree are each
# refused at start with the entry named.
#
# usage: tree_boot_test.sh NESTBOX NESTBOX-LAUNCH
set -eu
nestbox="$1" launch="$2"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (loop mount of the packed firmware, nestbox-launch)"; exit 77; }
for t in busybox mksquashfs setpriv; do
	command -v "$t" > /dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the test manifest is built for x86_64"; exit 77; }
build_uid=4242
tmp="$(mktemp -d /tmp/nestbox-tree-boot.XXXXXX)"
dev="$tmp/device-trees"  # compose's --hardlink-dir: where the device finds the trees
cleanup() {
	for m in "$dev/web/etc" "$dev" "$tmp/fw"; do
		mountpoint -q "$m" 2> /dev/null && umount "$m"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
chmod 0755 "$tmp"
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
export SOURCE_DATE_EPOCH=1700000000
as_builder() { setpriv --reuid "$build_uid" --regid "$build_uid" --clear-groups "$@"; }

# --- an OpenWrt-shaped staging rootfs (base-files: var -> tmp), the build user's
st="$tmp/staging"
mkdir -p "$st/bin" "$st/etc" "$st/lib" "$st/tmp" "$st/usr/lib" "$st/work"
ln -s tmp "$st/var"
cp "$(command -v busybox)" "$st/bin/busybox"
ln -s busybox "$st/bin/sh"
printf 'root:x:0:0:root:/root:/bin/ash\n' > "$st/etc/passwd"
chown -R "$build_uid:$build_uid" "$st"
chmod 0755 "$st"
cat > "$st/work/web.toml" <<EOT
schema = 1
name = "web"
version = 1
arch = "x86_64"
compat = "tree-boot-test"
[process]
command = ["/bin/sh", "-c", "echo web from the tree; cat /etc/passwd"]
[rootfs]
strategy = "host-hardlink"
binaries = ["/bin/busybox"]
include = ["/etc/passwd", "/bin/sh"]
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
as_builder "$nestbox" compose --root-owned --hardlink-dir "$dev" --out "$tmp/out/c" "$st/work/web.toml" > /dev/null
as_builder "$nestbox" sign --composed "$tmp/out/c" -k "$tmp/key.key" -o "$tmp/out/img" "$st/work/web.toml" > /dev/null
img="$tmp/out/img/web.img"
# (this mksquashfs refuses SOURCE_DATE_EPOCH in its environment beside -all-time)
env -u SOURCE_DATE_EPOCH mksquashfs "$st" "$tmp/fw.sqfs" -noappend -root-owned -all-time "$SOURCE_DATE_EPOCH" \
	-no-progress -quiet > /dev/null
mkdir -p "$tmp/fw" "$dev"
mount -t squashfs -o loop,ro "$tmp/fw.sqfs" "$tmp/fw"

# --- the device: the firmware's tree where the image says, the image installed
mount --bind "$tmp/fw$dev" "$dev"
launch_args="--keyring $tmp/keys --compat tree-boot-test --state-dir $tmp/run --store $tmp/store"
# shellcheck disable=SC2086  # a word list of options without spaces
"$launch" install "$img" $launch_args > /dev/null
run() {  # run NAME-OR-IMAGE: output in $tmp/out.txt, errors in $tmp/err.txt
	rc=0
	# shellcheck disable=SC2086
	"$launch" run "$1" $launch_args > "$tmp/out.txt" 2> "$tmp/err.txt" || rc=$?
	return "$rc"
}
check run web
check grep -qx "web from the tree" "$tmp/out.txt"
check grep -qx "root:x:0:0:root:/root:/bin/ash" "$tmp/out.txt"
[ -s "$tmp/err.txt" ] && cat "$tmp/err.txt"
# (the build user's file is refused as an image to mount: run a root-owned copy)
install -m 0644 -o 0 -g 0 "$img" "$tmp/web.img"
check run "$tmp/web.img"
check grep -qx "web from the tree" "$tmp/out.txt"
umount "$dev"

# --- a writable copy (tmpfs, root-owned as packed): runs; every change refused
mount -t tmpfs -o mode=0755 tmpfs "$dev"
fresh() { rm -rf "$dev/web" && cp -a "$tmp/fw$dev/web" "$dev/web"; }
refused() {  # refused EXPECTED-MESSAGE: `run web` fails, naming it
	if run web; then echo "FAIL: started: $1"; return 1; fi
	grep -qF "nestbox-launch run: $tmp/store/" "$tmp/err.txt" && grep -qF "tree $dev/web: $1" "$tmp/err.txt" && return 0
	echo "FAIL: expected '$1' in:"; cat "$tmp/err.txt"; return 1
}
fresh
check run web
check grep -qx "web from the tree" "$tmp/out.txt"
fresh; printf 'R' | dd of="$dev/web/etc/passwd" bs=1 count=1 conv=notrunc 2> /dev/null
check refused "tree: /etc/passwd: differs from the signed manifest (expected '/etc/passwd f 0644 0 0 31:"
fresh; : > "$dev/web/etc/extra"
check refused "tree: /etc/extra: not in the signed manifest"
fresh; rm "$dev/web/etc/passwd"
check refused "tree: /etc/passwd: missing"
fresh; chmod 0700 "$dev/web/bin"
check refused "tree: /bin: differs from the signed manifest (expected '/bin d 0755 0 0 - -', found '/bin d 0700 0 0 - -')"
fresh; ln -sfn /etc/passwd "$dev/web/bin/sh"
check refused "tree: /bin/sh: differs from the signed manifest (expected '/bin/sh l 0777 0 0 busybox -', found '/bin/sh l 0777 0 0 /etc/passwd -')"
fresh; chown "$build_uid" "$dev/web/etc/passwd"
check refused "tree: /etc/passwd: owned by uid $build_uid, not root: it could be changed after it was verified"
fresh; mount -t tmpfs tmpfs "$dev/web/etc"
check refused "tree: /etc: a mount point inside the tree (the tree must be one filesystem)"
umount "$dev/web/etc"
# The tree's place is the signed one: a symlink on the way is refused.
rm -rf "$dev/web" && mkdir "$dev/real" && cp -a "$tmp/fw$dev/web" "$dev/real/web" && ln -s real/web "$dev/web"
check refused "$dev/web: not a directory (a symlink on the way to a tree is refused)"
umount "$dev"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
