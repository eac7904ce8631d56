#!/usr/bin/env bash
# Fetches real foreign-architecture binaries for the closure tests: libc6 and
# busybox (dynamically linked) for armhf, arm64 and mipsel, from the Debian
# archive with `apt-get download`, extracted into one root per architecture.
# Cached outside the repository; idempotent (a stamp marks a finished root).
#   usage: fetch_foreign_roots.sh [CACHE_DIR]   (default /var/cache/nestbox-test)
set -euo pipefail
cache=${1:-/var/cache/nestbox-test}/foreign
arches=(armhf arm64 mipsel)
packages=(libc6 busybox)

# Tests run this concurrently (ctest -j): one fetcher at a time, and each root
# is built under a temporary name and renamed into place only when complete,
# so a test never sees a half-extracted root.
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

need_update=0
for a in "${arches[@]}"; do
  [[ -e $cache/$a/.done ]] && continue
  if ! dpkg --print-foreign-architectures | grep -qx "$a"; then
    dpkg --add-architecture "$a"
    need_update=1
  fi
done
# A partial update (one mirror index mid-sync) is fine as long as the
# downloads below succeed.
if ((need_update)) || ! apt-cache show "libc6:${arches[0]}" >/dev/null 2>&1; then
  bash "$(dirname "$0")/../../scripts/apt-update.sh"
fi

for a in "${arches[@]}"; do
  [[ -e $cache/$a/.done ]] && continue
  tmp=$cache/$a.tmp
  rm -rf "${tmp:?}"
  mkdir -p "$tmp/debs" "$tmp/root"
  (cd "$tmp/debs" && apt-get download -qq -o APT::Sandbox::User=root "${packages[@]/%/:$a}")
  for deb in "$tmp/debs"/*.deb; do
    dpkg-deb -x "$deb" "$tmp/root"
  done
  # /etc/ld.so.conf comes from libc-bin, not libc6: add Debian's one line.
  echo 'include /etc/ld.so.conf.d/*.conf' >"$tmp/root/etc/ld.so.conf"
  touch "$tmp/.done"
  rm -rf "${cache:?}/${a:?}"
  mv "$tmp" "$cache/$a"
done
echo "$cache"
