#!/usr/bin/env bash
# Builds a router-like staging rootfs from Debian packages (amd64): busybox,
# dnsmasq, lighttpd, dropbear, hostapd, nftables, iproute2 and everything they
# depend on (Depends/Pre-Depends, recursively), fetched with `apt-get download`
# and extracted into one tree, plus three container manifests with
# overlapping content. Cached outside the repository; idempotent.
#   usage: bench/composer_corpus.sh [CACHE_DIR]   (default /var/cache/nestbox-bench)
set -euo pipefail
cache=${1:-/var/cache/nestbox-bench}
top=(busybox dnsmasq-base lighttpd dropbear-bin hostapd nftables iproute2 rsync)
staging=$cache/staging
if [[ ! -e $cache/.done ]]; then
  rm -rf "$cache"
  mkdir -p "$cache/debs" "$staging"
  mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "${top[@]}" | grep -v '^ ' | grep -v '^<' | sort -u)
  (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "${pkgs[@]}")
  for deb in "$cache/debs"/*.deb; do dpkg-deb -x "$deb" "$staging"; done
  echo 'include /etc/ld.so.conf.d/*.conf' >"$staging/etc/ld.so.conf"
  touch "$cache/.done"
fi

# Three containers sharing libc and friends, each with its own daemons.
manifest() {  # name strategy binaries-toml include-toml
  cat >"$cache/$1.toml" <<TOML
schema = 1
name = "$1"
version = 1
arch = "x86_64"
[process]
command = [$(echo "$3" | cut -d, -f1)]
[rootfs]
strategy = "$2"
binaries = [$3]
include = [$4]
[[rootfs.source]]
path = "staging"
TOML
}
manifest dns tree '"/usr/sbin/dnsmasq", "/bin/busybox"' '"/etc/dnsmasq.d/**"'
manifest web tree '"/usr/sbin/lighttpd", "/bin/busybox"' '"/etc/lighttpd/**", "/usr/lib/lighttpd/**"'
manifest edge tree '"/usr/sbin/hostapd", "/usr/sbin/nft", "/usr/sbin/dropbear", "/bin/ip", "/bin/busybox"' '"/etc/nftables.conf"'
echo "$cache"
