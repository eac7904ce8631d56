#!/bin/busybox sh
# Stage 2 of the target VM's init, in the switch_root'ed tmpfs: mounts,
# ONLY the unified cgroup hierarchy with every controller enabled for its
# children, the modules, then every case in /nestbox/cases in order; prints
# NESTBOX-RESULT and powers off. Output goes to the serial console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "nestbox-guest: cannot enable $c"
done
. /nestbox/env
export NB_ARCH NB_KERNEL
echo "nestbox-guest: $NB_ARCH kernel $(uname -r), cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.subtree_control)"
for m in $(cat /nestbox/modules); do
  insmod "/lib/modules/$m" || echo "nestbox-guest: insmod $m failed"
done
ip link set lo up
# Kernel messages (an OOM kill's report) must not split a NESTBOX- line on the
# console: only emergencies (a panic) reach it from here on.
echo 1 > /proc/sys/kernel/printk
export NB_LAUNCH=/nestbox/nestbox-launch NB_IMAGES=/nestbox/images NB_KEYRING=/nestbox/keys
export NB_STATE=/run/nestbox NB_TMP=/tmp/nestbox-cases NB_LIB=/nestbox/lib.sh
mkdir -p "$NB_STATE" "$NB_TMP"
echo "nestbox-guest: up after $(cut -d' ' -f1 /proc/uptime) s"
pass=0 total=0
for c in /nestbox/cases/*.sh; do
  name=$(basename "$c" .sh)
  start=$(cut -d' ' -f1 /proc/uptime)
  # A case's own lines go to the console; a case that exits non-zero or
  # reports nothing counts as a failure of its own.
  timeout "${NB_CASE_TIMEOUT:-300}" sh "$c" > "$NB_TMP/$name.log" 2>&1
  rc=$?
  # Only this script reports the result: a case's own line that looks like one is defused.
  sed 's/^NESTBOX-RESULT/(case output) NESTBOX-RESULT/' "$NB_TMP/$name.log"
  ok=$(grep -c '^NESTBOX-CASE [^ ]* ok$' "$NB_TMP/$name.log")
  bad=$(grep -c '^NESTBOX-CASE [^ ]* FAIL' "$NB_TMP/$name.log")
  if [ "$rc" != 0 ] || [ $((ok + bad)) = 0 ]; then
    echo "NESTBOX-CASE $name FAIL exit status $rc, $ok ok, $bad failed"
    bad=$((bad + 1))
  fi
  pass=$((pass + ok)); total=$((total + ok + bad))
  echo "nestbox-guest: $name took $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN{printf "%.1f", b-a}') s"
done
if [ "$pass" = "$total" ] && [ "$total" != 0 ]; then r=ok; else r=FAIL; fi
echo "NESTBOX-RESULT $r $pass/$total after $(cut -d' ' -f1 /proc/uptime) s"
sync
poweroff -f
