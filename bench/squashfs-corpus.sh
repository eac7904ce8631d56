#!/usr/bin/env bash
# Corpus for the squashfs benchmark: a router-like staging rootfs from Debian
# packages plus three overlapping containers derived from it (hardlinked
# copies, so they cost no disk). Reuses the Composer I corpus
# (bench/composer_corpus.sh, /var/cache/nestbox-bench/staging) when present;
# otherwise downloads and extracts the same packages itself. Idempotent.
#   usage: bench/squashfs-corpus.sh [CACHE_DIR]   (default /var/cache/nestbox-squashfs-bench)
set -euo pipefail
cache=${1:-/var/cache/nestbox-squashfs-bench}
mkdir -p "$cache"
staging=/var/cache/nestbox-bench/staging
if [[ ! -e /var/cache/nestbox-bench/.done ]]; then
  staging=$cache/staging
  if [[ ! -e $cache/.staging-done ]]; then
    rm -rf "$staging" "$cache/debs"
    mkdir -p "$cache/debs" "$staging"
    top=(busybox dnsmasq-base lighttpd dropbear-bin hostapd nftables iproute2)
    mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "${top[@]}" | grep -v '^ ' | grep -v '^<' | sort -u)
    (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "${pkgs[@]}")
    for deb in "$cache/debs"/*.deb; do dpkg-deb -x "$deb" "$staging"; done
    touch "$cache/.staging-done"
  fi
fi
if [[ ! -e $cache/.containers-done ]]; then
  rm -rf "$cache/c1" "$cache/c2" "$cache/c3"
  cp -a "$staging" "$cache/c1"
  # c2: no locales or docs, its own web root.
  cp -al "$cache/c1" "$cache/c2"
  rm -rf "$cache/c2/usr/share/locale" "$cache/c2/usr/share/doc"
  mkdir -p "$cache/c2/srv/www" && head -c 200000 /dev/urandom >"$cache/c2/srv/www/blob.bin"
  # c3: no perl, no manuals, its own config.
  cp -al "$cache/c1" "$cache/c3"
  rm -rf "$cache/c3/usr/share/perl" "$cache/c3/usr/lib/x86_64-linux-gnu/perl" "$cache/c3/usr/share/man"
  mkdir -p "$cache/c3/etc/edge" && seq 1 20000 >"$cache/c3/etc/edge/routes"
  touch "$cache/.containers-done"
fi
echo "$cache"
