#!/bin/sh
# nestbox-rootfs-hook ROOT: puts the containers into a staged OpenWrt rootfs
# before its file system is made. Run by nestbox-launch's postinst, which
# OpenWrt's prepare_rootfs (include/rootfs.mk) runs for every installed
# package with IPKG_INSTROOT=ROOT, in the buildroot (package/Makefile,
# `$(curdir)/install`) and in the ImageBuilder (target/imagebuilder/files/
# Makefile, `prepare_rootfs:`), after all packages are installed and before
# `build_image` makes root.squashfs. A non-zero exit fails the image build.
#
# Runs the vendor CI gate (nestbox-vendor-ci: validate -> kernel-check ->
# compose -> sign -> verify) with ROOT as --staging and --root-owned (the
# firmware is packed 0:0): host-hardlink trees land in
# ROOT/usr/lib/nestbox/rootfs/NAME, resolved inside ROOT, and every signed
# image in ROOT/usr/lib/nestbox/images/ (installed at first boot by
# /etc/uci-defaults/90-nestbox-images).
#
# environment (e.g. `make image ... NESTBOX_MANIFESTS="..."` or exported):
#   NESTBOX_MANIFESTS      container manifests (none: nothing to do, exit 0)
#   NESTBOX_SIGNING_KEY    private key (PEM) or provider URI
#   NESTBOX_KEYRING        trusted public keys for the verify step
#   NESTBOX_KERNEL_CONFIG  the firmware kernel's .config
#   NESTBOX_ARCH, NESTBOX_COMPAT   the device's identity (optional)
#   NESTBOX, NESTBOX_CI    nestbox and the gate (default: from PATH, i.e.
#                          $(STAGING_DIR_HOST)/bin of the buildroot)
#   NESTBOX_WORK           scratch directory outside ROOT (default: mktemp -d)
set -eu

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
	echo "usage: nestbox-rootfs-hook ROOT" >&2
	exit 2
fi
root="$1"
[ -n "${NESTBOX_MANIFESTS:-}" ] || { echo "nestbox-rootfs-hook: NESTBOX_MANIFESTS empty: no containers"; exit 0; }
for v in NESTBOX_SIGNING_KEY NESTBOX_KEYRING NESTBOX_KERNEL_CONFIG; do
	eval "val=\${$v:-}"
	[ -n "$val" ] || { echo "nestbox-rootfs-hook: $v is not set" >&2; exit 2; }
done
ci="${NESTBOX_CI:-nestbox-vendor-ci}"
work="${NESTBOX_WORK:-}"
own_work=""
if [ -z "$work" ]; then
	work="$(mktemp -d "${TMPDIR:-/tmp}/nestbox-rootfs.XXXXXX")"
	own_work=1
fi
case "$work/" in
	"$root"/*) echo "nestbox-rootfs-hook: NESTBOX_WORK $work is inside the rootfs" >&2; exit 2 ;;
esac
cleanup() { [ -z "$own_work" ] || rm -rf "$work"; }
trap cleanup EXIT INT TERM

set -- --staging "$root" --root-owned --kernel-config "$NESTBOX_KERNEL_CONFIG" \
	--key "$NESTBOX_SIGNING_KEY" --keyring "$NESTBOX_KEYRING" --out "$work/ci"
[ -z "${NESTBOX_ARCH:-}" ] || set -- "$@" --arch "$NESTBOX_ARCH"
[ -z "${NESTBOX_COMPAT:-}" ] || set -- "$@" --compat "$NESTBOX_COMPAT"
# shellcheck disable=SC2086  # NESTBOX_MANIFESTS is a word list of paths
"$ci" "$@" $NESTBOX_MANIFESTS

# The signed images, for the first-boot install. Written by name into the
# rootfs's own /usr/lib/nestbox/images (a real directory: made here, never
# through a symlink the staged rootfs may hold).
for d in usr usr/lib usr/lib/nestbox usr/lib/nestbox/images; do
	if [ -L "$root/$d" ] || { [ -e "$root/$d" ] && [ ! -d "$root/$d" ]; }; then
		echo "nestbox-rootfs-hook: $root/$d is not a directory" >&2
		exit 1
	fi
	[ -d "$root/$d" ] || mkdir -m 0755 "$root/$d"
done
rm -f "$root"/usr/lib/nestbox/images/*.img
n=0
for img in "$work"/ci/images/*.img; do
	cp "$img" "$root/usr/lib/nestbox/images/"
	n=$((n + 1))
done
echo "nestbox-rootfs-hook: $n image(s) in $root/usr/lib/nestbox/images"
