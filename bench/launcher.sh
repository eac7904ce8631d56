#!/usr/bin/env bash
# Launcher benchmark: start-to-exit of /bin/true in a fully isolated container.
#   nestbox-launch  `nestbox-launch run IMAGE` of a signed image (the shipped
#             binary, default verification mode: dm-verity where the kernel has
#             it, else every byte hashed before mounting; signature check, policy decode,
#             kernel check, then everything below)
#   nestbox   the same policy through the launcher library alone (no verifier):
#             squashfs image → loop mount, all namespaces (userns 0→100000),
#             cgroup (memory + pids), no caps, no_new_privs, precompiled seccomp
#   nestbox-tree  the same, from the unpacked tree (`tree` strategy, bind read-only)
#   crun      the same rootfs unpacked as an OCI bundle, same namespaces,
#             mounts, limits and seccomp rule (crun compiles it at start)
#   floor     unshare -mpiu --fork chroot ROOT /bin/true
# All run side by side in ROUNDS interleaved hyperfine runs (default 5, each
# with RUNS/ROUNDS starts of every row; load from other jobs hits every row
# alike), inside a private mount namespace without the cgroup2 mount (crun on
# this hybrid host needs that). The table gives medians over rounds.
# Build first: cmake --build BUILD --target nestbox nestbox-launch nestbox-bench-run nestbox-gen-bpf
# Usage: [ROUNDS=N] bench/launcher.sh BUILD_DIR [RUNS [COMPRESSOR]]   (root; hyperfine, crun, cc,
# mksquashfs; COMPRESSOR: mksquashfs -comp, default gzip)
# BLOCK_SIZE=16K: the image's squashfs block size (mksquashfs -b; default 128K).
# MBEDTLS_LAUNCH=PATH adds a row for a nestbox-launch built with
# -DNESTBOX_CRYPTO_BACKEND=mbedtls (OpenWrt's crypto library); both launchers
# then verify the same image, signed with ECDSA P-256 (mbedTLS has no Ed25519).
set -euo pipefail
build=$(realpath "${1:?usage: launcher.sh BUILD_DIR [RUNS [COMPRESSOR]]}")
runs=${2:-200}
comp=${3:-gzip}
rounds=${ROUNDS:-5}
per_round=$(( (runs + rounds - 1) / rounds ))
bench_run=$build/tests/launcher/nestbox-bench-run
gen_bpf=$build/tests/launcher/nestbox-gen-bpf
launch=$build/launcher/nestbox-launch
nestbox=$build/cli/nestbox
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for t in hyperfine crun mksquashfs busybox cc; do command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }; done

work=$(mktemp -d /tmp/nestbox-bench-launcher-XXXXXX)
trap 'rm -rf "$work"' EXIT
root=$work/bundle/rootfs
mkdir -p "$root"/{bin,proc,sys,dev,tmp,etc}
cp "$(command -v busybox)" "$root/bin/busybox"
ln -s busybox "$root/bin/true"
ln -s busybox "$root/bin/sh"
ln -s busybox "$root/bin/sleep"
mksquashfs "$root" "$work/rootfs.sqfs" -noappend -quiet -no-progress -all-root -comp "$comp" ${BLOCK_SIZE:+-b "$BLOCK_SIZE"} >/dev/null
"$gen_bpf" >"$work/seccomp.bpf"

# The signed image: the same squashfs and the same policy, baked, signed with a
# fresh Ed25519 key (verity tree embedded, as `nestbox sign` does by default).
"$bench_run" --policy-out "$work/policy.bin" "$work/seccomp.bpf" -- /bin/true
"$bench_run" --policy-out "$work/policy-sleep.bin" "$work/seccomp.bpf" -- /bin/sleep 1
mkdir -p "$work/keys"
mbed=${MBEDTLS_LAUNCH:-}
"$nestbox" keygen -t "$([[ -n $mbed ]] && echo ecdsa-p256 || echo ed25519)" -o "$work/bench" >/dev/null
cp "$work/bench.pub" "$work/keys/"
for v in "" -sleep; do
  "$nestbox" sign --squashfs "$work/rootfs.sqfs" --policy "$work/policy$v.bin" --name bench --version 1 \
    --arch x86_64 --compat nestbox-bench -k "$work/bench.key" -o "$work/bench$v.img" >/dev/null
done
# The libcrypto floor for peak RSS: a process that links only libcrypto and
# does one SHA-256 and one Ed25519 verification (what verity mode needs).
cc -O2 -o "$work/crypto-floor" "$(dirname "$0")/crypto_floor.c" -lcrypto

own_memcg=$(sed -n 's/^[0-9]*:memory:\(.*\)$/\1/p' /proc/self/cgroup)
cat >"$work/bundle/config.json" <<JSON
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/bin"],
    "cwd": "/",
    "capabilities": {"bounding": [], "effective": [], "inheritable": [], "permitted": [], "ambient": []},
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "bench",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=64k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "noexec", "nodev", "size=1m"]}
  ],
  "linux": {
    "uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"},
                   {"type": "mount"}, {"type": "user"}, {"type": "cgroup"}],
    "cgroupsPath": "$own_memcg/nestbox-bench-crun",
    "resources": {"memory": {"limit": 67108864}, "pids": {"limit": 64}},
    "seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                "syscalls": [{"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]},
    "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/timer_list"],
    "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"]
  }
}
JSON

