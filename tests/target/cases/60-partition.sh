# A storage partition found by its GPT label on a real kernel: the guest has
# no udev (as OpenWrt), so sysfs's PARTNAME names the device; a second block
# device carrying the same label (a USB stick plugged in with the NAS data
# partition's name) makes the start refuse instead of mounting either.
. "$NB_LIB"
cp /nestbox/disks/labelled.img "$NB_TMP/a.img"
cp /nestbox/disks/labelled.img "$NB_TMP/b.img"
la=$(losetup -f) && losetup -P "$la" "$NB_TMP/a.img"
pa=$(basename "$la")p1
i=0; while [ ! -b "/dev/$pa" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
if grep -qx PARTNAME=nb-data "/sys/class/block/$pa/uevent" 2>/dev/null; then nb_ok partition-label-in-sysfs
else nb_fail partition-label-in-sysfs "no $pa labelled nb-data: $(ls /sys/class/block)"; fi

out=$(nb_run partition 2>&1); rc=$?
echo "$out"
if [ $rc = 0 ] && printf '%s\n' "$out" | grep -qx lost+found && printf '%s\n' "$out" | grep -qx ext4; then
  nb_ok partition-by-label-mounted
else nb_fail partition-by-label-mounted "exit $rc: $out"; fi

lb=$(losetup -f) && losetup -P "$lb" "$NB_TMP/b.img"
pb=$(basename "$lb")p1
i=0; while [ ! -b "/dev/$pb" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
out=$(nb_run partition 2>&1); rc=$?
echo "$out"
if [ $rc != 0 ] && printf '%s\n' "$out" | grep -q "partition 'nb-data' is named by 2 block devices" \
   && ! printf '%s\n' "$out" | grep -qx lost+found; then
  nb_ok partition-label-twice-refused
else nb_fail partition-label-twice-refused "exit $rc: $out"; fi

losetup -d "$lb"; losetup -d "$la"
rm -f "$NB_TMP/a.img" "$NB_TMP/b.img"
