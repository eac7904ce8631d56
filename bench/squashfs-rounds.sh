#!/usr/bin/env bash
# One container, repeated and interleaved (nestbox, mksquashfs, gensquashfs per
# round) so that load from other jobs on a shared machine hits all three
# alike; prints every wall time and the medians. Same settings as squashfs.sh.
#   usage: bench/squashfs-rounds.sh [NESTBOX_BINARY] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nestbox=${1:-$here/../build/cli/nestbox}
rounds=${2:-3}
corpus=$("$here/squashfs-corpus.sh")
comp=${COMP:-gzip}; level=${LEVEL:-9}; bs=${BS:-131072}; threads=${THREADS:-2}
out=$(mktemp -d /tmp/nestbox-sqfs-rounds.XXXXXX)
trap 'rm -rf "$out"' EXIT
export SOURCE_DATE_EPOCH=1700000000
tar -cf - -C "$corpus" c1 >/dev/null
t() { /usr/bin/time -f "%e" -o "$out/t" "$@" >/dev/null 2>&1; cat "$out/t"; }
declare -a n m g
for ((r = 0; r < rounds; r++)); do
  n+=("$(t "$nestbox" squash --comp "$comp" --level "$level" --block-size "$bs" --threads "$threads" "$corpus/c1" "$out/n.img")")
  m+=("$(t mksquashfs "$corpus/c1" "$out/m.img" -comp "$comp" -Xcompression-level "$level" -b "$bs" \
         -processors "$threads" -noappend -no-progress -quiet -always-use-fragments)")
  g+=("$(t gensquashfs --pack-dir "$corpus/c1" -c "$comp" -X "level=$level" -b "$bs" -j "$threads" -k -x -f -q "$out/g.img")")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "nestbox: ${n[*]} (median $(median "${n[@]}"))"
echo "mksquashfs: ${m[*]} (median $(median "${m[@]}"))"
echo "gensquashfs: ${g[*]} (median $(median "${g[@]}"))"
python3 -c "print(f'nestbox/mksquashfs {$(median "${n[@]}")/$(median "${m[@]}"):.3f}, nestbox/gensquashfs {$(median "${n[@]}")/$(median "${g[@]}"):.3f}')"
