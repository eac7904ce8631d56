# Guest half of bench/target-start.sh (a case of the target VM suite, see
# tests/target/README.md): start-to-exit of `/bin/busybox true` in the v2-only
# guest, nestbox-launch (dm-verity mode and full mode) side by side with crun
# on the same rootfs unpacked, the launcher's exec alone (`list` of an empty
# state directory: loading it and libcrypto) and the floor, in interleaved rounds of
# /nestbox/bench/start_loop. One NESTBOX-BENCH line per row and round.
. "$NB_LIB"
B=/nestbox/bench
rounds=$(cat $B/rounds) runs=$(cat $B/runs)
bundle=$NB_TMP/bundle
mkdir -p "$NB_TMP/no-state" "$bundle/rootfs/bin" "$bundle/rootfs/proc" "$bundle/rootfs/dev" "$bundle/rootfs/sys" "$bundle/rootfs/tmp"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
cp $B/config.json "$bundle/"
common="--keyring $NB_KEYRING --compat nbtarget --state-dir $NB_STATE"
img=$NB_IMAGES/true.img

# row NAME: the command of that row.
row() {
  case $1 in
    verity) echo "$NB_LAUNCH run $img $common --verity" ;;
    full) echo "$NB_LAUNCH run $img $common --full" ;;
    crun) echo "$B/crun --root $NB_TMP/crun-state run --bundle $bundle nbbench" ;;
    exec) echo "$NB_LAUNCH list --state-dir $NB_TMP/no-state" ;;
    floor) echo "unshare -m -p -i -u -f chroot $bundle/rootfs /bin/busybox true" ;;
  esac
}
rows="verity full crun exec floor"
# Each must work before it is timed (--verity refuses a kernel without
# dm-verity, so that row is the dm-verity mode).
for r in $rows; do
  out=$($(row $r) 2>&1) || { nb_fail "start-$r" "$(row $r): $out"; exit 0; }
done
i=1
while [ $i -le "$rounds" ]; do
  for r in $rows; do
    line=$($B/start_loop "$runs" $(row $r)) || { nb_fail "start-$r" "round $i failed"; exit 0; }
    echo "NESTBOX-BENCH round=$i row=$r $line"
  done
  i=$((i + 1))
done
echo "NESTBOX-BENCH cgroup=$(awk '$2 == "/sys/fs/cgroup" {print $3}' /proc/mounts) controllers=$(cat /sys/fs/cgroup/cgroup.subtree_control | tr ' ' ,)"
for r in $rows; do nb_ok "start-$r"; done
