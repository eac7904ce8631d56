# dm-verity, the real thing (issue 15, item 2): on this kernel (device-mapper
# and dm-verity loaded) the default mode mounts a signed image through a
# read-only dm-verity device whose table holds the SIGNED root hash; the
# device goes with the container; a flipped byte in the installed slot is
# refused at read time inside the container (EIO) and the launcher reports
# it, while full mode refuses the slot before mounting; a device left by a
# killed launcher is removed by the next start. Image: images/verity.toml.
. "$NB_LIB"
L=$NB_LAUNCH
img=$NB_IMAGES/verity.img
common="--keyring $NB_KEYRING --compat nbtarget --state-dir $NB_STATE"
dev=nestbox:verity:rootfs

# The signed verity parameters, straight from the image's metadata (covered
# by the signature): the trailer's metadata offset, then docs/image-format.md.
le64() { od -An -tu8 -j "$2" -N 8 "$1" | tr -d ' '; }
hex() { od -An -v -tx1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
size=$(stat -c %s "$img")
moff=$(le64 "$img" $((size - 128 + 24)))
voff=$(le64 "$img" $((moff + 104)))
blocks=$(le64 "$img" $((moff + 216)))
root=$(hex "$img" $((moff + 224)) 32)
salt=$(hex "$img" $((moff + 256)) 32)
hstart=$((voff / 4096 + 1))
echo "signed: verity offset $voff, $blocks data blocks, root $root, salt $salt"

# dm_gone NAME: no dm device of that name in sysfs.
dm_gone() { ! cat /sys/block/dm-*/dm/name 2>/dev/null | grep -qxF "$1"; }
# launch OUT ARGS...: a launcher in the background, its pid in $lpid, waits until running.
launch() {
  _out=$1; shift
  "$L" run "$@" $common > "$_out" 2>&1 &
  lpid=$!
  _i=0
  while [ $_i -lt 150 ]; do
    grep -q verity-up "$_out" && "$L" status verity --state-dir "$NB_STATE" 2>/dev/null | grep -q running && return 0
    kill -0 $lpid 2>/dev/null || break
    sleep 0.2; _i=$((_i + 1))
  done
  echo "launch $*: not running: $(cat "$_out")"
  return 1
}
finish() { "$L" stop verity --state-dir "$NB_STATE" >/dev/null 2>&1; wait $lpid; }

# 1. The default (auto) mode on this kernel: dm-verity with the signed root hash.
if launch "$NB_TMP/v1.out" "$img"; then
  table=$("$L" dm-table verity 2>&1)
  echo "$table"
  want="$dev table: 0 $((blocks * 8)) verity 1 [0-9]+:[0-9]+ [0-9]+:[0-9]+ 4096 4096 $blocks $hstart sha256 $root $salt"
  if printf '%s\n' "$table" | grep -qxE "$want"; then nb_ok verity-table-signed-root; else nb_fail verity-table-signed-root "want '$want', got: $table"; fi
  nb_expect verity-status-valid "$table" "$dev status: 0 $((blocks * 8)) verity V"
  nb_expect verity-read-ok "$(cat "$NB_TMP/v1.out")" "verity-up cat-rc=0"
  # The root is mounted from the dm device: the container's / is /dev/dm-N.
  init=$(cat "$NB_STATE/verity/init")
  src=$(awk '$5 == "/" { for (i = 7; $i != "-"; i++); print $(i + 2) }' "/proc/$init/mountinfo")
  case $src in /dev/dm-*) nb_ok verity-root-on-dm ;; *) nb_fail verity-root-on-dm "root mounted from '$src'" ;; esac
  finish
  out=$(cat "$NB_TMP/v1.out")
  if dm_gone "$dev" && ! "$L" dm-table verity >/dev/null 2>&1; then nb_ok verity-removed-after-stop
  else nb_fail verity-removed-after-stop "device still there: $(cat /sys/block/dm-*/dm/name 2>/dev/null)"; fi
else
  nb_fail verity-table-signed-root "did not start"
fi

# 2. --full forces full mode: no dm device.
if launch "$NB_TMP/v2.out" "$img" --full; then
  if dm_gone "$dev"; then nb_ok verity-full-no-dm; else nb_fail verity-full-no-dm "a dm device in full mode"; fi
  finish