launch_cmd="$launch run $work/bench.img --keyring $work/keys --compat nestbox-bench --state-dir /run/nestbox-bench"
launch_sleep="$launch run $work/bench-sleep.img --keyring $work/keys --compat nestbox-bench --state-dir /run/nestbox-bench"
nestbox_cmd="$bench_run $work/rootfs.sqfs $work/seccomp.bpf /run/nestbox-bench -- /bin/true"
tree_cmd="$bench_run $root $work/seccomp.bpf /run/nestbox-bench -- /bin/true"
crun_cmd="crun --root $work/crun-state run --bundle $work/bundle nestbox-bench-crun"
floor_cmd="unshare -mpiu --fork chroot $root /bin/true"
mbed_cmd=${mbed:+"$mbed run $work/bench.img --keyring $work/keys --compat nestbox-bench --state-dir /run/nestbox-bench"}

# /dev/null is a node of the run's own in this mount namespace: hyperfine
# hands it to each command as stdin, and crun 1.8 fchown()s its stdio to
# the container's root (host uid 100000), which on the host's node changed
# /dev/null's owner for the whole machine.
mknod -m 666 "$work/null" c 1 3
unshare -m --propagation private bash -euo pipefail -c "
  umount /sys/fs/cgroup/unified 2>/dev/null || true
  mount --bind $work/null /dev/null
  $launch_cmd && $nestbox_cmd && $tree_cmd && $crun_cmd && $floor_cmd ${mbed:+&& $mbed_cmd}  # each must work before timing
  for r in \$(seq $rounds); do
    hyperfine -N --warmup 3 --runs $per_round --export-json $work/result-\$r.json \
      -n nestbox-launch '$launch_cmd' ${mbed:+-n nestbox-launch-mbedtls '$mbed_cmd'} -n nestbox '$nestbox_cmd' \
      -n nestbox-tree '$tree_cmd' -n crun '$crun_cmd' -n floor '$floor_cmd' >/dev/null
  done
  ${mbed:+/usr/bin/time -f '%M' $mbed_cmd 2>$work/rss-mbed}
  /usr/bin/time -f '%M' $launch_cmd 2>$work/rss-launch
  /usr/bin/time -f '%M' $nestbox_cmd 2>$work/rss-nestbox
  /usr/bin/time -f '%M' $crun_cmd 2>$work/rss-crun
  /usr/bin/time -f '%M' $work/crypto-floor $work/keys/bench.pub 2>$work/rss-crypto
  # The launcher's own memory while its container runs (sleep 1): resident,
  # proportional (shared pages split among their users) and private.
  $launch_sleep & pid=\$!
  sleep 0.5
  grep -E '^(Rss|Pss|Private_Clean|Private_Dirty):' /proc/\$pid/smaps_rollup >$work/smaps-launch
  wait \$pid
"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$work" "$rounds" <<'PY'
import json, statistics, sys
rounds = [{x["command"]: x for x in json.load(open(f"{sys.argv[1]}/result-{i}.json"))["results"]}
          for i in range(1, int(sys.argv[2]) + 1)]
med = lambda k, f: statistics.median(f(r[k]) for r in rounds)
rows = [k for k in ("nestbox-launch", "nestbox-launch-mbedtls", "nestbox", "nestbox-tree", "crun", "floor") if k in rounds[0]]
wall = {k: med(k, lambda x: x["mean"] * 1000) for k in rows}
spread = {k: max(r[k]["mean"] for r in rounds) * 1000 - min(r[k]["mean"] for r in rounds) * 1000 for k in rows}
cpu = {k: med(k, lambda x: (x["user"] + x["system"]) * 1000) for k in rows}
print(f"{len(rounds)} interleaved rounds of {len(rounds[0][rows[0]]['times'])} starts per row; medians over rounds")
for k in rows:
    print(f"{k:22} wall {wall[k]:6.1f} ms (rounds spread {spread[k]:5.1f})   CPU (user+sys) {cpu[k]:5.1f} ms")
for k in rows:
    if k != "crun":
        print(f"{k}/crun: wall {wall[k] / wall['crun']:.2f}x, CPU {cpu[k] / cpu['crun']:.2f}x")
PY
echo "load average: $load_start at the start, $load_end at the end"
echo "peak RSS (KiB, max of the launcher and its container processes): nestbox-launch $(cat "$work/rss-launch"),${mbed:+ nestbox-launch-mbedtls $(cat "$work/rss-mbed"),} nestbox (library, no libcrypto) $(cat "$work/rss-nestbox"), crun $(cat "$work/rss-crun"), libcrypto floor $(cat "$work/rss-crypto")"
echo "nestbox-launch while its container runs (kB):" $(tr -s ' \n' ' ' <"$work/smaps-launch")
strip -o "$work/nestbox-launch.stripped" "$launch"
echo "nestbox-launch stripped: $(stat -c %s "$work/nestbox-launch.stripped") bytes"
