#!/usr/bin/env bash
# Boots OUT/vmlinuz with OUT/initramfs.cpio.gz (tests/target/build-initramfs.sh)
# under qemu-system (TCG), the serial console in OUT/console.log, and judges
# the guest's verdict.
#
# usage: tests/target/run-qemu.sh ARCH OUT [TIMEOUT_SECONDS]
# Exit 0 only when the console shows "NESTBOX-RESULT ok" and no failed case;
# 1 when the guest reports a failure, reports no result or does not power off
# within TIMEOUT_SECONDS (default 600).
set -euo pipefail

arch=${1:?ARCH} out=${2:?OUT} limit=${3:-600}
mem=1024 smp=2
case $arch in mipsel) mem=256 smp=1 ;; esac  # malta: one CPU, 256 MiB of low memory
common=(-m "$mem" -smp "$smp" -nodefaults -display none -no-reboot -nic none
        -kernel "$out/vmlinuz" -initrd "$out/initramfs.cpio.gz"
        -serial "file:$out/console.log")
cmdline="panic=-1 loglevel=4"
case $arch in
  amd64) qemu=(qemu-system-x86_64 -M q35 -cpu max) cmdline="console=ttyS0 $cmdline" ;;
  arm64) qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57) cmdline="console=ttyAMA0 $cmdline" ;;
  mipsel) qemu=(qemu-system-mipsel -M malta -cpu 24Kf) cmdline="console=ttyS0 $cmdline" ;;
  *) echo "run-qemu: unknown arch '$arch' (amd64, arm64, mipsel)" >&2; exit 2 ;;
esac
rm -f "$out/console.log"
start=$SECONDS
rc=0
timeout --kill-after=10 "$limit" "${qemu[@]}" "${common[@]}" -append "$cmdline" || rc=$?
took=$((SECONDS - start))
log=$out/console.log
[[ -f $log ]] && sed -i 's/\r$//' "$log"  # the guest's tty writes CRLF
grep -a -E '^(NESTBOX-|nestbox-guest:)' "$log" || true
if ((rc == 124 || rc == 137)); then
  echo "run-qemu: $arch: FAIL: no poweroff within ${limit}s (console: $log)"; exit 1
fi
((rc == 0)) || { echo "run-qemu: $arch: FAIL: qemu exited $rc (console: $log)"; tail -20 "$log"; exit 1; }
result=$(grep -a '^NESTBOX-RESULT ' "$log" | tail -n1)
if [[ -z $result ]]; then
  echo "run-qemu: $arch: FAIL: the guest reported no result (console: $log)"; tail -30 "$log"; exit 1
fi
# The verdict must agree with the lines it counts: every check ok, none lost.
oks=$(grep -a -c '^NESTBOX-CASE [^ ]* ok$' "$log" || true)
fails=$(grep -a -c '^NESTBOX-CASE [^ ]* FAIL' "$log" || true)
if [[ $result != "NESTBOX-RESULT ok $oks/$oks "* ]] || ((fails > 0 || oks == 0)); then
  echo "run-qemu: $arch: FAIL: $result, $oks checks ok, $fails failed, in ${took}s (console: $log)"; exit 1
fi
echo "run-qemu: $arch: ${result#NESTBOX-RESULT } in ${took}s"
