#!/usr/bin/env bash
# `nestbox compose` against the anchors, in interleaved rounds so that load
# from other jobs on a shared machine hits every tool alike; prints each wall
# time, the medians and the ratios as a markdown table.
#   one container:    nestbox compose c1    vs mksquashfs, gensquashfs, tar2sqfs
#   three containers: nestbox compose c1 c2 c3 (squashfs strategy, one image
#                     each)               vs three mksquashfs runs
# Same compressor, level, block size and thread count for every tool; the
# corpus is bench/squashfs-corpus.sh's (c2 and c3 overlap c1). OLD=PATH adds
# the same two nestbox rows for another build (before/after a change).
#   usage: [COMP=lz4] [LEVEL=N] [ROUNDS=5] [OLD=nestbox] bench/compose-rounds.sh [NESTBOX_BINARY]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nestbox=$(realpath "${1:-$here/../build/cli/nestbox}")
old=${OLD:+$(realpath "$OLD")}
rounds=${ROUNDS:-5}
comp=${COMP:-lz4}; level=${LEVEL-}; [[ $comp == lz4 ]] && level=
bs=${BS:-131072}; threads=${THREADS:-2}
corpus=$("$here/squashfs-corpus.sh")
out=$(mktemp -d /tmp/nestbox-compose-rounds.XXXXXX)
trap 'rm -rf "$out"' EXIT
export SOURCE_DATE_EPOCH=1700000000
. "$here/bench_manifest.sh"
for i in 1 2 3; do bench_manifest "$out/c$i.toml" "c$i" "$corpus/c$i" squashfs; done
tar -cf "$out/c1.tar" -C "$corpus/c1" .  # tar2sqfs reads a tarball; page cache warm for all
cat "$out/c1.tar" >/dev/null

nb() { local bin=$1 dir=$2; shift 2; rm -rf "$out/$dir"
  "$bin" compose --comp "$comp" ${level:+--level "$level"} --block-size "$bs" --threads "$threads" --out "$out/$dir" "$@"; }
mk() { mksquashfs "$1" "$2" -comp "$comp" ${level:+-Xcompression-level "$level"} -b "$bs" -processors "$threads" \
         -noappend -no-progress -quiet -always-use-fragments; }
gen() { gensquashfs --pack-dir "$1" -c "$comp" ${level:+-X "level=$level"} -b "$bs" -j "$threads" -k -x -f -q "$2"; }
t2s() { tar2sqfs -c "$comp" ${level:+-X "level=$level"} -b "$bs" -j "$threads" -k -x -f -q "$2" <"$1"; }
mk3() { for i in 1 2 3; do mk "$corpus/c$i" "$out/m3-$i.img"; done; }

export out corpus comp level bs threads
declare -A times rss
run() {  # name command... (a function above)
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/t" bash -c "$(declare -f nb mk gen t2s mk3); set -e; $*" \
    >/dev/null 2>"$out/err" || { cat "$out/err" >&2; exit 1; }
  read -r s m <"$out/t"
  times[$name]+="$s "; rss[$name]=$m
}
names=(nestbox_one mksquashfs_one gensquashfs_one tar2sqfs_one nestbox_three mksquashfs_three)
[[ -n $old ]] && names+=(old_one old_three)
for ((r = 0; r < rounds; r++)); do
  run nestbox_one nb "$nestbox" one "$out/c1.toml"
  [[ -n $old ]] && run old_one nb "$old" old1 "$out/c1.toml"
  run mksquashfs_one mk "$corpus/c1" "$out/m1.img"
  run gensquashfs_one gen "$corpus/c1" "$out/g1.img"
  run tar2sqfs_one t2s "$out/c1.tar" "$out/t1.img"
  run nestbox_three nb "$nestbox" three "$out/c1.toml" "$out/c2.toml" "$out/c3.toml"
  [[ -n $old ]] && run old_three nb "$old" old3 "$out/c1.toml" "$out/c2.toml" "$out/c3.toml"
  run mksquashfs_three mk3
done
median() { printf '%s\n' $1 | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A med
for n in "${names[@]}"; do med[$n]=$(median "${times[$n]}"); done
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
fastest=$(printf '%s\n' "${med[mksquashfs_one]}" "${med[gensquashfs_one]}" "${med[tar2sqfs_one]}" | sort -g | head -1)
size() { stat -c %s "$1"; }
n3=$(( $(size "$out/three/c1.sqfs") + $(size "$out/three/c2.sqfs") + $(size "$out/three/c3.sqfs") ))
m3=$(( $(size "$out/m3-1.img") + $(size "$out/m3-2.img") + $(size "$out/m3-3.img") ))
echo "$comp${level:+ level $level}, block size $bs, $threads threads, $rounds interleaved rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | wall times (s) | median | ratio | peak RSS (KiB) |"
echo "|---|---|---:|---|---:|"
for n in nestbox_one ${old:+old_one} mksquashfs_one gensquashfs_one tar2sqfs_one; do
  echo "| $n | ${times[$n]}| ${med[$n]} | $(ratio "${med[$n]}" "$fastest") × fastest one-image anchor | ${rss[$n]} |"
done
for n in nestbox_three ${old:+old_three} mksquashfs_three; do
  echo "| $n | ${times[$n]}| ${med[$n]} | $(ratio "${med[$n]}" "${med[mksquashfs_three]}") × three mksquashfs | ${rss[$n]} |"
done
echo
echo "Sizes: one image nestbox $(size "$out/one/c1.sqfs") B, mksquashfs $(size "$out/m1.img") B, gensquashfs $(size "$out/g1.img") B, tar2sqfs $(size "$out/t1.img") B; three images nestbox $n3 B, mksquashfs $m3 B."
