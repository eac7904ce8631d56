#!/usr/bin/env bash
# Case 2 for real (examples/untrusted-app.toml): the untrusted weather-app with
# the real, dynamically linked busybox httpd of the demo corpus
# (scripts/corpus.sh), unprivileged in a user namespace, over its separately
# signed shared base, on macvlan private.
#  1. `nestbox learn-seccomp` runs httpd in the composed tree (as the manifest
#     confines it) with a wget probe and writes the allow-list; it holds what
#     the glibc loader and httpd need (setuid setgid pread64 set_robust_list
#     prlimit64 rseq alarm clone) and the shipped example's list covers it.
#  2. That list pasted into the manifest: the app starts and serves its page to
#     a LAN namespace behind the router's bridge; a sibling app's namespace
#     (macvlan private on the same bridge) cannot reach it, though it reaches
#     the LAN. The shipped example does the same.
#  3. The learned list without pread64: the container fails (the glibc loader
#     exits 127), so the list is necessary.
# Usage: appstore_test.sh NESTBOX NESTBOX_LAUNCH SOURCE_DIR
set -euo pipefail
nestbox=$1 launch=$2 src=$3
if [ "$(id -u)" != 0 ]; then echo "SKIP: needs root (namespaces, loop mounts)"; exit 77; fi
for t in ip nsenter busybox curl python3 mkfs.ext4 apt-get dpkg-deb; do
  command -v "$t" >/dev/null || { echo "SKIP: needs $t (scripts/install-deps.sh)"; exit 77; }
done
[ "$(uname -m)" = x86_64 ] || { echo "SKIP: the example is built for x86_64"; exit 77; }
if ! staging=$(bash "$src/scripts/corpus.sh" 2>/dev/null); then
  echo "SKIP: the demo corpus could not be fetched with apt-get download (scripts/corpus.sh)"
  exit 77
fi
fail() { echo "FAIL: $*"; exit 1; }
file -L "$staging/bin/busybox" 2>/dev/null | grep -q "dynamically linked" || fail "corpus busybox is not the dynamic one"
work=$(mktemp -d /tmp/nestbox-appstore.XXXXXX)
R=nba$$-r L=nba$$-l S=nba$$-s
app_pid=
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then
    "$launch" stop weather-app --state-dir "$work/run" --stop-timeout 2000 >/dev/null 2>&1 || kill "$app_pid" 2>/dev/null
    wait "$app_pid" 2>/dev/null || true
  fi
  for n in "$R" "$L" "$S"; do ip netns del "$n" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
export SOURCE_DATE_EPOCH=1700000000

# --- manifests next to the corpus, as in a firmware tree ---------------------------
mkdir -p "$work/m"
ln -s "$staging" "$work/m/staging"
# variant NAME ALLOW-FILE: the shipped example, its storage in the test's
# directory and (unless ALLOW-FILE is "-") its allow-list replaced by the names in ALLOW-FILE.
variant() {
  python3 - "$src/examples/untrusted-app.toml" "$work/m/$1.toml" "$2" "$work/$1-data.img" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
text = text.replace('source = "/srv/nestbox/weather-app/data.img"', f'source = "{sys.argv[4]}"')
if sys.argv[3] != "-":
    names = open(sys.argv[3]).read().split()
    block = "allow = [\n" + "".join(f'  "{n}",\n' for n in names) + "]\n"
    text, n = re.subn(r'(?ms)^(\[seccomp\]\n(?:[^\[\n].*\n)*?)allow = \[.*?^\]\n', lambda m: m.group(1) + block, text)
    assert n == 1, "no [seccomp] allow in the example"
open(sys.argv[2], "w").write(text)
PY
}
names_of() {  # TOML FILE -> seccomp.allow, one per line
  python3 -c 'import sys, tomllib; print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["seccomp"]["allow"]))' "$1"
}

# --- 1. learn -----------------------------------------------------------------------
variant shipped -
"$nestbox" compose "$work/m/shipped.toml" --out "$work/tree" --strategy tree --comp gzip >/dev/null
tree=$work/tree/weather-app
[ -x "$tree/bin/busybox" ] || fail "no composed tree at $tree"
probe='for i in $(seq 100); do o=$(curl -s --max-time 1 http://127.0.0.1:8080/) && break; sleep 0.1; done; echo "probe got: $o" >&2; [ "$o" = "<html><body>Sunny, 21 C</body></html>" ]'
"$nestbox" learn-seccomp "$work/m/shipped.toml" --root "$tree" --probe "$probe" --timeout 20000 -o "$work/learned.toml"
cat "$work/learned.toml"
grep -qx '\[seccomp\]' "$work/learned.toml" || fail "no [seccomp] table"
grep -q "in a user namespace (host uid 101000), capabilities: none" "$work/learned.toml" || fail "not run as the manifest says"
names_of "$work/learned.toml" > "$work/learned.txt"
sort -c "$work/learned.txt" || fail "learned list not sorted"
for s in setuid setgid pread64 set_robust_list prlimit64 rseq alarm clone execve accept sendfile; do
  grep -qx "$s" "$work/learned.txt" || fail "learned list lacks $s"
