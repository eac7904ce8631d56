#!/usr/bin/env bash
# Integration: the README's main command (scripts/demo.sh) with the built
# binaries, on the Debian corpus: validate, kernel-check, compose, sign,
# verify, install into the store, run the hardened dnsmasq container behind a
# veth in a router network namespace the demo creates, query it from the host
# side, stop it. Asserts the daemon answered, no step fell back, and nothing
# is left behind (checked here again, independently of the demo's own check).
# The plan step is skipped (it only prints; it is the slowest step).
# Usage: demo_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (loop mounts, namespaces, cgroups)"; exit 77; fi
for t in dig ip nsenter losetup python3 apt-get dpkg-deb curl rsync mkfs.ext4 nft; do
  command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (scripts/install-deps.sh)"; exit 77; }
done
fail() { echo "FAIL: $*"; exit 1; }
# The corpus is fetched with apt-get download into its cache outside the
# repository (reused when present); without a reachable archive, skip.
if ! corpus_log=$(bash "$src/scripts/corpus.sh" 2>&1); then
  echo "$corpus_log" | tail -n 5
  echo "SKIP: the demo corpus could not be fetched with apt-get download (scripts/corpus.sh)"
  exit 77
fi

mine() {  # what this test's run could leave: its netns, veth, loops, mounts, cgroups
  ip netns list | grep -E '^nbdemo-(router|lan)' || true
  ip -o link show | awk -F': ' '{print $2}' | grep -E '^nb-dns(@|$)' || true
  losetup -a | grep -F /tmp/nestbox-demo. || true
  grep -F /tmp/nestbox-demo. /proc/self/mountinfo || true
  find /sys/fs/cgroup -name 'nestbox-dns' 2>/dev/null || true
  ls -d /tmp/nestbox-demo.* 2>/dev/null || true
}
[ -z "$(mine)" ] || fail "left from an earlier run, refusing to start: $(mine)"

rc=0
out=$(NESTBOX=$nestbox NESTBOX_LAUNCH=$launch NESTBOX_DEMO_NO_PLAN=1 CI=1 bash "$src/scripts/demo.sh" 2>&1) || rc=$?
echo "$out"
[ "$rc" = 0 ] || fail "demo.sh exited $rc"
expect() { grep -qF -- "$1" <<<"$out" || fail "demo output lacks: $1"; }
expect "router.lan A -> 10.20.0.1"
expect "nas.lan A -> 192.168.1.20"
expect 'nestbox.lan TXT -> "served by dnsmasq in a nestbox container"'
expect "dnsmasq[2]: query[TXT] nestbox.lan from 10.20.0.1"
expect "CapEff: 0000000000000000 NoNewPrivs: 1 Seccomp: 2"
expect "memory.limit 16777216 bytes, pids.max 8"
expect "a copy of dns.img with one byte flipped: refused"
expect "veth nb-dns: gone"
# The NAS case: the real rsync and lighttpd from the LAN namespace.
expect "LAN: curl -X MKCOL http://192.168.1.20/docs/ -> 201"
expect "LAN: curl -T hello.txt http://192.168.1.20/docs/ (PUT) -> 201"
expect "(GET) -> hello from the LAN"
expect "LAN: rsync -a photos rsync://192.168.1.20/share/ -> uploaded"
expect "(the rsync upload, seen by WebDAV) -> 207"
expect "nas: stopped: its processes ended on SIGTERM"
expect "router: PROPFIND http://10.10.0.2/ (eth0, tcp 80 allowed from the host) -> 207"
expect "(curl exit 28: dropped, not refused)"
expect "firewall table inet nestbox-nas: gone"
for n in appbase dns hello nas weather-app; do
  grep -qE "^   $n: installed version [0-9]+" <<<"$out" || fail "$n not installed"
  grep -qE "^   $n +(squashfs|overlay base|overlay layer) +[0-9]+ +[0-9]+$" <<<"$out" || fail "$n missing from the summary"
done
left=$(mine)
[ -z "$left" ] || fail "left behind: $left"
[ ! -e /var/cache/nestbox-corpus/staging/usr/lib/nestbox/rootfs/dns ] || fail "host-hardlink tree left in the corpus"
echo "e2e demo: ok"
