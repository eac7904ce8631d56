#!/bin/sh
# What an OpenWrt build must hold for the example manifests: the real
# `nestbox kernel-check --openwrt-packages/--openwrt-kconfig` (kernel-check's
# table, kernel-check/features.h openwrt_kmod; the package names are those of
# openwrt/openwrt package/kernel/linux/modules/*.mk: kmod-loop in block.mk,
# kmod-veth and kmod-bridge in netsupport.mk, kmod-macvlan in netdevices.mk, kmod-fs-squashfs and
# kmod-fs-ext4 in fs.mk), and the image recipe's $(call nestbox-kmods,...)
# (openwrt/image/nestbox.mk) that puts them into DEVICE_PACKAGES.
# usage: kmods_test.sh NESTBOX
set -eu
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
nestbox="$1"
ex="$src/examples"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
kmods() { "$nestbox" kernel-check --openwrt-packages --manifests "$@" | tr '\n' ' '; }

# dns: one veth interface (on a bridge), a host-hardlink tree (nothing loop-mounted).
check test "$(kmods "$ex/dns.toml")" = "kmod-bridge kmod-veth "
# nas: a squashfs image (loop, squashfs), two veth interfaces (bridged), an ext4 partition.
check test "$(kmods "$ex/nas.toml")" = "kmod-bridge kmod-fs-ext4 kmod-fs-squashfs kmod-loop kmod-veth "
# untrusted-app: macvlan, an overlay over a squashfs base, an ext4 loop image store.
out="$(kmods "$ex/untrusted-app.toml")"
check sh -c "echo '$out' | grep -q 'kmod-macvlan '"
check sh -c "echo '$out' | grep -q 'kmod-loop '"
check sh -c "echo '$out' | grep -q 'kmod-fs-ext4 '"
check sh -c "! echo '$out' | grep -q 'kmod-veth'"
# The set: the union, sorted, each once.
all="$(kmods "$ex/dns.toml" "$ex/nas.toml" "$ex/untrusted-app.toml")"
# shellcheck disable=SC2046 # word lists of package names
check test "$all" = "$(printf '%s\n' $(kmods "$ex/dns.toml") $(kmods "$ex/nas.toml") \
	$(kmods "$ex/untrusted-app.toml") | sort -u | tr '\n' ' ')"

# The buildroot's KERNEL_* options for what OpenWrt has no kmod for
# (namespaces, cgroup controllers, seccomp), as .config lines; a clause a
# kernel version satisfies (">=") is left to kernel-check of the built kernel.
"$nestbox" kernel-check --openwrt-kconfig --manifests "$ex/dns.toml" "$ex/nas.toml" \
	"$ex/untrusted-app.toml" > "$tmp/kconfig"
for k in NAMESPACES USER_NS NET_NS PID_NS IPC_NS UTS_NS CGROUPS MEMCG CGROUP_PIDS SECCOMP SECCOMP_FILTER; do
	check grep -qx "CONFIG_KERNEL_$k=y" "$tmp/kconfig"
done
check sh -c "! grep -v '^CONFIG_KERNEL_[A-Z0-9_]*=y$' '$tmp/kconfig'"
check sh -c "! grep -q 'CONFIG_KERNEL_VETH\|CONFIG_KERNEL_BLK_DEV_LOOP' '$tmp/kconfig'"  # kmods instead
# Both: packages first.
check test "$("$nestbox" kernel-check --openwrt-packages --openwrt-kconfig --manifests "$ex/dns.toml")" \
	= "$("$nestbox" kernel-check --openwrt-packages --manifests "$ex/dns.toml"
		"$nestbox" kernel-check --openwrt-kconfig --manifests "$ex/dns.toml")"

# Bad input: exit 2 with the reason.
rc=0; "$nestbox" kernel-check --openwrt-packages > "$tmp/out" 2>&1 || rc=$?
check test "$rc" -eq 2
check test "$(cat "$tmp/out")" = "nestbox kernel-check: --openwrt-packages/--openwrt-kconfig: --manifests required"
rc=0; "$nestbox" kernel-check --manifests "$ex/dns.toml" > "$tmp/out" 2>&1 || rc=$?
check test "$rc" -eq 2
check test "$(cat "$tmp/out")" = "nestbox kernel-check: --config: required"
printf 'name = 3\n' > "$tmp/bad.toml"
rc=0; "$nestbox" kernel-check --openwrt-packages --manifests "$tmp/bad.toml" > "$tmp/out" 2>&1 || rc=$?
check test "$rc" -eq 2

# The image recipe: DEVICE_PACKAGES += $(call nestbox-kmods,MANIFESTS), as
# GNU make evaluates it when include/image.mk dumps the device's metadata.
cat > "$tmp/device.mk" <<MK
include $src/openwrt/image/nestbox.mk
DEVICE_PACKAGES := nestbox-launch \$(call nestbox-kmods,\$(M))
all: ; @echo "DEVICE_PACKAGES=\$(DEVICE_PACKAGES)"
MK
out="$(make -s -f "$tmp/device.mk" NESTBOX="$nestbox" M="$ex/dns.toml $ex/nas.toml $ex/untrusted-app.toml")"
check test "$out" = "DEVICE_PACKAGES=nestbox-launch ${all% }"
# A failing nestbox stops make with its message; none built yet: a warning.
rc=0; make -s -f "$tmp/device.mk" NESTBOX="$nestbox" M="$tmp/bad.toml" > "$tmp/out" 2>&1 || rc=$?
check test "$rc" -ne 0
check grep -q "nestbox kernel-check --openwrt-packages failed: nestbox kernel-check: $tmp/bad.toml" "$tmp/out"
out="$(make -s -f "$tmp/device.mk" NESTBOX="$tmp/none" M="$ex/dns.toml" 2> "$tmp/err")"
check test "$out" = "DEVICE_PACKAGES=nestbox-launch "
check grep -q "nestbox-kmods: $tmp/none not built yet" "$tmp/err"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
