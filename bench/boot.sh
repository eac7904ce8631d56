#!/usr/bin/env bash
# Boot benchmark: time from `nestbox-launch boot` to all of N installed
# containers running (each `exec sleep`s, `list` shows it "running"), for
# two launcher binaries, interleaved rounds, medians:
#   SERIAL     a nestbox-launch whose boot verifies and starts one container
#              after the other (main before issue 20.6)
#   PARALLEL   this tree's nestbox-launch (boot verifies the images on
#              several threads, then starts them in name order)
# Each image carries a busybox rootfs plus DATA_MB of random data, so full
# verification (every byte hashed, the default without dm-verity) costs what
# a real image's does. Page cache warm (the images were just installed).
# Usage: bench/boot.sh NESTBOX SERIAL_LAUNCH PARALLEL_LAUNCH [N [ROUNDS [DATA_MB]]]   (root)
set -euo pipefail
nestbox=$(realpath "$1") serial=$(realpath "$2") parallel=$(realpath "$3")
n=${4:-10} rounds=${5:-5} data_mb=${6:-24}
work=$(mktemp -d /tmp/nestbox-bench-boot-XXXXXX)
boot_pid=
cleanup() {
  [ -z "$boot_pid" ] || { kill -TERM "$boot_pid" 2>/dev/null || true; wait "$boot_pid" 2>/dev/null || true; }
  rm -rf "$work"
}
trap cleanup EXIT
. "$(dirname "$0")/../tests/e2e/lib.sh"
busybox_staging "$work"
head -c $((data_mb << 20)) /dev/urandom > "$work/data.bin"
export SOURCE_DATE_EPOCH=1700000000
for i in $(seq -w 1 "$n"); do
  cat > "$work/b$i.toml" <<TOML
schema = 1
name = "b$i"
version = 1
arch = "x86_64"
compat = "nestbox-demo-hgw"
[process]
command = ["/bin/busybox", "sleep", "600"]
$(busybox_rootfs)
[[rootfs.file]]
path = "/data.bin"
source = "$work/data.bin"
[security]
capabilities = []
[cgroups]
memory = "16M"
pids_max = 16
[mounts]
sys = "none"
TOML
  # One rootfs for all (signed per container: each image is hashed on its own).
  signed_image "$work/b$i.toml" "b$i" "$work/rootfs.sqfs" "$work/b$i.img"
done
for bin in serial parallel; do
  for i in $(seq -w 1 "$n"); do
    "${!bin}" install "$work/b$i.img" --store "$work/store-$bin" --keyring "$work/keys" --compat nestbox-demo-hgw >/dev/null
  done
done
now() { date +%s.%N; }
# one BIN: seconds from boot to all N running; stops them again.
one() {
  local bin=$1 launch=${!1} t0 t1 running
  t0=$(now)
  "$launch" boot --store "$work/store-$bin" --keyring "$work/keys" --compat nestbox-demo-hgw \
    --state-dir "$work/run-$bin" 2>"$work/boot-$bin.err" &
  boot_pid=$!
  while :; do
    running=$("$launch" list --store "$work/store-$bin" --state-dir "$work/run-$bin" 2>/dev/null | grep -c ' running ' || true)
    [ "$running" -lt "$n" ] || break
    kill -0 "$boot_pid" 2>/dev/null || { cat "$work/boot-$bin.err" >&2; echo "boot ended early" >&2; exit 1; }
    sleep 0.005
  done
  t1=$(now)
  kill -TERM "$boot_pid"; wait "$boot_pid" || true; boot_pid=
  echo "$t1 - $t0" | bc
}
echo "containers=$n rounds=$rounds data=${data_mb}MiB/image load: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$rounds"); do
  for bin in serial parallel; do echo "$bin $(one "$bin")"; done
done | tee "$work/times"
med() { grep "^$1 " "$work/times" | cut -d' ' -f2 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(med serial) p=$(med parallel)
echo "median serial ${s}s parallel ${p}s ratio parallel/serial $(echo "scale=3; $p / $s" | bc)"
