#!/usr/bin/env bash
# Builds the target VM's initramfs for one architecture: Debian bookworm's own
# kernel (fetched, never installed), static busybox, nestbox-launch with the
# shared libraries it needs, the kernel modules the cases need (resolved with
# the kernel's own modules.dep), the signed test images and the guest init.
#
# usage: tests/target/build-initramfs.sh ARCH NESTBOX NESTBOX_LAUNCH OUT
#   ARCH            amd64 | arm64 | mipsel (Debian architecture names)
#   NESTBOX         the host `nestbox` CLI (composes and signs the images)
#   NESTBOX_LAUNCH  nestbox-launch built for ARCH
#   OUT             output directory: OUT/vmlinuz, OUT/initramfs.cpio.gz
# Downloads (.debs) are cached in ${NESTBOX_TARGET_CACHE:-build-target/cache}.
# A benchmark (bench/target-start.sh) boots the same guest with its own set:
#   NESTBOX_TARGET_IMAGE_DIR  manifests NAME.toml (+ NAME.signargs), default images/
#   NESTBOX_TARGET_CASE_DIR   the cases, default cases/
#   NESTBOX_TARGET_ROOT_ADD   a directory copied over the initramfs root (extra files)
#   NESTBOX_TARGET_PROGRAMS   "SRC:DEST ...": programs copied to DEST with their libraries
#   NESTBOX_TARGET_CASE_TIMEOUT  seconds a case may take in the guest, default 300
# Exits non-zero when anything cannot be fetched or built: never a skip.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
arch=${1:?ARCH} nestbox=${2:?NESTBOX} launch=${3:?NESTBOX_LAUNCH} out=${4:?OUT}
cache=${NESTBOX_TARGET_CACHE:-$repo/build-target/cache}
# flavour: the kernel meta package is linux-image-<flavour>
case $arch in
  amd64) triple=x86_64-linux-gnu machine=x86_64 flavour=amd64 ;;
  arm64) triple=aarch64-linux-gnu machine=aarch64 flavour=arm64 ;;
  mipsel) triple=mipsel-linux-gnu machine=mipsel flavour=4kc-malta ;;
  *) echo "build-initramfs: unknown arch '$arch' (amd64, arm64, mipsel)" >&2; exit 2 ;;
esac
# What the cases load (dependencies are added from modules.dep).
# crc32c_generic: ext4 asks the crypto API for "crc32c" at mount (metadata_csum)
# and fails with ENOENT without it; modules.dep does not say so.
modules=(loop squashfs overlay dm-mod dm-verity veth bridge macvlan 8021q ext4 crc32c_generic)

mkdir -p "$cache" "$out"
out=$(cd "$out" && pwd)

# --- fetch: apt-get download into the cache (ARCH-qualified, never installed) --
# fetch PKG: prints the cached .deb's path; downloads it when missing.
fetch() {
  local pkg=$1 deb
  deb=$(find "$cache" -maxdepth 1 -name "${pkg%%:*}_*_${arch}.deb" | sort | tail -n1)
  if [[ -z $deb ]]; then
    (cd "$cache" && apt-get download -q "$pkg:$arch" >&2) || { echo "build-initramfs: cannot fetch $pkg:$arch" >&2; return 1; }
    deb=$(find "$cache" -maxdepth 1 -name "${pkg%%:*}_*_${arch}.deb" | sort | tail -n1)
  fi
  [[ -n $deb ]] || { echo "build-initramfs: $pkg:$arch fetched but not found in $cache" >&2; return 1; }
  echo "$deb"
}
# The meta package names the real image package (linux-image-6.1.0-N-ARCH).
kpkg=$(apt-cache depends "linux-image-$flavour:$arch" 2>/dev/null | sed -n "s/^ *Depends: \(linux-image-[0-9][^:]*\).*/\1/p" | head -n1)
[[ -n $kpkg ]] || { echo "build-initramfs: apt-cache knows no linux-image-$flavour:$arch (dpkg --add-architecture $arch; apt-get update)" >&2; exit 1; }
kdeb=$(fetch "$kpkg")
bbdeb=$(fetch busybox-static)

