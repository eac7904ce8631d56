#!/bin/sh
# The OpenWrt recipes with the real nestbox: openwrt/ci/vendor-ci.sh (validate
# -> kernel-check -> compose --staging -> sign --composed -> verify) and
# openwrt/image/nestbox.mk's Build/nestbox-images driven by GNU make the way an
# OpenWrt image recipe calls it, against a staged rootfs with busybox and three
# manifests that name it `path = "."` (two overlay containers over one base,
# one standalone squashfs). Checks: every report is JSON, every image verifies
# with the keyring and carries the manifest's identity, the base is signed at
# the highest version of its containers, the make recipe's tar is
# byte-identical across two runs, a kernel config without squashfs fails the
# gate at kernel-check with exit 1 and leaves no image behind; as root, the
# images install into a store and the overlay container runs over its base.
#
# usage: vendor_ci_real_test.sh NESTBOX NESTBOX_LAUNCH
set -eu
nestbox="$1" launch="$2"
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
for t in busybox make python3 tar zcat; do
	command -v "$t" > /dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ -r /proc/config.gz ] || { echo "SKIP: needs the running kernel's config (/proc/config.gz)"; exit 77; }
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the test manifests are built for x86_64"; exit 77; }
tmp="$(mktemp -d /tmp/nestbox-vendor-ci.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
export SOURCE_DATE_EPOCH=1700000000

# --- a staged rootfs, kept apart from the manifests -------------------------
mkdir -p "$tmp/target/bin" "$tmp/target/etc" "$tmp/vendor" "$tmp/keys"
cp "$(command -v busybox)" "$tmp/target/bin/busybox"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$tmp/target/etc/passwd"
zcat /proc/config.gz > "$tmp/kconfig"
sed 's/^CONFIG_SQUASHFS=.*/# CONFIG_SQUASHFS is not set/' "$tmp/kconfig" > "$tmp/kconfig-nosquashfs"

manifest() {  # manifest NAME VERSION STRATEGY EXTRA-ROOTFS-LINE
	cat > "$tmp/vendor/$1.toml" <<EOF
schema = 1
name = "$1"
version = $2
arch = "x86_64"
compat = "vendor-ci-test"
[process]
command = ["/bin/busybox", "echo", "$1 v$2"]
[rootfs]
strategy = "$3"
compressor = "gzip"
binaries = ["/bin/busybox"]
include = ["/etc/passwd"]
$4
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
EOF
}
manifest web 4 overlay 'base = "shared"'
manifest nas 7 overlay 'base = "shared"'
manifest tool 2 squashfs ''
manifests="$tmp/vendor/nas.toml $tmp/vendor/tool.toml $tmp/vendor/web.toml"
"$nestbox" keygen -t ed25519 -o "$tmp/vendor-key" > /dev/null
cp "$tmp/vendor-key.pub" "$tmp/keys/"

# --- vendor-ci.sh ------------------------------------------------------------
rc=0
# shellcheck disable=SC2086  # a word list of paths without spaces
NESTBOX="$nestbox" sh "$src/openwrt/ci/vendor-ci.sh" --staging "$tmp/target" --kernel-config "$tmp/kconfig" \
	--key "$tmp/vendor-key.key" --keyring "$tmp/keys" --out "$tmp/ci" $manifests > "$tmp/ci.out" 2>&1 || rc=$?
