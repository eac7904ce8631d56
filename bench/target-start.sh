#!/usr/bin/env bash
# Start benchmark in the v2-only guest: boots the target VM of tests/target
# (Debian bookworm's amd64 kernel under qemu-system TCG, cgroup2 only, every
# controller enabled, device-mapper loaded) with one case, bench/target-start/
# start.sh, which times start-to-exit of `/bin/busybox true` for
#   verity  nestbox-launch run IMAGE --verity   (dm-verity mode)
#   full    nestbox-launch run IMAGE --full     (every byte hashed first)
#   crun    crun run on the same rootfs unpacked (the host's crun and its
#           libraries, copied into the guest), same namespaces, limits, seccomp
#   exec    nestbox-launch list (empty state): exec, ld.so and libcrypto alone
#   floor   unshare -m -p -i -u -f chroot ROOT /bin/busybox true
# in ROUNDS interleaved rounds of RUNS starts each (bench/start_loop.c), and
# prints the medians over rounds and the ratios to crun.
# usage: bench/target-start.sh BUILD_DIR [ROUNDS [RUNS [COMPRESSOR]]]
#   (root; qemu-system-x86, cpio, cc with static glibc, crun; COMPRESSOR of
#   the image: gzip (default), lz4, xz, zstd)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
build=$(realpath "${1:?usage: target-start.sh BUILD_DIR [ROUNDS [RUNS [COMPRESSOR]]]}")
rounds=${2:-5} runs=${3:-20} comp=${4:-gzip}
for t in qemu-system-x86_64 cpio cc crun readelf; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done
cmake --build "$build" --target nestbox nestbox-launch >/dev/null

work=$(mktemp -d /tmp/nestbox-bench-target-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/images" "$work/cases" "$work/add/nestbox/bench"
sed "s/@COMP@/$comp/" "$here/target-start/true.toml" >"$work/images/true.toml"
cp "$here/target-start/start.sh" "$work/cases/90-start.sh"
b=$work/add/nestbox/bench
cp "$here/target-start/config.json" "$b/"
echo "$rounds" >"$b/rounds"
echo "$runs" >"$b/runs"
cc -O2 -static -o "$b/start_loop" "$here/start_loop.c" -lm

out=$work/vm
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
limit=$((300 + rounds * runs * 5 * 3))
# crun with its libraries (the guest's loader and libc are nestbox-launch's).
NESTBOX_TARGET_PROGRAMS="$(command -v crun):nestbox/bench/crun" \
  NESTBOX_TARGET_IMAGE_DIR=$work/images NESTBOX_TARGET_CASE_DIR=$work/cases NESTBOX_TARGET_ROOT_ADD=$work/add \
  NESTBOX_TARGET_CASE_TIMEOUT=$limit NESTBOX_TARGET_CACHE=${NESTBOX_TARGET_CACHE:-$repo/build-target/cache} \
  bash "$repo/tests/target/build-initramfs.sh" amd64 "$build/cli/nestbox" "$build/launcher/nestbox-launch" "$out"
bash "$repo/tests/target/run-qemu.sh" amd64 "$out" $((limit + 120)) || { grep -a 'FAIL\|start_loop' "$out/console.log" | tail -20; exit 1; }
grep -a '^NESTBOX-BENCH' "$out/console.log" >"$work/bench.txt"
echo "build machine load average: $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
grep -a '^nestbox-guest: amd64 kernel' "$out/console.log" || true
python3 - "$work/bench.txt" "$rounds" "$runs" "$comp" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = dict(re.findall(r"(\w+)=(\S+)", line))
    if "row" in m:
        rows.setdefault(m["row"], []).append(m)
    elif "cgroup" in m:
        print(f"guest cgroup filesystem {m['cgroup']}, controllers {m['controllers']}")
med = {k: (statistics.median(float(x["wall_ms"]) for x in v), statistics.median(float(x["cpu_ms"]) for x in v),
           max(int(x["maxrss_kb"]) for x in v)) for k, v in rows.items()}
print(f"{sys.argv[2]} rounds x {sys.argv[3]} starts per row, image {sys.argv[4]}; medians over rounds")
print("| row | wall | CPU user+sys | wall / crun | CPU / crun | peak RSS |")
print("|---|---:|---:|---:|---:|---:|")
for k in ("verity", "full", "crun", "exec", "floor"):
    w, c, rss = med[k]
    print(f"| {k} | {w:.1f} ms | {c:.1f} ms | {w / med['crun'][0]:.2f}x | {c / med['crun'][1]:.2f}x | {rss} KiB |")
PY