done
# A run that did not work teaches nothing: a failing probe writes no list.
rc=0
err=$("$nestbox" learn-seccomp "$work/m/shipped.toml" --root "$tree" --probe "exit 3" -o "$work/bad.toml" 2>&1) || rc=$?
[ "$rc" = 1 ] || fail "a failed probe: exit $rc, expected 1"
grep -qF "nestbox learn-seccomp: the probe exited with status 3: the service did not do its job, so the list would be incomplete; nothing learned is written" <<<"$err" || fail "failed probe: $err"
[ ! -e "$work/bad.toml" ] || fail "a list was written after a failed probe"
names_of "$src/examples/untrusted-app.toml" | sort > "$work/shipped.txt"
missing=$(comm -23 "$work/learned.txt" "$work/shipped.txt" | tr '\n' ' ')
[ -z "$missing" ] || fail "the shipped example lacks learned syscalls: $missing"

# --- the router host, the LAN and a sibling app --------------------------------------
ip netns add "$R"; ip netns add "$L"; ip netns add "$S"
ip -n "$R" link set lo up
ip -n "$R" link add br-lan type bridge
ip -n "$R" addr add 192.168.1.1/24 dev br-lan
ip -n "$R" link set br-lan up
ip -n "$R" link add lanp type veth peer name lan0 netns "$L"
ip -n "$R" link set lanp master br-lan up
ip -n "$L" link set lo up
ip -n "$L" addr add 192.168.1.100/24 dev lan0
ip -n "$L" link set lan0 up
# The sibling app's network, as the launcher makes it for an app (macvlan private on br-lan).
ip -n "$R" link add sib0 link br-lan type macvlan mode private
ip -n "$R" link set sib0 netns "$S"
ip -n "$S" addr add 192.168.1.51/24 dev sib0
ip -n "$S" link set sib0 up

mkdir -p "$work/keys"
"$nestbox" keygen -o "$work/vendor" >/dev/null
cp "$work/vendor.pub" "$work/keys/"
build() {  # VARIANT: compose (overlay), sign base and app
  "$nestbox" compose "$work/m/$1.toml" --out "$work/out-$1" --comp gzip >/dev/null
  "$nestbox" sign -k "$work/vendor.key" --squashfs "$work/out-$1/base/appbase.sqfs" --name appbase --version 1 \
    --arch x86_64 --compat nestbox-demo-hgw -o "$work/$1-base.img" >/dev/null
  "$nestbox" sign -k "$work/vendor.key" --squashfs "$work/out-$1/weather-app.layer.sqfs" \
    --policy "$work/out-$1/runtime/weather-app/policy.bin" --manifest "$work/m/$1.toml" -o "$work/$1.img" >/dev/null
}
run_app() {  # VARIANT: in the router namespace, in the background
  nsenter --net="/run/netns/$R" "$launch" run "$work/$1.img" --base "$work/$1-base.img" --keyring "$work/keys" \
    --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/$1.log" 2>&1 &
  app_pid=$!
}
page() { ip netns exec "$1" curl -s --max-time "$2" http://192.168.1.50:8080/; }
serve_check() {  # VARIANT
  build "$1"
  run_app "$1"
  local o="" i
  for i in $(seq 100); do
    kill -0 "$app_pid" 2>/dev/null || { cat "$work/$1.log"; fail "$1: the app exited"; }
    o=$(page "$L" 1) && break
    sleep 0.1
  done
  echo "$1: LAN got: $o"
  [ "$o" = "<html><body>Sunny, 21 C</body></html>" ] || { cat "$work/$1.log"; fail "$1: LAN did not get the page"; }
  local init pids p
  init=$(cat "$work/run/weather-app/init")
  pids="$init $(cat /proc/"$init"/task/*/children 2>/dev/null)"
  for p in $pids; do
    if grep -q "^/bin/busybox.httpd" <(tr '\0' ' ' < "/proc/$p/cmdline"); then
      grep -qE "^Uid:\s+101000\s" "/proc/$p/status" || fail "$1: httpd is not host uid 101000"
      grep -qE "^Seccomp:\s+2$" "/proc/$p/status" || fail "$1: httpd not under seccomp"
      grep -qE "^CapEff:\s+0+$" "/proc/$p/status" || fail "$1: httpd has capabilities"
      grep -q "ld-linux" "/proc/$p/maps" || fail "$1: httpd is not the dynamic busybox"
      echo "$1: httpd pid $p: host uid 101000, seccomp filter, no capabilities, dynamically linked"
    fi
  done
  ip netns exec "$S" busybox ping -c 1 -W 2 192.168.1.100 >/dev/null || fail "$1: the sibling is not on the LAN"
  if o=$(page "$S" 2); then fail "$1: the sibling app reached the app: $o"; fi
  echo "$1: sibling (macvlan private): LAN reachable, app not"
  "$launch" stop weather-app --state-dir "$work/run" --stop-timeout 2000 >/dev/null
  wait "$app_pid" || true
  app_pid=
}

# --- 2. the learned list pasted, then the example as shipped ---------------------------
variant learned "$work/learned.txt"
serve_check learned
serve_check shipped

# --- 3. one learned name less: the app does not start ----------------------------------
grep -vx pread64 "$work/learned.txt" > "$work/nopread.txt"
variant nopread "$work/nopread.txt"
build nopread
rc=0
timeout 30 nsenter --net="/run/netns/$R" "$launch" run "$work/nopread.img" --base "$work/nopread-base.img" \
  --keyring "$work/keys" --compat nestbox-demo-hgw --state-dir "$work/run" >"$work/nopread.log" 2>&1 || rc=$?
cat "$work/nopread.log"
echo "without pread64: nestbox-launch run exited $rc"
# The glibc loader cannot read the libraries' headers and exits 127; it cannot
# even say so ("error while loading shared libraries": its writev is not on the list).
[ "$rc" = 127 ] || fail "without pread64: expected the loader's exit status 127, got $rc"
echo "e2e appstore: ok"
