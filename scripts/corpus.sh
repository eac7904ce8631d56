#!/usr/bin/env bash
# The demo corpus: a router-like staging rootfs built from Debian packages, a
# stand-in for an OpenWrt build's staging dir ($(TARGET_DIR)). The bundled
# examples compose from it (their `[[rootfs.source]] path = "staging"`).
#
#   busybox, dnsmasq, lighttpd (+ WebDAV module), dropbear, hostapd, nftables,
#   iproute2, rsync (the NAS daemon), and their whole Depends/Pre-Depends
#   closure (recursively), fetched with `apt-get download` only and extracted
#   into one tree; plus the few files OpenWrt's base-files would provide
#   (/etc/passwd, /etc/group, /etc/hosts).
#
# Same approach as bench/composer_corpus.sh. Cached outside the repository and
# reused when present (the package list is recorded; a different list rebuilds).
# Idempotent; a failed or interrupted run leaves no half-built cache behind.
#   usage: scripts/corpus.sh [CACHE_DIR]   (default /var/cache/nestbox-corpus)
#   prints the staging directory on stdout
set -euo pipefail
cache=${1:-${NESTBOX_CORPUS:-/var/cache/nestbox-corpus}}
top=(busybox dnsmasq-base lighttpd lighttpd-mod-webdav dropbear-bin hostapd nftables iproute2 rsync)
staging=$cache/staging
stamp="corpus v1: ${top[*]}"
say() { if [[ -t 2 ]]; then printf '  corpus: %s\n' "$*" >&2; fi; }

if [[ -e $cache/.done && "$(cat "$cache/.done")" == "$stamp" && -d $staging ]]; then
  say "reusing $staging"
  echo "$staging"
  exit 0
fi

mkdir -p "$cache"
tmp=$(mktemp -d "$cache/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/staging" "$cache/debs"
mapfile -t pkgs < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
    --no-breaks --no-replaces --no-enhances "${top[@]}" | grep -v '^ ' | grep -v '^<' | grep -v : | sort -u)
((${#pkgs[@]} > ${#top[@]})) || { echo "corpus.sh: apt-cache found no dependency closure for ${top[*]}" >&2; exit 1; }
# Download only what the debs cache lacks (a .deb for that name, any version).
arch=$(dpkg --print-architecture)
debs_of() { compgen -G "$cache/debs/${1}_*_${arch}.deb" || compgen -G "$cache/debs/${1}_*_all.deb" || true; }
need=()
for p in "${pkgs[@]}"; do
  [[ -n $(debs_of "$p") ]] || need+=("$p")
done
if ((${#need[@]})); then
  say "downloading ${#need[@]} of ${#pkgs[@]} packages with apt-get download"
  (cd "$cache/debs" && apt-get download -qq -o APT::Sandbox::User=root "${need[@]}" >/dev/null)
fi
say "extracting ${#pkgs[@]} packages"
for p in "${pkgs[@]}"; do
  # Newest version if several were cached over time.
  deb=$(debs_of "$p" | sort -V | tail -n1)
  [[ -n $deb ]] || { echo "corpus.sh: $p: not downloaded" >&2; exit 1; }
  dpkg-deb -x "$deb" "$tmp/staging"
done

# What OpenWrt's base-files would put into the staging dir.
s=$tmp/staging
mkdir -p "$s/etc"
echo 'include /etc/ld.so.conf.d/*.conf' >"$s/etc/ld.so.conf"
cat >"$s/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
dnsmasq:x:453:453:dnsmasq:/var/lib/dnsmasq:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$s/etc/group" <<'EOF'
root:x:0:
www-data:x:33:
dnsmasq:x:453:
nogroup:x:65534:
EOF
printf '127.0.0.1 localhost\n::1 localhost\n' >"$s/etc/hosts"
for f in busybox sbin/dnsmasq sbin/lighttpd bin/rsync sbin/dropbear sbin/hostapd sbin/nft; do
  found=0
  for d in "$s/bin" "$s/usr/bin" "$s/usr/sbin" "$s/sbin"; do [[ -x $d/${f#*/} ]] && found=1; done
  ((found)) || { echo "corpus.sh: ${f#*/} missing from the extracted packages" >&2; exit 1; }
done

rm -rf "$staging"
mv "$s" "$staging"
echo "$stamp" >"$cache/.done"
say "staging ready: $(du -sh "$staging" | cut -f1) in $staging"
echo "$staging"
