#!/usr/bin/env bash
# Composer II benchmark: nestbox's squashfs writer side by side with
# mksquashfs and gensquashfs in one run, same compressor, level, block size
# and thread count. Prints a markdown table of wall time, peak RSS and image
# size, with ratios. Corpus: bench/squashfs-corpus.sh.
#   usage: bench/squashfs.sh [NESTBOX_BINARY] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nestbox=${1:-$here/../build/cli/nestbox}
out=${2:-/tmp/nestbox-squashfs-bench}
corpus=$("$here/squashfs-corpus.sh")
comp=${COMP:-zstd}; level=${LEVEL:-3}; bs=${BS:-131072}; threads=${THREADS:-2}
rm -rf "$out"; mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000

declare -A secs rss
measure() {  # name shell-command (may use nb, mk, gen)
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$name.time" \
    bash -c "$(declare -f nb mk gen); set -e; $*" >"$out/$name.log" 2>&1
  read -r secs[$name] rss[$name] <"$out/$name.time"
  echo "$name: ${secs[$name]} s, ${rss[$name]} KiB  ($*)" >&2
}
export nestbox comp level bs threads
nb() { "$nestbox" squash --comp "$comp" --level "$level" --block-size "$bs" --threads "$threads" --stats "$@"; }
mk() { mksquashfs "$1" "$2" -comp "$comp" -Xcompression-level "$level" -b "$bs" -processors "$threads" \
         -noappend -no-progress -quiet -always-use-fragments; }
gen() { gensquashfs --pack-dir "$1" -c "$comp" -X "level=$level" -b "$bs" -j "$threads" -k -x -f -q "$2"; }
size() { stat -c %s "$1"; }
ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }

c1=$corpus/c1 c2=$corpus/c2 c3=$corpus/c3
# Warm the page cache so that no tool pays for first reads from disk.
tar -cf - -C "$corpus" c1 c2 c3 >/dev/null
measure nestbox_one nb "$c1" "$out/n1.img"
measure mksquashfs_one mk "$c1" "$out/m1.img"
measure gensquashfs_one gen "$c1" "$out/g1.img"
measure nestbox_three nb "$c1" "$out/n3-1.img" "$c2" "$out/n3-2.img" "$c3" "$out/n3-3.img"
measure mksquashfs_three "mk $c1 $out/m3-1.img; mk $c2 $out/m3-2.img; mk $c3 $out/m3-3.img"
measure nestbox_overlay nb --overlay "$out/base.img" "$c1" "$out/l1.img" "$c2" "$out/l2.img" "$c3" "$out/l3.img"
# Rebuild after touching one file: a hardlinked copy of c1 with one file replaced.
rm -rf "$out/touched" && cp -al "$c1" "$out/touched"
measure nestbox_cold nb --cache "$out/cache" "$out/touched" "$out/cold.img"
f=$out/touched/etc/dnsmasq.conf; [[ -e $f ]] || f=$(find "$out/touched/etc" -type f | sort | head -1)
cp --remove-destination "$f" "$f.new" && echo "# touched" >>"$f.new" && mv "$f.new" "$f"
measure nestbox_warm nb --cache "$out/cache" "$out/touched" "$out/warm.img"

sum3() { echo $(( $(size "$1") + $(size "$2") + $(size "$3") )); }
n3=$(sum3 "$out/n3-1.img" "$out/n3-2.img" "$out/n3-3.img")
m3=$(sum3 "$out/m3-1.img" "$out/m3-2.img" "$out/m3-3.img")
ov=$(( $(size "$out/base.img") + $(sum3 "$out/l1.img" "$out/l2.img" "$out/l3.img") ))
cat <<MD
Corpus: $(du -s --apparent-size -B1M "$c1" | cut -f1) MiB, $(find "$c1" | wc -l) entries (c1); $comp level $level, block size $bs, $threads threads.

| case | nestbox | anchor | time ratio | size ratio | peak RSS nestbox / anchor |
|---|---|---|---|---|---|
| one container vs mksquashfs | ${secs[nestbox_one]} s, $(size "$out/n1.img") B | ${secs[mksquashfs_one]} s, $(size "$out/m1.img") B | $(ratio ${secs[nestbox_one]} ${secs[mksquashfs_one]}) | $(ratio $(size "$out/n1.img") $(size "$out/m1.img")) | ${rss[nestbox_one]} / ${rss[mksquashfs_one]} KiB |
| one container vs gensquashfs | ${secs[nestbox_one]} s | ${secs[gensquashfs_one]} s, $(size "$out/g1.img") B | $(ratio ${secs[nestbox_one]} ${secs[gensquashfs_one]}) | $(ratio $(size "$out/n1.img") $(size "$out/g1.img")) | ${rss[nestbox_one]} / ${rss[gensquashfs_one]} KiB |
| three containers vs 3× mksquashfs | ${secs[nestbox_three]} s, $n3 B | ${secs[mksquashfs_three]} s, $m3 B | $(ratio ${secs[nestbox_three]} ${secs[mksquashfs_three]}) | $(ratio $n3 $m3) | ${rss[nestbox_three]} / ${rss[mksquashfs_three]} KiB |
| three containers, overlay (base + 3 layers) vs 3× mksquashfs | ${secs[nestbox_overlay]} s, $ov B | ${secs[mksquashfs_three]} s, $m3 B | $(ratio ${secs[nestbox_overlay]} ${secs[mksquashfs_three]}) | $(ratio $ov $m3) | ${rss[nestbox_overlay]} KiB |
| rebuild after touching one file: warm cache vs cold | ${secs[nestbox_warm]} s | ${secs[nestbox_cold]} s | $(ratio ${secs[nestbox_warm]} ${secs[nestbox_cold]}) | $(ratio $(size "$out/warm.img") $(size "$out/cold.img")) | ${rss[nestbox_warm]} / ${rss[nestbox_cold]} KiB |

nestbox statistics (--stats):
\`\`\`
$(cat "$out/nestbox_three.log" "$out/nestbox_overlay.log" "$out/nestbox_warm.log")
\`\`\`
MD
