#!/bin/sh
# ImageBuilder post-step: compose, sign and verify the containers from the
# rootfs that `make image` staged, then (optionally) run `make image` again so
# the signed images land in the firmware through the FILES= overlay, with the
# kernel modules the containers need added to PACKAGES (printed, and written
# to WORK/packages: `nestbox kernel-check --openwrt-packages`).
#
# usage: nestbox-post-image.sh IMAGEBUILDER_DIR FILES_DIR -- VENDOR_CI_ARGS...
#   IMAGEBUILDER_DIR  an ImageBuilder tree after `make image PROFILE=... PACKAGES=...`
#   FILES_DIR         the FILES= overlay; images go to FILES_DIR/srv/nestbox/images/
#   VENDOR_CI_ARGS    --kernel-config FILE --key KEY --keyring DIR MANIFEST...
#                     (see ../ci/vendor-ci.sh; --staging and --out are set here)
# environment: NESTBOX (nestbox binary), WORK (scratch dir, default FILES_DIR/../nestbox-work)
set -eu

if [ $# -lt 3 ] || [ "$3" != "--" ]; then
	echo "usage: nestbox-post-image.sh IMAGEBUILDER_DIR FILES_DIR -- VENDOR_CI_ARGS..." >&2
	exit 2
fi
ib="$1" files="$2"
shift 3
here="$(cd "$(dirname "$0")" && pwd)"

# The staged target rootfs ImageBuilder keeps after `make image`.
root=""
for d in "$ib"/build_dir/target-*/root-*; do
	[ -d "$d" ] && root="$d"
done
[ -n "$root" ] || {
	echo "nestbox-post-image: no staged rootfs under $ib/build_dir/target-*/root-*: run 'make image' first" >&2
	exit 2
}

work="${WORK:-$files/../nestbox-work}"
rm -rf "$work"
"$here/../ci/vendor-ci.sh" --staging "$root" --out "$work" "$@"

# The kernel modules the containers need, as OpenWrt packages, for the final
# image's PACKAGES (kernel-check's table; docs/openwrt.md). The manifests are
# the VENDOR_CI_ARGS that are not options of vendor-ci.sh or their values.
manifests="" skip=0
for a in "$@"; do
	if [ "$skip" = 1 ]; then skip=0; continue; fi
	case "$a" in
		--staging|--kernel-config|--key|--keyring|--out|--arch|--compat) skip=1 ;;
		--*) ;;
		*) manifests="$manifests $a" ;;
	esac
done
# shellcheck disable=SC2086 # a word list of manifest paths
kmods="$("${NESTBOX:-nestbox}" kernel-check --openwrt-packages --manifests $manifests)"
kmods="$(printf '%s' "$kmods" | tr '\n' ' ')"  # one line
printf '%s\n' "$kmods" > "$work/packages"

mkdir -p "$files/srv/nestbox/images"
for img in "$work"/images/*.img; do
	cp "$img" "$files/srv/nestbox/images/"
done
echo "nestbox-post-image: signed images in $files/srv/nestbox/images; now run:"
echo "  make -C $ib image PROFILE=... PACKAGES=\"nestbox-launch $kmods ...\" FILES=$files"