check test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$tmp/ci.out" "$tmp"/ci/reports/*.log 2> /dev/null
check test "$(cd "$tmp/ci/images" && echo *.img)" = "nas.img shared.img tool.img web.img"
for r in "$tmp"/ci/reports/*.json; do
	check python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$r"
done
check python3 - "$tmp/ci/reports/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
got = [(x["stage"], x["exit"]) for x in s["stages"]]
want = [("validate", 0), ("kernel-check", 0), ("compose", 0), ("sign", 0), ("verify-nas", 0),
        ("verify-shared", 0), ("verify-tool", 0), ("verify-web", 0)]
sys.exit(0 if s["ok"] is True and got == want else print(s) or 1)
PY
# Each image as the device sees it: name, version, arch, compat; a policy for
# containers, none for the base, which carries the highest version of its users.
identity() {  # identity IMG -> "name version arch compat policy_size"
	"$nestbox" verify "$1" --keyring "$tmp/keys" --json |
		python3 -c 'import json, sys; i = json.load(sys.stdin); print(i["name"], i["version"], i["arch"], i["compat"], i["policy_size"] > 0)'
}
check test "$(identity "$tmp/ci/images/web.img")" = "web 4 x86_64 vendor-ci-test True"
check test "$(identity "$tmp/ci/images/nas.img")" = "nas 7 x86_64 vendor-ci-test True"
check test "$(identity "$tmp/ci/images/tool.img")" = "tool 2 x86_64 vendor-ci-test True"
check test "$(identity "$tmp/ci/images/shared.img")" = "shared 7 x86_64 vendor-ci-test False"
# A rerun into the same OUT with one container dropped: its image from the
# first run is gone, not passed off as signed and verified.
cp -a "$tmp/ci" "$tmp/ci-rerun"
rc=0
NESTBOX="$nestbox" sh "$src/openwrt/ci/vendor-ci.sh" --staging "$tmp/target" --kernel-config "$tmp/kconfig" \
	--key "$tmp/vendor-key.key" --keyring "$tmp/keys" --out "$tmp/ci-rerun" \
	"$tmp/vendor/nas.toml" "$tmp/vendor/web.toml" > /dev/null 2>&1 || rc=$?
check test "$rc" -eq 0
check test "$(cd "$tmp/ci-rerun/images" && echo *.img)" = "nas.img shared.img web.img"
check test ! -e "$tmp/ci-rerun/reports/08-verify-web.json"
# The compose outputs stay in OUT/build, not among the images.
check test -f "$tmp/ci/build/base/shared.sqfs"
check test -f "$tmp/ci/build/runtime/web/config.json"

# sign --composed goes by the strategy each baked policy records, not by which
# files exist: a stale layer of tool (a squashfs container) is not signed; and
# after a compose run with --strategy, which wrote no overlay layers, the
# overlay containers are refused rather than signed from stale layers.
cp "$tmp/ci/build/web.layer.sqfs" "$tmp/ci/build/tool.layer.sqfs"
# shellcheck disable=SC2086
"$nestbox" sign --composed "$tmp/ci/build" --staging "$tmp/target" -k "$tmp/vendor-key.key" \
	-o "$tmp/again" $manifests > /dev/null
payload_size() {
	"$nestbox" verify "$1" --keyring "$tmp/keys" --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["squashfs_size"])'
}
check test "$(payload_size "$tmp/again/tool.img")" = "$(stat -c %s "$tmp/ci/build/tool.sqfs")"
check cmp -s "$tmp/again/web.img" "$tmp/ci/images/web.img"
# shellcheck disable=SC2086
"$nestbox" compose --staging "$tmp/target" --strategy tree --out "$tmp/ci/build" $manifests > /dev/null
rc=0
# shellcheck disable=SC2086
"$nestbox" sign --composed "$tmp/ci/build" --staging "$tmp/target" -k "$tmp/vendor-key.key" \
	-o "$tmp/stale" $manifests > /dev/null 2> "$tmp/stale.err" || rc=$?
check test "$rc" -eq 2
check grep -q "policy.bin: overlay policy without a pinned base: compose did not write 'nas' as an overlay layer" "$tmp/stale.err"

# A kernel without squashfs: the gate stops at kernel-check, exit 1, no images.
rc=0
# shellcheck disable=SC2086
NESTBOX="$nestbox" sh "$src/openwrt/ci/vendor-ci.sh" --staging "$tmp/target" \
	--kernel-config "$tmp/kconfig-nosquashfs" --key "$tmp/vendor-key.key" --keyring "$tmp/keys" \
	--out "$tmp/ci-bad" $manifests > /dev/null 2> "$tmp/bad.err" || rc=$?
check test "$rc" -eq 1
check grep -q "vendor-ci: kernel-check failed (exit 1, failure)" "$tmp/bad.err"
check test -z "$(ls "$tmp/ci-bad/images")"

# A manifest whose source is relative but no --staging directory exists.
rc=0
# shellcheck disable=SC2086
"$nestbox" compose --staging "$tmp/no-such-dir" --out "$tmp/x" $manifests > /dev/null 2> "$tmp/nostaging.err" || rc=$?
check test "$rc" -eq 2
check grep -q -- "--staging $tmp/no-such-dir: not a directory" "$tmp/nostaging.err"

# --- nestbox.mk, as an OpenWrt image recipe calls it ------------------------
cat > "$tmp/image.mk" <<EOF
include $src/openwrt/image/nestbox.mk
\$(BIN_DIR)/nestbox.bin:
	\$(call Build/nestbox-images)
EOF
mk() {  # mk BIN_DIR [VAR=VALUE...]
	bin_dir="$1"; shift
	mkdir -p "$bin_dir"
	make -s --no-print-directory -f "$tmp/image.mk" "$bin_dir/nestbox.bin" BIN_DIR="$bin_dir" \
		NESTBOX="$nestbox" NESTBOX_CI="$src/openwrt/ci/vendor-ci.sh" TARGET_DIR="$tmp/target" \
		NESTBOX_KERNEL_CONFIG="$tmp/kconfig" NESTBOX_SIGNING_KEY="$tmp/vendor-key.key" \
		NESTBOX_KEYRING="$tmp/keys" NESTBOX_MANIFESTS="$manifests" SOURCE_DATE_EPOCH=1700000000 "$@"
}
check mk "$tmp/bin1" > "$tmp/mk1.out" 2>&1
check mk "$tmp/bin2" > "$tmp/mk2.out" 2>&1
check test "$(tar -tf "$tmp/bin1/nestbox.bin" | sort | tr '\n' ' ')" = "./ ./nas.img ./shared.img ./tool.img ./web.img "
check cmp -s "$tmp/bin1/nestbox.bin" "$tmp/bin2/nestbox.bin"
check test ! -e "$tmp/bin1/nestbox.bin.nestbox"
mkdir -p "$tmp/fw"
tar -xf "$tmp/bin1/nestbox.bin" -C "$tmp/fw"
check cmp -s "$tmp/fw/web.img" "$tmp/ci/images/web.img"
rc=0
mk "$tmp/bin3" NESTBOX_KERNEL_CONFIG="$tmp/kconfig-nosquashfs" > "$tmp/mk3.out" 2>&1 || rc=$?
check test "$rc" -ne 0
check test ! -e "$tmp/bin3/nestbox.bin"
check grep -q "kernel-check failed" "$tmp/mk3.out"

# --- on the device: install the firmware's images, run the overlay one --------
if [ "$(id -u)" = 0 ]; then
	for img in shared tool web nas; do
		check "$launch" install "$tmp/fw/$img.img" --store "$tmp/store" --keyring "$tmp/keys" \
			--compat vendor-ci-test --state-dir "$tmp/run"
	done > /dev/null
	out=$("$launch" run web --store "$tmp/store" --keyring "$tmp/keys" --compat vendor-ci-test \
		--state-dir "$tmp/run" 2> "$tmp/run.err") || true
	check test "$out" = "web v4"
	[ "$out" = "web v4" ] || cat "$tmp/run.err"
else
	echo "note: not root, the install and run on the device are not checked"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