# --- kernel and modules ----------------------------------------------------------
kdir=$out/kernel
if [[ ! -f $kdir/.from || $(cat "$kdir/.from") != "$kdeb" ]]; then
  rm -rf "$kdir" && mkdir -p "$kdir"
  dpkg-deb -x "$kdeb" "$kdir"
  echo "$kdeb" > "$kdir/.from"
fi
release=$(ls "$kdir/lib/modules")
[[ -f $kdir/lib/modules/$release/modules.dep ]] || depmod -b "$kdir" "$release"
# mipsel's malta kernel is an ELF vmlinux, the others a vmlinuz
cp "$(ls "$kdir"/boot/vmlinu[xz]-"$release")" "$out/vmlinuz"

image_dir=${NESTBOX_TARGET_IMAGE_DIR:-$here/images}
case_dir=${NESTBOX_TARGET_CASE_DIR:-$here/cases}
root=$out/root
rm -rf "$root"
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,nestbox/cases,nestbox/images,nestbox/keys,lib/modules}
dpkg-deb --fsys-tarfile "$bbdeb" | tar -xO ./bin/busybox > "$root/bin/busybox"
chmod 755 "$root/bin/busybox"

# load order: each module after its dependencies (depth first over modules.dep)
declare -A seen=()
order=()
dep_of() { sed -n "s|^\([^:]*/$1\.ko[^:]*\):\(.*\)|\2|p" "$kdir/lib/modules/$release/modules.dep"; }
path_of() { sed -n "s|^\([^:]*/$1\.ko[^:]*\):.*|\1|p" "$kdir/lib/modules/$release/modules.dep"; }
visit() {
  local m=$1 d
  [[ -n ${seen[$m]:-} ]] && return 0
  seen[$m]=1
  for d in $(dep_of "$m"); do d=${d##*/}; visit "${d%%.ko*}"; done
  order+=("$m")
}
for m in "${modules[@]}"; do
  if grep -q "/$m\.ko" "$kdir/lib/modules/$release/modules.builtin"; then continue; fi
  [[ -n $(path_of "$m") ]] || { echo "build-initramfs: module $m neither built in nor in modules.dep of $release" >&2; exit 1; }
  visit "$m"
done
: > "$root/nestbox/modules"
for m in "${order[@]}"; do
  p=$(path_of "$m")
  cp "$kdir/lib/modules/$release/$p" "$root/lib/modules/"
  echo "${p##*/}" >> "$root/nestbox/modules"
done

# --- nestbox-launch and its libraries --------------------------------------------
cp "$launch" "$root/nestbox/nestbox-launch"
strip_tool=strip
[[ $arch != amd64 ]] && strip_tool=$triple-strip
"$strip_tool" "$root/nestbox/nestbox-launch"
interp=$(readelf -l "$root/nestbox/nestbox-launch" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
needed=$(readelf -d "$root/nestbox/nestbox-launch" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
# Where the target's libraries are: the host's own (amd64 = this Debian), or
# the cross toolchain's libc and the target's libcrypto/libmnl sysroot that
# scripts/cross-build.sh --fetch extracted from the target's .debs.
if [[ $arch == amd64 ]]; then
  libdirs=("/lib/$triple" "/usr/lib/$triple")
else
  libdirs=("/usr/$triple/lib" "${NESTBOX_CROSS_CACHE:-/var/cache/nestbox-cross}/$arch/sysroot/usr/lib")
fi
find_lib() {
  local d
  for d in "${libdirs[@]}"; do [[ -e $d/$1 ]] && { echo "$d/$1"; return 0; }; done
  echo "build-initramfs: $1 (needed by nestbox-launch) not found in ${libdirs[*]}" >&2
  return 1
}
mkdir -p "$root/lib/$triple" "$root$(dirname "$interp")"
# add_needed LIB...: the libraries and everything they need, into the root
# (the NEEDED closure; on mipsel libcrypto needs libatomic).
add_needed() {
  local needed="$*" next lib
  while [[ -n $needed ]]; do
    next=
    for lib in $needed; do
      [[ -e $root/lib/$triple/$lib ]] && continue
      cp -L "$(find_lib "$lib")" "$root/lib/$triple/$lib"
      next+=" $(readelf -d "$root/lib/$triple/$lib" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | { grep -vx "${interp##*/}" || true; } | tr '\n' ' ')"
    done
    needed=$next
  done
}
add_needed $needed
cp -L "$(find_lib "${interp##*/}")" "$root$interp"
# NESTBOX_TARGET_PROGRAMS="SRC:DEST ...": more programs of ARCH (a benchmark's
# crun), each at DEST in the root with the libraries it needs.
for prog in ${NESTBOX_TARGET_PROGRAMS:-}; do
  src=${prog%%:*} dst=$root/${prog#*:}
  mkdir -p "$(dirname "$dst")" && cp -L "$src" "$dst"
  add_needed $(readelf -d "$dst" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
done

# --- signed images: every tests/target/images/NAME.toml -> NAME.img ----------------
work=$out/images
rm -rf "$work" && mkdir -p "$work/m/staging/bin" "$work/out"
cp "$root/bin/busybox" "$work/m/staging/bin/busybox"
names=() manifests=() squash=()
for t in "$image_dir"/*.toml; do
  n=$(basename "$t" .toml)
  sed "s/@ARCH@/$machine/" "$t" > "$work/m/$n.toml"
  names+=("$n") manifests+=("$work/m/$n.toml") squash+=("$work/out/$n" "$work/$n.sqfs")
done
export SOURCE_DATE_EPOCH=1700000000
"$nestbox" compose "${manifests[@]}" --out "$work/out" --strategy tree >/dev/null
"$nestbox" squash "${squash[@]}" --comp gzip >/dev/null
"$nestbox" keygen -o "$work/k" >/dev/null
cp "$work/k.pub" "$root/nestbox/keys/"
for n in "${names[@]}"; do
  extra=()
  # NAME.signargs: extra `nestbox sign` arguments for that image (one a line).
  [[ -f $image_dir/$n.signargs ]] && mapfile -t extra < "$image_dir/$n.signargs"
  "$nestbox" sign --squashfs "$work/$n.sqfs" --policy "$work/out/runtime/$n/policy.bin" \
    --manifest "$work/m/$n.toml" -k "$work/k.key" -o "$root/nestbox/images/$n.img" "${extra[@]}" >/dev/null
done

# --- a GPT disk whose one ext4 partition is labelled nb-data (cases/60-partition.sh) --
disk=$root/nestbox/disks/labelled.img
mkdir -p "$(dirname "$disk")"
rm -f "$disk" "$out/part.ext4"
truncate -s 8M "$disk"
printf 'label: gpt\nstart=2048, size=12288, type=L, name="nb-data"\n' | sfdisk -q "$disk"
mkfs.ext4 -q -F "$out/part.ext4" 6M
dd if="$out/part.ext4" of="$disk" bs=512 seek=2048 conv=notrunc status=none

# --- init, cases, archive -----------------------------------------------------------
cp "$here/init" "$root/init"
cp "$here/guest.sh" "$here/lib.sh" "$root/nestbox/"
# NESTBOX_TARGET_CASES: a glob to run a subset while working on a case.
cp "$case_dir"/${NESTBOX_TARGET_CASES:-*}.sh "$root/nestbox/cases/"
[[ -z ${NESTBOX_TARGET_ROOT_ADD:-} ]] || cp -a "$NESTBOX_TARGET_ROOT_ADD/." "$root/"
chmod 755 "$root/init" "$root/nestbox/guest.sh"
printf 'NB_ARCH=%s\nNB_KERNEL=%s\nNB_CASE_TIMEOUT=%s\n' "$arch" "$release" "${NESTBOX_TARGET_CASE_TIMEOUT:-300}" > "$root/nestbox/env"
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 > "$out/initramfs.cpio.gz"
echo "build-initramfs: $arch: kernel $release, $(stat -c %s "$out/initramfs.cpio.gz") bytes initramfs, ${#names[@]} images, modules: ${order[*]}"