else
  nb_fail verity-full-no-dm "did not start"
fi

# 3. One byte flipped in the installed slot's squashfs, in /a-blob's data:
# its first block is the first data block (offset 96, a zlib stream; the
# marker inflates from there: checked), ~110 KiB long; byte 8192 + 96 is in
# the third 4 KiB block, which no other file uses.
store=$NB_TMP/verity-store
rm -rf "$store"
"$L" install "$img" --store "$store" $common >/dev/null 2>&1 || nb_fail verity-install "install failed"
slot=$store/verity/slot-a.img
# zlib -> gzip (header, no trailer: gunzip complains after the data, which is all we need)
head=$( { printf '\037\213\010\000\000\000\000\000\000\003'; dd if="$slot" bs=1 skip=98 count=65536 2>/dev/null; } |
  gunzip 2>/dev/null | head -c 20)
if [ "$head" != NBX-VERITY-BLOB-MARK ]; then
  nb_fail verity-tamper-eio "the first data block of $slot is not /a-blob's (inflates to '$head')"
else
  off=$((96 + 8192))
  b=$(od -An -tu1 -j $off -N 1 "$slot" | tr -d ' ')
  printf "\\$(printf %03o $((b ^ 1)))" | dd of="$slot" bs=1 seek=$off count=1 conv=notrunc 2>/dev/null
  echo "flipped byte $off (block $((off / 4096))) of $slot: $b -> $(od -An -tu1 -j $off -N 1 "$slot" | tr -d ' ')"
  # Full mode hashes every byte: refused before anything is mounted.
  full=$("$L" run verity --full --store "$store" $common 2>&1)
  case $full in *"squashfs: sha256 mismatch"*) nb_ok verity-tamper-full-refused ;;
    *) nb_fail verity-tamper-full-refused "$full" ;; esac
  # Verity mode reads no payload byte before mounting: it starts, and the
  # read of the flipped block fails inside the container.
  if launch "$NB_TMP/v3.out" verity --store "$store"; then
    nb_expect verity-tamper-eio "$(cat "$NB_TMP/v3.out")" "cat: read error: Input/output error"
    nb_expect verity-tamper-cat-fails "$(cat "$NB_TMP/v3.out")" "verity-up cat-rc=1"
    st=$("$L" dm-table verity 2>&1)
    nb_expect verity-tamper-status "$st" "$dev status: 0 $((blocks * 8)) verity C"
    finish; rc=$?
    out=$(cat "$NB_TMP/v3.out")
    echo "$out"
    case $out in *"dm-verity refused corrupted blocks of $slot"*) nb_ok verity-tamper-reported ;;
      *) nb_fail verity-tamper-reported "rc $rc: $out" ;; esac
    if dm_gone "$dev"; then nb_ok verity-tamper-removed; else nb_fail verity-tamper-removed "device left"; fi
  else
    nb_fail verity-tamper-eio "did not start"
  fi
fi
rm -rf "$store"

# 4. A launcher killed (SIGKILL: no destructor) leaves its dm device; the next
# start of the same container removes it and sets up a fresh one.
if launch "$NB_TMP/v4.out" "$img" --verity; then
  kill -9 "$(cat "$NB_STATE/verity/pid")"
  wait $lpid 2>/dev/null
  if dm_gone "$dev"; then nb_fail verity-stale-left "no device after SIGKILL (test proves nothing)"; else nb_ok verity-stale-left; fi
  if launch "$NB_TMP/v5.out" "$img" --verity; then
    t=$("$L" dm-table verity 2>&1)
    nb_expect verity-stale-replaced "$t" "$dev status: 0 $((blocks * 8)) verity V"
    n=$(cat /sys/block/dm-*/dm/name 2>/dev/null | grep -cxF "$dev")
    [ "$n" = 1 ] && nb_ok verity-stale-one-device || nb_fail verity-stale-one-device "$n devices named $dev"
    finish
    if dm_gone "$dev"; then nb_ok verity-stale-removed; else nb_fail verity-stale-removed "device left"; fi
  else
    nb_fail verity-stale-replaced "second start failed: $(cat "$NB_TMP/v5.out")"
  fi
else
  nb_fail verity-stale-left "did not start: $(cat "$NB_TMP/v4.out")"
fi
exit 0
