# Sourced by tests/e2e/*_test.sh: what the busybox-based cases share.
# The caller sets $nestbox (the built CLI) and $work (its scratch directory).

fail() { echo "FAIL: $*"; exit 1; }

# busybox_rootfs [DIR...]: the [rootfs] table of a squashfs image of the
# host's busybox (from $work/staging, see busybox_staging) with the mount
# points /proc, /dev, /sys and DIRs.
busybox_rootfs() {
  printf '[rootfs]\nstrategy = "squashfs"\ncompressor = "gzip"\nbinaries = ["/bin/busybox"]\n'
  printf '[[rootfs.source]]\npath = "staging"\n'
  local d
  for d in /proc /dev /sys "$@"; do printf '[[rootfs.dir]]\npath = "%s"\n' "$d"; done
}

# busybox_staging DIR: DIR/staging/bin/busybox, a signing key DIR/demo.key and
# its public half in the keyring DIR/keys.
busybox_staging() {
  mkdir -p "$1/staging/bin" "$1/keys"
  cp /bin/busybox "$1/staging/bin/busybox"
  "$nestbox" keygen -o "$1/demo" >/dev/null
  cp "$1/demo.pub" "$1/keys/"
}

# signed_image TOML NAME SQFS OUT [SIGN_ARGS...]: composes TOML (container
# NAME) in $work/c-<TOML's base name>, squashes the tree into SQFS unless SQFS
# exists (images of the same rootfs share one), signs SQFS with the policy as OUT.
signed_image() {
  local toml=$1 name=$2 sqfs=$3 out=$4 composed
  shift 4
  composed="$work/c-$(basename "$toml" .toml)"
  "$nestbox" compose "$toml" --out "$composed" --strategy tree >/dev/null
  [ -e "$sqfs" ] || "$nestbox" squash "$composed/$name" "$sqfs" --comp gzip >/dev/null
  "$nestbox" sign --squashfs "$sqfs" --policy "$composed/runtime/$name/policy.bin" \
    --manifest "$toml" -k "$work/demo.key" -o "$out" "$@" >/dev/null
}
